"""The run-folder contract: paths, the not-a-run refusal, code sets checked against their model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.artifacts import atomic_write_json
from neuralcodes.config import ModelConfig, RunConfig
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.model import create_model, save_model
from neuralcodes.runs import (
    RunDir,
    best_layer,
    extra_code_sets,
    latest_run,
    load_code_set,
    load_code_sets,
    load_config,
    model_hash,
    require_model,
    save_code_sets,
    save_config,
    save_extra_code_sets,
)


@pytest.fixture
def run(tmp_path: Path) -> RunDir:
    """A run folder with a config and a tiny model (no data)."""
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    save_config(run, RunConfig())
    cfg = ModelConfig(width=0.0625, num_classes=3)
    save_model(run.model, create_model(cfg), cfg)
    return run


def _hash(run: RunDir) -> str:
    return model_hash(run)


def test_paths() -> None:
    run = RunDir(Path("r"))
    assert run.code_file("ood_L6") == Path("r/codes/ood_L6.npy")
    assert run.relative(run.figure("pca")) == "figures/pca.png"
    assert run.report == (Path("r/report.md"), Path("r/report.html"))


def test_a_folder_that_is_not_a_run_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a neuralcodes run folder"):
        load_config(RunDir(tmp_path))
    with pytest.raises(DataError, match="no model.pt in this run folder"):
        require_model(tmp_path)


def test_code_sets_round_trip_and_are_checked(run: RunDir) -> None:
    codes = np.eye(3, 4, dtype=np.float32)  # (3, 4)
    manifest = save_code_sets(run, {"ood_L6": codes}, np.array([0, 1, 1]), _hash(run), extra=1)
    assert manifest["sets"] == {"ood_L6": [3, 4]} and manifest["extra"] == 1
    sets, labels = load_code_sets(run)
    np.testing.assert_array_equal(sets["ood_L6"], codes)
    assert labels.dtype == np.int64 and labels.tolist() == [0, 1, 1]
    np.testing.assert_array_equal(load_code_set(run, "ood_L6", _hash(run)), codes)
    with pytest.raises(ArtifactMismatchError, match="model_hash"):
        load_code_set(run, "ood_L6", "0" * 16)
    with pytest.raises(DataError, match="missing"):
        load_code_set(run, "test_L6", _hash(run))


def test_extra_sets_have_their_own_listing(run: RunDir) -> None:
    h = _hash(run)
    save_code_sets(run, {"ood_L6": np.zeros((2, 2), np.float32)}, np.array([0, 1]), h)
    save_extra_code_sets(run, {"ood_conv4-mac": np.ones((2, 3), np.float32)}, {"conv4-mac"}, h)
    assert extra_code_sets(run, h) == {"conv4-mac"} and extra_code_sets(run, "other") == set()
    assert load_code_set(run, "ood_conv4-mac", h).shape == (2, 3)
    atomic_write_json(run.codes_extra, {"model_hash": "0" * 16, "sets": ["conv4-mac"]})
    with pytest.raises(ArtifactMismatchError):
        load_code_set(run, "ood_conv4-mac", h)


def test_latest_run_and_best_layer(tmp_path: Path, run: RunDir) -> None:
    older = RunDir(tmp_path / "older")
    older.root.mkdir()
    older.model.write_bytes(run.model.read_bytes())
    os.utime(older.model, (1, 1))
    assert latest_run(tmp_path) == run.root
    assert best_layer(run, ("L5", "L6", "L7")) == "L6"  # no metrics: the paper's best
    atomic_write_json(run.metrics, {"retrieval": {"L5": {"map": 0.5}, "L7": {"map": 0.25}}})
    assert best_layer(run, ("L5", "L6", "L7")) == "L5"
