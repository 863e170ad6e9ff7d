"""The safetensors export: settings, metadata, round trip, and refusal of changed files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from neuralcodes.codes import extract_codes
from neuralcodes.config import ModelConfig, to_dict
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.export import (
    ExportConfig,
    MissingExtraError,
    export_run,
    load_safetensors,
    read_safetensors,
    require_export_extra,
)
from neuralcodes.export import extra as extra_module
from neuralcodes.export.metadata import metadata_digest
from neuralcodes.model import load_model

from .helpers import CLASS_NAMES, TINY, make_images

SAFETENSORS = ExportConfig(format="safetensors")


@pytest.fixture(scope="module")
def exported(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("st") / "tiny.safetensors"
    assert export_run(tiny_run, SAFETENSORS, out).path == out
    return out


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"format": "pickle"}, "unknown export format 'pickle'"),
    ({"format": "onnx", "layers": ()}, "at least one"),
    ({"format": "onnx", "layers": ("L6", "L6")}, "distinct"),
    ({"format": "onnx", "layers": ("L6", "logits")}, "'logits' is always exported"),
    ({"format": "onnx", "opset": 17}, "opset 17 is too old"),
])  # fmt: skip
def test_bad_settings_are_refused_when_built(kwargs: dict, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        ExportConfig(**kwargs)


def test_onnx_output_names() -> None:
    cfg = ExportConfig(format="onnx", layers=("L6", "conv5"))
    assert cfg.output_names == ("L6", "conv5", "L6_norm", "conv5_norm", "logits")


def test_metadata_describes_the_model(exported: Path, tiny_run: Path) -> None:
    _, info = read_safetensors(exported)
    loaded = load_model(tiny_run / "model.pt")
    assert info.config == TINY
    assert info.model_hash == loaded.header["model_hash"]
    assert info.code_dims == {"L5": 13 * 8 * 8, "L6": 102, "L7": 102}
    assert info.layer_names[-4:] == ("L5", "L6", "L7", "logits")
    assert info.class_names == tuple(CLASS_NAMES[:10])  # the in-domain classes: the logits
    assert info.input["shape"] == ["batch", 3, 64, 64]
    assert info.input["resize_policy"] == "photo" and info.input["range"] == [0.0, 1.0]
    assert info.raw["format"] == "pt" and info.raw["neuralcodes_version"] == "0.1.0"
    assert info.provenance["artifact"] == "model-export"
    assert info.provenance["source_run"] == "run-a"
    assert info.provenance["source_model_hash"] == info.model_hash


def test_round_trip_gives_the_same_network(exported: Path, tiny_run: Path) -> None:
    original = load_model(tiny_run / "model.pt").model
    model = load_safetensors(exported)
    assert not model.training and model.config == TINY  # type: ignore[attr-defined]
    want, got = original.state_dict(), model.state_dict()
    assert list(got) == list(want)
    assert all(torch.equal(got[k], want[k]) for k in want)
    images = make_images(4)
    a = extract_codes(original, images, ["L5", "L6", "L7"])
    b = extract_codes(model, images, ["L5", "L6", "L7"])
    assert all(np.array_equal(a[k], b[k]) for k in a)


def _rewrite(src: Path, dst: Path, *, tensors: dict | None = None, **changes: str) -> Path:
    """``src`` written again with some tensors and metadata entries replaced."""
    state = load_file(src)
    _, info = read_safetensors(src)
    save_file({**state, **(tensors or {})}, dst, metadata={**info.raw, **changes})
    return dst


def test_changed_metadata_is_refused(exported: Path, tmp_path: Path) -> None:
    config = json.dumps(to_dict(ModelConfig(width=0.05, num_classes=10, dropout=0.1)))
    bad = _rewrite(exported, tmp_path / "bad.safetensors", model_config=config)
    with pytest.raises(ArtifactMismatchError, match="metadata was changed after export"):
        load_safetensors(bad)


def test_changed_weights_are_refused(exported: Path, tmp_path: Path) -> None:
    bias = load_file(exported)["fc7.bias"] + 1.0
    bad = _rewrite(exported, tmp_path / "bad.safetensors", tensors={"fc7.bias": bias})
    with pytest.raises(ArtifactMismatchError, match="weights do not match the recorded model"):
        load_safetensors(bad)


def test_weights_of_another_architecture_are_refused(exported: Path, tmp_path: Path) -> None:
    _, info = read_safetensors(exported)
    meta = {**info.raw, "model_config": json.dumps(to_dict(ModelConfig(width=0.1,
                                                                     num_classes=10)))}
    meta["metadata_sha256"] = metadata_digest(meta)  # consistent metadata, foreign weights
    save_file(load_file(exported), tmp_path / "bad.safetensors", metadata=meta)
    words = r"conv1.conv.weight \(5, 3, 4, 4\) \(expected \(10, 3, 4, 4\)\).* and 11 more"
    with pytest.raises(ArtifactMismatchError, match=words):
        load_safetensors(tmp_path / "bad.safetensors")


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(2)}, tmp_path / "plain.safetensors", metadata={"format": "pt"})
    with pytest.raises(DataError, match="plain.safetensors: not a neuralcodes export"):
        load_safetensors(tmp_path / "plain.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 20)
    with pytest.raises(DataError, match="junk.safetensors: not a safetensors file"):
        load_safetensors(tmp_path / "junk.safetensors")
    with pytest.raises(DataError, match="file not found"):
        load_safetensors(tmp_path / "missing.safetensors")


def test_unknown_layers_are_refused_before_any_work(tiny_run: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown layers \['L9'\]"):
        export_run(tiny_run, ExportConfig(format="safetensors", layers=("L9",)), tmp_path)
    assert not list(tmp_path.iterdir())


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(extra_module.NEEDS, "onnx", {"no_such_module_x": "no-such-dist"})
    with pytest.raises(MissingExtraError, match=r"no-such-dist.*neuralcodes\[export\]"):
        require_export_extra("onnx")
