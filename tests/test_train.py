"""The training loop: files per epoch, early stopping, exact resume, recipes, best or last
weights, and the notebook's protocol: reshuffled batches, cross-entropy of the logits, Adam 1e-4
with AMSGrad."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neuralcodes.train as train_mod
from neuralcodes.checkpoint import HISTORY_COLUMNS, TrainState
from neuralcodes.config import ModelConfig, TrainConfig
from neuralcodes.device import grad_scaler
from neuralcodes.early_stopping import EarlyStopping
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.evaluate import batch_metrics
from neuralcodes.model import create_model, load_model, model_hash
from neuralcodes.progress import Recorder
from neuralcodes.recipes import apply_recipe
from neuralcodes.train import TrainData, train

MODEL = ModelConfig(num_classes=4, width=1 / 16)
FAST = TrainConfig(epochs=2, batch_size=8, lr=1e-3, device="cpu", patience=10, num_threads=1)


@pytest.fixture(scope="module")
def data() -> TrainData:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (36, 64, 64, 3), dtype=np.uint8)
    y = rng.integers(0, 4, 36).astype(np.int64)
    return TrainData(x[:28], y[:28], x[28:], y[28:])


def _model(cfg: ModelConfig = MODEL) -> torch.nn.Module:
    torch.manual_seed(0)
    return create_model(cfg)


def test_two_epochs_write_history_checkpoint_and_model(data: TrainData, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.concatenate([data.x_train, data.x_val]))
    pixels = np.load(tmp_path / "x.npy", mmap_mode="r")  # training reads memory maps
    mapped = TrainData(pixels[:28], data.y_train, pixels[28:], data.y_val)
    model, progress = _model(), Recorder()
    history = train(model, mapped, FAST, tmp_path, progress=progress)
    assert len(history) == 2 and history.column("epoch") == [1, 2] and not history.stopped_early
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == HISTORY_COLUMNS and len(rows) == 2
    assert float(rows[1]["val_loss"]) == pytest.approx(history.records[1]["val_loss"])
    assert json.loads((tmp_path / "history.json").read_text())["epochs"] == history.records
    for record in history.records:
        assert 0 <= record["accuracy"] <= 1 and 0 <= record["val_top5"] <= 1
        assert 0 <= record["data_wait_fraction"] <= 1 and record["seconds"] > 0
    assert [m.split(":")[0] for m in progress.messages] == ["epoch 1/2", "epoch 2/2"]
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.header["model_hash"] == model_hash(model)
    assert loaded.extra["epoch"] == 2 and loaded.extra["train_config"]["batch_size"] == 8
    assert (tmp_path / "checkpoint.pt").is_file()


def test_patience_zero_stops_at_the_first_epoch_that_does_not_improve(
    data: TrainData, tmp_path: Path
) -> None:
    cfg = TrainConfig(epochs=5, batch_size=14, lr=0.0, device="cpu", patience=0, num_threads=1)
    history = train(_model(), data, cfg, tmp_path)  # lr 0: the same val_loss every epoch
    assert len(history) == 2 and history.stopped_early and history.best_epoch == 1
    assert history.records[0]["val_loss"] == history.records[1]["val_loss"]


class _Interrupt(Exception):
    pass


class _StopAfterFirstEpoch(Recorder):
    def log(self, message: str) -> None:
        raise _Interrupt(message)  # the first log comes after epoch 1's checkpoint


@pytest.mark.parametrize("recipe", ["notebook", "improved"])
def test_resume_continues_exactly_where_training_stopped(
    data: TrainData, tmp_path: Path, recipe: str
) -> None:
    cfg, model_cfg = apply_recipe(recipe, FAST, MODEL)
    straight = _model(model_cfg)
    expected = train(straight, data, cfg, tmp_path / "straight")
    with pytest.raises(_Interrupt, match="epoch 1/2"):
        train(_model(model_cfg), data, cfg, tmp_path / "resumed", progress=_StopAfterFirstEpoch())
    torch.manual_seed(123)  # resuming must not depend on the caller's RNG state
    resumed_model = create_model(model_cfg)
    resumed = train(resumed_model, data, cfg, tmp_path / "resumed", resume=True)
    keys = ("loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5")
    for got, want in zip(resumed.records, expected.records, strict=True):
        assert [got[k] for k in keys] == pytest.approx([want[k] for k in keys], abs=1e-6)
    for (name, a), b in zip(resumed_model.state_dict().items(), straight.state_dict().values(),
                            strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)


def test_resume_refuses_other_settings_or_a_missing_checkpoint(
    data: TrainData, tmp_path: Path
) -> None:
    with pytest.raises(DataError, match="no checkpoint"):
        train(_model(), data, FAST, tmp_path, resume=True)
    train(_model(), data, FAST, tmp_path)
    with pytest.raises(ArtifactMismatchError, match=r"checkpoint.pt.*train_config\.lr"):
        train(_model(), data, TrainConfig(**{**FAST.__dict__, "lr": 5e-4}), tmp_path, resume=True)
    with pytest.raises(ArtifactMismatchError, match=r"model_config\.width"):
        train(_model(ModelConfig(num_classes=4, width=1 / 8)), data, FAST, tmp_path, resume=True)
    longer = TrainConfig(**{**FAST.__dict__, "epochs": 3})
    assert len(train(_model(), data, longer, tmp_path, resume=True)) == 3  # more epochs: fine


def test_restore_best_keeps_the_weights_of_the_best_epoch(data: TrainData, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=4, batch_size=7, lr=1e-2, device="cpu", patience=10,
                      restore_best=True, num_threads=1)
    model = _model()
    history = train(model, data, cfg, tmp_path / "best")
    assert history.best_epoch < len(history)  # this seed's val_loss rises at the end
    last = train(_model(), data, TrainConfig(**{**cfg.__dict__, "restore_best": False}),
                 tmp_path / "last")
    assert last.column("val_loss") == pytest.approx(history.column("val_loss"))
    checkpoint: dict[str, Any] = torch.load(tmp_path / "best" / "checkpoint.pt", weights_only=True)
    best = {k: v for k, v in checkpoint["best_state"].items()}
    assert model_hash(model) == model_hash(_with_state(best))
    assert load_model(tmp_path / "last" / "model.pt").header["model_hash"] != model_hash(model)


def _with_state(state: dict[str, torch.Tensor]) -> torch.nn.Module:
    model = _model()
    model.load_state_dict(state)
    return model


def test_bad_training_data_and_models_are_refused(data: TrainData, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="train images must be uint8"):
        TrainData(data.x_train.astype(np.float32), data.y_train, data.x_val, data.y_val)
    with pytest.raises(ConfigError, match="val: 8 images but 3 labels"):
        TrainData(data.x_train, data.y_train, data.x_val, data.y_val[:3])
    with pytest.raises(ConfigError, match="create_model"):
        train(torch.nn.Linear(2, 2), data, FAST, tmp_path)


def test_the_final_model_is_the_last_epochs_by_default(data: TrainData, tmp_path: Path) -> None:
    """Keras keeps the last epoch's weights, not the best epoch's (``restore_best`` is off)."""
    cfg = TrainConfig(epochs=4, batch_size=7, lr=1e-2, device="cpu", patience=10, num_threads=1)
    model = _model()
    history = train(model, data, cfg, tmp_path)
    assert history.best_epoch < len(history) == 4  # this seed's val_loss rises at the end
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)  # the last epoch's
    assert checkpoint["epoch"] == 4 and checkpoint["best_state"] is None
    saved = load_model(tmp_path / "model.pt")
    assert saved.header["model_hash"] == model_hash(_with_state(checkpoint["model"]))
    assert saved.header["model_hash"] == model_hash(model)
    assert saved.extra["epoch"] == 4 and saved.extra["best_epoch"] == history.best_epoch


def _training_batches(model: torch.nn.Module, data: TrainData) -> list[list[int]]:
    """Record the training rows of every batch ``model`` is fed (validation passes are skipped)."""
    rows = {bytes(img): i for i, img in enumerate(data.x_train)}  # (H, W, 3) bytes -> row
    batches: list[list[int]] = []

    def record(module: torch.nn.Module, args: tuple[torch.Tensor, ...]) -> None:
        if module.training:
            pixels = (args[0] * 255).round().to(torch.uint8).permute(0, 2, 3, 1)  # (B, H, W, 3)
            batches.append([rows[bytes(img.contiguous().numpy())] for img in pixels])

    model.conv1.register_forward_pre_hook(record)
    return batches


def test_every_epoch_reshuffles_the_training_set(data: TrainData, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=3, batch_size=7, lr=1e-3, device="cpu", patience=10, num_threads=1)
    model = _model()
    batches = _training_batches(model, data)
    train(model, data, cfg, tmp_path)
    assert len(batches) == 3 * 4 and all(len(b) == 7 for b in batches)  # 28 images, batch 7
    epochs = [batches[i : i + 4] for i in range(0, 12, 4)]
    for epoch in epochs:
        assert sorted(sum(epoch, [])) == list(range(28))  # every image once per epoch
    partitions = [{frozenset(b) for b in epoch} for epoch in epochs]
    assert partitions[0] != {frozenset(range(i, i + 7)) for i in range(0, 28, 7)}  # shuffled
    assert len({frozenset(p) for p in partitions}) == 3  # and differently every epoch


def test_a_step_descends_the_mean_cross_entropy_of_the_logits() -> None:
    """With plain SGD at rate 1 the step subtracts the gradient of the batch-mean cross-entropy
    of the logits (not of a softmax); ``loss_scale`` (DDP) turns it into a scaled batch sum."""
    torch.manual_seed(0)
    model = create_model(ModelConfig(num_classes=4, width=1 / 16, dropout=0.0))
    x, y = torch.rand(6, 3, 64, 64), torch.tensor([0, 1, 2, 3, 0, 1])
    for scale, factor in ((None, 1.0), (2 / 6, 2.0)):
        reference = create_model(model.config)
        reference.load_state_dict(model.state_dict())
        F.cross_entropy(reference(x), y).backward()
        state = TrainState(torch.optim.SGD(model.parameters(), lr=1.0), None,
                           grad_scaler("fp32", torch.device("cpu")), EarlyStopping(),
                           np.random.default_rng(0), np.random.default_rng(1))
        with torch.no_grad():
            want_sums = batch_metrics(model(x), y)
        sums = train_mod._step(model, x, y, state, "fp32", torch.device("cpu"), scale)
        torch.testing.assert_close(sums, want_sums)
        for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
            assert q.grad is not None
            torch.testing.assert_close(p, q - factor * q.grad, msg=name)
        model.load_state_dict(reference.state_dict())


def test_default_optimizer_is_adam_with_amsgrad_at_1e_4(data: TrainData, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=1, batch_size=14, device="cpu", num_threads=1)  # the default lr
    train(_model(), data, cfg, tmp_path)
    group = torch.load(tmp_path / "checkpoint.pt", weights_only=True)["optimizer"]["param_groups"]
    assert len(group) == 1
    assert {k: group[0][k] for k in ("lr", "amsgrad", "eps", "weight_decay")} == {
        "lr": 1e-4, "amsgrad": True, "eps": 1e-7, "weight_decay": 0.0}
    assert tuple(group[0]["betas"]) == (0.9, 0.999) and not group[0]["decoupled_weight_decay"]


def test_train_passes_compile_through(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[bool] = []

    def fake_compile(model: torch.nn.Module, enabled: bool) -> torch.nn.Module:
        seen.append(enabled)
        return model

    monkeypatch.setattr(train_mod, "maybe_compile", fake_compile)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (12, 64, 64, 3), dtype=np.uint8)
    y = rng.integers(0, 3, 12).astype(np.int64)
    cfg = TrainConfig(epochs=1, batch_size=6, device="cpu", num_threads=1)
    model = create_model(ModelConfig(num_classes=3, width=1 / 32))
    history = train(model, TrainData(x[:8], y[:8], x[8:], y[8:]), cfg, tmp_path, compile=True)
    assert seen == [True] and 0.0 <= history.records[0]["data_wait_fraction"] < 1.0
