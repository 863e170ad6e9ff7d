"""The ONNX export, run in onnxruntime against neuralcodes' own codes, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from neuralcodes.cli import main
from neuralcodes.codes import extract_codes
from neuralcodes.export import ExportConfig, export_run, parse_metadata, read_onnx_metadata
from neuralcodes.model import load_model

from .helpers import CLASS_NAMES, make_images, to_onnx_input

OUTPUTS = ["L5", "L6", "L7", "L5_norm", "L6_norm", "L7_norm", "logits"]


@pytest.fixture(scope="module")
def exported(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    result = export_run(tiny_run, ExportConfig(format="onnx"), out)
    assert result.path == out and list(result.outputs) == OUTPUTS
    return out


@pytest.fixture(scope="module")
def session(exported: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])


def test_the_graph_is_valid_with_named_inputs_and_outputs(
    exported: Path, session: ort.InferenceSession
) -> None:
    model = onnx.load(str(exported))
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 18
    [images] = session.get_inputs()
    assert (images.name, images.shape, images.type) == ("images", ["batch", 3, 64, 64],
                                                        "tensor(float)")
    shapes = {o.name: o.shape for o in session.get_outputs()}
    assert list(shapes) == OUTPUTS
    assert shapes["L5"] == ["batch", 832] and shapes["L6_norm"] == ["batch", 102]
    assert shapes["logits"] == ["batch", 10]


@pytest.mark.parametrize("batch", [1, 5])
def test_codes_match_neuralcodes(
    session: ort.InferenceSession, tiny_run: Path, batch: int
) -> None:
    """Raw and L2-normalised codes and logits, at two batch sizes (the batch is dynamic)."""
    model = load_model(tiny_run / "model.pt").model
    images = make_images(batch, seed=batch)
    got = dict(zip(OUTPUTS, session.run(OUTPUTS, {"images": to_onnx_input(images)}),
                   strict=True))
    raw = extract_codes(model, images, ["L5", "L6", "L7"], normalize=False)
    normed = extract_codes(model, images, ["L5", "L6", "L7"])
    with torch.inference_mode():
        logits = model(torch.from_numpy(to_onnx_input(images))).numpy()
    for layer in ("L5", "L6", "L7"):
        assert got[layer].shape == (batch, raw[layer].shape[1])
        scale = float(np.abs(raw[layer]).max())
        np.testing.assert_allclose(got[layer], raw[layer], rtol=1e-5, atol=1e-5 * scale)
        np.testing.assert_allclose(got[f"{layer}_norm"], normed[layer], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["logits"], logits, rtol=1e-5, atol=1e-6)


def test_metadata_props_carry_the_provenance(exported: Path, tiny_run: Path) -> None:
    info = parse_metadata(read_onnx_metadata(exported), exported)  # checks the digest
    assert info.model_hash == load_model(tiny_run / "model.pt").header["model_hash"]
    assert info.code_dims == {"L5": 832, "L6": 102, "L7": 102}
    assert info.class_names == tuple(CLASS_NAMES[:10])
    assert info.provenance["opset"] == 18
    assert info.provenance["onnxruntime_max_abs_diff"] < 1e-4
    assert list(json.loads(info.raw["outputs"])) == OUTPUTS


def test_cli_exports_chosen_layers(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder as --out gets model.onnx; --layers chooses the outputs; --json the record."""
    assert main(["export", str(tiny_run), "--format", "onnx", "--out", str(tmp_path),
                 "--layers", "L6", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == str(tmp_path / "model.onnx")
    assert record["outputs"] == ["L6", "L6_norm", "logits"]
    assert record["code_dims"] == {"L6": 102} and record["input"] == ["batch", 3, 64, 64]
    session = ort.InferenceSession(record["path"], providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["L6", "L6_norm", "logits"]


def test_cli_safetensors_beside_model_and_errors(
    tiny_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.pt").write_bytes((tiny_run / "model.pt").read_bytes())
    assert main(["export", str(run), "--format", "safetensors"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {run / 'model.safetensors'} (safetensors")
    assert main(["export", str(run), "--format", "onnx", "--opset", "17"]) == 2
    assert "opset 17 is too old" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nowhere"), "--format", "onnx"]) == 2
    assert "no such run folder or model file" in capsys.readouterr().err
    assert sorted(p.name for p in run.iterdir()) == ["model.pt", "model.safetensors"]
