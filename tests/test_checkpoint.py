"""What training writes every epoch: the history files, and a checkpoint that resumes exactly or
is refused with the settings that differ."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from neuralcodes.checkpoint import (
    HISTORY_COLUMNS,
    History,
    TrainState,
    load_checkpoint,
    save_checkpoint,
    write_history,
)
from neuralcodes.device import grad_scaler
from neuralcodes.early_stopping import EarlyStopping
from neuralcodes.errors import ArtifactMismatchError, DataError

EXPECTED: dict[str, Any] = {"train_config": {"lr": 1e-4, "epochs": 3, "device": "cpu"},
                            "model_config": {"width": 1.0}, "data": {"train": [10, 4, 4, 3]}}


def _record(epoch: int, val_loss: float) -> dict[str, float]:
    return {**dict.fromkeys(HISTORY_COLUMNS, 0.5), "epoch": epoch, "val_loss": val_loss}


def test_history_files_hold_every_epoch_in_the_documented_columns(tmp_path: Path) -> None:
    history = History([_record(1, 2.0), {**_record(2, 1.5), "extra": 9.0}], True, 2)
    assert len(history) == 2 and history.column("val_loss") == [2.0, 1.5]
    write_history(tmp_path, history)
    blob = json.loads((tmp_path / "history.json").read_text())
    assert blob["artifact"] == "history" and blob["epochs"] == history.records
    assert (blob["stopped_early"], blob["best_epoch"]) == (True, 2)
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == HISTORY_COLUMNS and [r["epoch"] for r in rows] == ["1", "2"]


def _state(model: torch.nn.Module, seed: int = 0) -> TrainState:
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, amsgrad=True)
    return TrainState(optimizer, None, grad_scaler("fp32", torch.device("cpu")),
                      EarlyStopping(patience=2), np.random.default_rng(seed),
                      np.random.default_rng([seed, 1]))


def _train_a_step(model: torch.nn.Module, state: TrainState) -> None:
    state.optimizer.zero_grad()
    model(torch.rand(4, 3)).square().sum().backward()
    state.optimizer.step()


def test_a_restored_state_continues_exactly(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    state = _state(model)
    _train_a_step(model, state)
    state.epoch, state.history = 1, History([_record(1, 2.0)], False, 1)
    state.stopper.step(1, 2.0)
    save_checkpoint(tmp_path / "checkpoint.pt", state.snapshot(model, EXPECTED))
    other_model = torch.nn.Linear(3, 2)
    other = _state(other_model, seed=5)
    other.restore(other_model, load_checkpoint(tmp_path / "checkpoint.pt", EXPECTED))
    assert other.epoch == 1 and other.history.records == state.history.records
    assert other.stopper.state_dict() == state.stopper.state_dict()
    for a, b in ((state, other), (other, state)):  # the same next draws and the same next step
        assert a.shuffle_rng.permutation(5).tolist() == b.shuffle_rng.permutation(5).tolist()
    assert state.augment_rng.random() == other.augment_rng.random()
    torch.manual_seed(1)
    other.restore(other_model, load_checkpoint(tmp_path / "checkpoint.pt", EXPECTED))
    _train_a_step(other_model, other)  # torch's generator is back where the snapshot left it
    torch.set_rng_state(torch.load(tmp_path / "checkpoint.pt", weights_only=True)["rng"]["torch"])
    _train_a_step(model, state)
    for a, b in zip(model.parameters(), other_model.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_checkpoints_of_other_settings_or_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.pt"
    with pytest.raises(DataError, match="no checkpoint to resume from"):
        load_checkpoint(path, EXPECTED)
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.raises(DataError, match="not a neuralcodes checkpoint of format 1"):
        load_checkpoint(path, EXPECTED)
    path.write_bytes(b"truncated")
    with pytest.raises(DataError, match="not a neuralcodes checkpoint"):
        load_checkpoint(path, EXPECTED)
    save_checkpoint(path, {**EXPECTED, "epoch": 1})
    longer = {**EXPECTED, "train_config": {"lr": 1e-4, "epochs": 9, "device": "cuda"}}
    assert load_checkpoint(path, longer)["epoch"] == 1  # epochs and device may change
    other = {**EXPECTED, "train_config": {"lr": 1e-3, "epochs": 3, "device": "cpu"},
             "data": {"train": [11, 4, 4, 3]}}
    with pytest.raises(ArtifactMismatchError,
                       match=r"train_config\.lr: checkpoint has 0\.0001, now 0\.001; "
                             r"data\.train: checkpoint has \[10, 4, 4, 3\]"):
        load_checkpoint(path, other)
