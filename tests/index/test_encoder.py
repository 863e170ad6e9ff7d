from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.encoder import Encoder
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.runs import RunDir, best_layer

LAYERS = ("conv1", "L5", "L6", "L7", "logits")


def test_best_layer_from_metrics(tmp_path: Path) -> None:
    metrics = {"retrieval": {"L5": {"map": 0.3}, "L7": {"map": 0.5}, "L6": {"map": 0.4},
                             "pixels": {"map": 0.9}, "untrained L7": {"map": 0.95}}}
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert best_layer(RunDir(tmp_path), LAYERS) == "L7"


@pytest.mark.parametrize("content", [None, "not json", '{"retrieval": 3}', '{"other": {}}'])
def test_best_layer_falls_back_to_l6(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / "metrics.json").write_text(content)
    assert best_layer(RunDir(tmp_path), LAYERS) == "L6"


def test_encode_shapes_and_norms(run_dir: Path) -> None:
    enc = Encoder.from_run(run_dir, device="cpu", batch_size=3)
    assert enc.layer == "L6" and enc.image_size == 64 and enc.dim == 128
    images = np.random.default_rng(0).integers(0, 256, (7, 64, 64, 3), dtype=np.uint8)
    codes = enc.encode(images)
    assert codes.shape == (7, 128) and codes.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(enc.encode(images[2:3]), codes[2:3], rtol=1e-5, atol=1e-6)


def test_encode_refuses_wrong_shape(run_dir: Path) -> None:
    enc = Encoder.from_run(run_dir, device="cpu")
    with pytest.raises(ConfigError, match=r"\(N, 64, 64, 3\)"):
        enc.encode(np.zeros((2, 32, 32, 3), np.uint8))


def test_pickle_rebuilds_from_settings(run_dir: Path) -> None:
    enc = Encoder.from_run(run_dir, layer="L7", device="cpu")
    images = np.random.default_rng(1).integers(0, 256, (2, 64, 64, 3), dtype=np.uint8)
    expected = enc.encode(images)
    clone = pickle.loads(pickle.dumps(enc))
    assert clone._backbone is None and clone.layer == "L7"  # the network is not pickled
    np.testing.assert_allclose(clone.encode(images), expected, rtol=1e-5, atol=1e-6)
    assert clone.fingerprint() == enc.fingerprint()


def test_fingerprint(run_dir: Path, other_run: Path) -> None:
    fp = Encoder.from_run(run_dir, device="cpu").fingerprint()
    assert fp["layer"] == "L6" and fp["image_size"] == 64 and fp["code_dim"] == 128
    assert fp["model_name"] == "notebook" and len(fp["model_hash"]) == 16
    assert Encoder.from_run(other_run, device="cpu").fingerprint()["model_hash"] != fp["model_hash"]


def test_unknown_layer_and_missing_model(run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown layer 'L9'"):
        Encoder.from_run(run_dir, layer="L9")
    with pytest.raises(DataError, match="no model.pt"):
        Encoder.from_run(tmp_path)


def test_default_run_is_the_newest(run_dir: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "runs" / "old").mkdir(parents=True)
    shutil.copytree(run_dir, tmp_path / "runs" / "new")
    shutil.copy(run_dir / "model.pt", tmp_path / "runs" / "old" / "model.pt")
    os.utime(tmp_path / "runs" / "old" / "model.pt", (1, 1))
    monkeypatch.chdir(tmp_path)
    assert Encoder.from_run(device="cpu").run_dir == (tmp_path / "runs" / "new").resolve()
