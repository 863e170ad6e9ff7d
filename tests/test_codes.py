"""Neural codes: L2-normalised, deterministic, one pass for every layer, memory-mapped output."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from neuralcodes.codes import autocast_copy, extract_codes, l2_normalize
from neuralcodes.config import ModelConfig
from neuralcodes.errors import ConfigError
from neuralcodes.model import NotebookNet, create_model


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (7, 64, 64, 3), dtype=np.uint8)


@pytest.fixture()
def model() -> NotebookNet:
    torch.manual_seed(0)
    net = create_model(ModelConfig(num_classes=5, width=1 / 16))
    assert isinstance(net, NotebookNet)
    return net.train()


def test_l2_normalize_exact() -> None:
    x = np.array([[3.0, 4.0], [0.0, 0.0], [0.0, -2.0]])
    out = l2_normalize(x)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[0.6, 0.8], [0.0, 0.0], [0.0, -1.0]], np.float32))


def test_codes_are_normalised_raw_codes_of_the_eval_mode_network(
    model: NotebookNet, images: np.ndarray
) -> None:
    codes = extract_codes(model, images, ["L5", "L6", "L7"], batch_size=3)
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255
        raw = model.forward_codes(x, ["L5", "L6", "L7"])
    for layer, array in codes.items():
        assert array.dtype == np.float32 and array.shape == (7, model.code_dims(layer))
        np.testing.assert_allclose(np.linalg.norm(array, axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(array, l2_normalize(raw[layer].numpy()), atol=1e-6)
    raw_codes = extract_codes(model, images, ["L6"], normalize=False)["L6"]
    np.testing.assert_allclose(raw_codes, raw["L6"].numpy(), rtol=1e-5, atol=1e-6)


def test_codes_are_deterministic_and_independent_of_batch_size(
    model: NotebookNet, images: np.ndarray
) -> None:
    first = extract_codes(model, images, ["L7"], batch_size=2)["L7"]
    again = extract_codes(model, images, ["L7"], batch_size=2)["L7"]
    whole = extract_codes(model, images, ["L7"], batch_size=500)["L7"]
    np.testing.assert_array_equal(first, again)
    np.testing.assert_allclose(first, whole, atol=1e-6)


def test_conv_maps_are_flattened_or_pooled(model: NotebookNet, images: np.ndarray) -> None:
    flat = extract_codes(model, images, ["pool3"], normalize=False)["pool3"]
    assert flat.shape == (7, 16 * 8 * 8)
    summed = extract_codes(model, images, ["pool3"], normalize=False,
                           pool=lambda m: m.sum(dim=(2, 3)))["pool3"]
    assert summed.shape == (7, 16)
    np.testing.assert_allclose(summed, flat.reshape(7, 16, 64).sum(axis=2), rtol=1e-5)


def test_out_dir_writes_memory_mapped_npy_files(
    model: NotebookNet, images: np.ndarray, tmp_path: Path
) -> None:
    in_memory = extract_codes(model, images, ["L6", "conv5"], batch_size=4)
    mapped = extract_codes(model, images, ["L6", "conv5"], batch_size=4, out_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["L6.npy", "conv5.npy"]
    for layer in ("L6", "conv5"):
        np.testing.assert_array_equal(np.load(tmp_path / f"{layer}.npy"), in_memory[layer])
        np.testing.assert_array_equal(mapped[layer], in_memory[layer])


def test_unknown_layer_is_refused(model: NotebookNet, images: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="unknown layers"):
        extract_codes(model, images, ["L8"])


def _to_copy_calls(fn: Any) -> int:
    """How many tensor copies (``aten::_to_copy``: casts, device moves) ``fn()`` makes."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(e.count for e in prof.key_averages() if e.key == "aten::_to_copy")


def test_autocast_copy_same_codes_without_casting_weights_per_call(
    model: NotebookNet, images: np.ndarray
) -> None:
    lower = autocast_copy(model, "bf16")
    weights = {n: p.dtype for n, p in lower.named_parameters()}
    assert set(weights.values()) == {torch.bfloat16}  # conv and linear layers only: all here
    assert {p.dtype for p in model.parameters()} == {torch.float32}  # the original untouched

    def run(net: torch.nn.Module) -> dict[str, np.ndarray]:
        return extract_codes(net, images[:1], ["L6"], device="cpu", precision="bf16")

    np.testing.assert_array_equal(run(lower)["L6"], run(model)["L6"])
    # autocast casts the weights and biases of conv1..5 and fc6 (2 x 6) again at every call; the
    # copy casts only the input (uint8 -> float32 -> bf16)
    assert _to_copy_calls(lambda: run(model)) - _to_copy_calls(lambda: run(lower)) == 12
