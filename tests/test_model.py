"""The network of docs/protocol.md: shapes, parameter count, Keras padding and init, codes,
checkpoints, where dropout acts, and the Keras peer's outputs on the same weights (a saved
reference)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.config import ModelConfig
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.model import (
    LAYER_NAMES,
    NotebookNet,
    create_model,
    load_model,
    model_hash,
    register_model,
    save_model,
)

TINY = ModelConfig(num_classes=7, width=1 / 16)


def _net(cfg: ModelConfig) -> NotebookNet:
    model = create_model(cfg)
    assert isinstance(model, NotebookNet)
    return model.eval()


def _tiny(seed: int = 0, **changes: object) -> NotebookNet:
    torch.manual_seed(seed)
    return _net(ModelConfig(**{**TINY.__dict__, **changes}))  # type: ignore[arg-type]


def test_parameter_count_matches_the_notebook() -> None:
    model = create_model(ModelConfig())
    assert sum(p.numel() for p in model.parameters()) == 40_516_382


EXPECTED_SHAPES = {
    # width: {layer: per-image shape}; channels 96, 192, 288, 288, 256 and 2048 times width
    1.0: {"conv1": (96, 64, 64), "pool1": (96, 32, 32), "conv2": (192, 32, 32),
          "pool2": (192, 16, 16), "conv3": (288, 16, 16), "conv4": (288, 16, 16),
          "conv5": (256, 16, 16), "pool3": (256, 8, 8), "L5": (16384,), "L6": (2048,),
          "L7": (2048,), "logits": (190,)},
    0.25: {"conv1": (24, 64, 64), "pool1": (24, 32, 32), "conv2": (48, 32, 32),
           "pool2": (48, 16, 16), "conv3": (72, 16, 16), "conv4": (72, 16, 16),
           "conv5": (64, 16, 16), "pool3": (64, 8, 8), "L5": (4096,), "L6": (512,),
           "L7": (512,), "logits": (190,)},
}  # fmt: skip


@pytest.mark.parametrize("width", [1.0, 0.25])
def test_every_named_layer_has_the_expected_shape(width: float) -> None:
    model = _net(ModelConfig(width=width))
    assert tuple(model.layer_names) == LAYER_NAMES
    with torch.no_grad():
        codes = model.forward_codes(torch.rand(2, 3, 64, 64), LAYER_NAMES)
    for name, shape in EXPECTED_SHAPES[width].items():
        assert tuple(codes[name].shape) == (2, *shape), name
        assert model.code_dims(name) == math.prod(shape)


def test_width_keeps_at_least_one_channel_and_odd_sizes_pool_like_keras() -> None:
    model = _net(ModelConfig(width=1e-4, image_size=60, num_classes=3))
    with torch.no_grad():
        codes = model.forward_codes(torch.rand(1, 3, 60, 60), ["pool2", "pool3", "L5", "L6"])
    assert tuple(codes["pool2"].shape) == (1, 1, 15, 15)
    assert tuple(codes["pool3"].shape) == (1, 1, 8, 8)  # "same" pooling: ceil(15 / 2)
    assert tuple(codes["L5"].shape) == (1, 64) and tuple(codes["L6"].shape) == (1, 1)


def test_even_kernel_pads_one_more_at_the_bottom_right_like_keras() -> None:
    model = _net(ModelConfig(width=1 / 96, num_classes=2))  # conv1: 1 channel
    conv = model.conv1.conv
    x = torch.rand(1, 3, 64, 64) + 0.5
    with torch.no_grad():
        conv.bias.zero_()
        for tap, expected in (((0, 0), _shift(x, 1)), ((3, 3), _shift(x, -2))):
            conv.weight.zero_()
            conv.weight[0, 0, tap[0], tap[1]] = 1.0
            out = model.forward_codes(x, ["conv1"])["conv1"]  # (1, 1, 64, 64)
            torch.testing.assert_close(out[0, 0], expected, rtol=0, atol=0)


def _shift(x: torch.Tensor, by: int) -> torch.Tensor:
    """Channel 0 of ``x`` moved down/right by ``by`` pixels (up/left if negative), zero-filled."""
    out = torch.zeros(64, 64)
    src = x[0, 0]
    if by > 0:
        out[by:, by:] = src[:-by, :-by]
    else:
        out[:by, :by] = src[-by:, -by:]
    return out


def test_keras_initialisation_glorot_uniform_and_zero_biases() -> None:
    model = _tiny()
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            w = module.weight
            receptive = w[0, 0].numel()
            limit = math.sqrt(6 / ((w.shape[0] + w.shape[1]) * receptive))
            assert w.abs().max() <= limit and w.abs().max() > 0.8 * limit
            assert module.bias is not None and torch.count_nonzero(module.bias) == 0


def test_forward_codes_are_slices_of_the_full_forward_pass() -> None:
    model = _tiny()
    x = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        codes = model.forward_codes(x, ["L7", "pool3", "logits", "L5"])
        feats = model.forward_features(x)
        torch.testing.assert_close(codes["pool3"], feats, rtol=0, atol=0)
        torch.testing.assert_close(codes["L5"], feats.flatten(1), rtol=0, atol=0)
        torch.testing.assert_close(codes["L7"], model.forward_head(feats, pre_logits=True))
        torch.testing.assert_close(codes["logits"], model(x))
    assert list(codes) == ["L7", "pool3", "logits", "L5"]


def test_forward_codes_runs_only_as_deep_as_asked() -> None:
    model = _tiny()
    calls: list[str] = []
    model.fc6.register_forward_hook(lambda *_: calls.append("fc6"))
    with torch.no_grad():
        model.forward_codes(torch.rand(1, 3, 64, 64), ["conv2", "L5"])
        assert calls == []
        model.forward_codes(torch.rand(1, 3, 64, 64), ["L6"])
    assert calls == ["fc6"]


def test_unknown_layers_and_models_are_refused_with_the_known_names() -> None:
    model = _tiny()
    with pytest.raises(ConfigError, match="known layers.*conv1"):
        model.forward_codes(torch.rand(1, 3, 64, 64), ["fc9"])
    with pytest.raises(ConfigError, match="known models.*notebook"):
        create_model(ModelConfig(name="resnet-nope"))


def test_registry_builds_new_architectures() -> None:
    @register_model("test-linear")
    def build(cfg: ModelConfig) -> nn.Module:
        return nn.Linear(3, cfg.num_classes)

    model = create_model(ModelConfig(name="test-linear", num_classes=4))
    assert isinstance(model, nn.Linear) and model.out_features == 4
    assert model.config == ModelConfig(name="test-linear", num_classes=4)


def test_batchnorm_variant_has_a_norm_after_every_conv() -> None:
    model = _tiny(batchnorm=True)
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(norms) == 5
    assert all(getattr(model, f"conv{i}").conv.bias is None for i in range(1, 6))


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = _tiny(batchnorm=True)
    x = torch.rand(2, 3, 64, 64)
    digest = save_model(tmp_path / "model.pt", model, model.config, classes=["a", "b"], epoch=3)
    loaded = load_model(tmp_path / "model.pt")
    assert loaded.config == model.config and loaded.extra == {"classes": ["a", "b"], "epoch": 3}
    assert loaded.header["model_hash"] == digest == model_hash(model) == model_hash(loaded.model)
    assert loaded.header["artifact"] == "model"
    loaded.model.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model(x), rtol=0, atol=0)
    assert model_hash(_tiny(seed=1)) != digest


def test_load_refuses_foreign_and_damaged_files(tmp_path: Path) -> None:
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    for name in ("junk.pt", "other.pt"):
        with pytest.raises(DataError, match=f"{name}.*not a neuralcodes model"):
            load_model(tmp_path / name)
    with pytest.raises(DataError, match="not found"):
        load_model(tmp_path / "missing.pt")
    model = _tiny()
    save_model(tmp_path / "m.pt", model, model.config)
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    blob["header"]["format"] = 99
    torch.save(blob, tmp_path / "future.pt")
    with pytest.raises(ArtifactMismatchError, match="future.pt.*format 99"):
        load_model(tmp_path / "future.pt")
    blob["header"]["format"] = 1
    blob["state_dict"]["fc8.bias"] += 1.0
    torch.save(blob, tmp_path / "tampered.pt")
    with pytest.raises(ArtifactMismatchError, match="hash"):
        load_model(tmp_path / "tampered.pt")


def test_l6_and_l7_are_relu_of_their_dense_layer_and_logits_are_not() -> None:
    model = _tiny(dropout=0.5)  # eval mode: dropout off
    with torch.no_grad():
        for fc in (model.fc6, model.fc7, model.fc8):
            fc.bias.uniform_(-0.5, 0.5)  # Keras' zero biases would hide a missing bias or ReLU
        codes = model.forward_codes(torch.rand(4, 3, 64, 64), ["L5", "L6", "L7", "logits"])
    l5, l6, l7, logits = codes["L5"], codes["L6"], codes["L7"], codes["logits"]  # (4, D)
    torch.testing.assert_close(l6, F.relu(F.linear(l5, model.fc6.weight, model.fc6.bias)))
    torch.testing.assert_close(l7, F.relu(F.linear(l6, model.fc7.weight, model.fc7.bias)))
    torch.testing.assert_close(logits, F.linear(l7, model.fc8.weight, model.fc8.bias))
    for code in (l6, l7):
        assert code.min() == 0 and (code > 0).any()  # non-negative, and not all switched off
    assert (logits < 0).any()  # the logits are not rectified


def test_dropout_in_training_acts_before_l6_and_l7_only() -> None:
    """Training mode: fc6 and fc7 see their input with about half the units zeroed and the
    others doubled (p = 0.5); fc8 sees L7 untouched. Eval mode: nothing is dropped."""
    model = _tiny(dropout=0.5)
    seen: dict[str, torch.Tensor] = {}
    for name in ("fc6", "fc7", "fc8"):
        getattr(model, name).register_forward_pre_hook(
            lambda _m, args, name=name: seen.__setitem__(f"{name}_in", args[0].detach()))
        getattr(model, name).register_forward_hook(
            lambda _m, _a, out, name=name: seen.__setitem__(f"{name}_out", out.detach()))
    x = torch.rand(8, 3, 64, 64)
    with torch.no_grad():
        l5 = model.forward_features(x).flatten(1)  # (8, D5): no dropout below L5
        model.train()
        torch.manual_seed(0)
        model(x)
    l6, l7 = F.relu(seen["fc6_out"]), F.relu(seen["fc7_out"])
    for got, full in ((seen["fc6_in"], l5), (seen["fc7_in"], l6)):
        kept = got != 0
        torch.testing.assert_close(got[kept], 2 * full[kept])  # survivors scaled by 1 / (1 - p)
        dropped = (~kept & (full != 0)).sum() / (full != 0).sum()
        assert 0.35 < dropped < 0.65, float(dropped)
    torch.testing.assert_close(seen["fc8_in"], l7, rtol=0, atol=0)
    model.eval()
    with torch.no_grad():
        model(x)
    torch.testing.assert_close(seen["fc6_in"], l5, rtol=0, atol=0)
    torch.testing.assert_close(seen["fc7_in"], F.relu(seen["fc6_out"]), rtol=0, atol=0)


REFERENCE = Path(__file__).parent / "reference"


def _keras_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_keras_reference", REFERENCE / "make_keras_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("case", ["w10", "odd"])
def test_codes_and_logits_equal_the_keras_peers_on_the_same_weights(case: str) -> None:
    """``tests/reference/keras_reference.npz`` holds the Keras peer's outputs (TensorFlow 2.21,
    written by ``tests/reference/make_keras_reference.py``) for weights drawn from a seed."""
    ref = _keras_reference()
    saved = np.load(REFERENCE / "keras_reference.npz")
    meta = json.loads(str(saved["meta"]))
    assert meta["cases"][case] == ref.CASES[case] and meta["full_params"] == 40_516_382
    spec = ref.CASES[case]
    model = _net(ModelConfig(num_classes=spec["num_classes"], width=spec["width"],
                             image_size=spec["image_size"]))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in ref.reference_weights(spec).items()})
    x = saved[f"{case}/x"]  # (n, S, S, 3) uint8
    np.testing.assert_array_equal(x, ref.reference_images(spec))
    with torch.no_grad():
        ours = model.forward_codes(torch.from_numpy(x).permute(0, 3, 1, 2) / 255.0,
                                   ["L5", "L6", "L7", "logits"])
    c, h, w = model.feature_shape
    keras_l5 = saved[f"{case}/L5"].reshape(len(x), h, w, c).transpose(0, 3, 1, 2)  # (n, C, h, w)
    theirs = {"L5": keras_l5.reshape(len(x), -1), **{k: saved[f"{case}/{k}"]
                                                     for k in ("L6", "L7", "logits")}}
    for name, want in theirs.items():
        got = ours[name].numpy()
        assert got.shape == want.shape and np.abs(want).max() > 0.05, name
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max(),
                                   err_msg=name)
