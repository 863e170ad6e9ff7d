"""The fast path's CPU-side logic: precision choice, batch feeding, compile.

The GPU branches (fp16 fallback, data kept on the device) are exercised through their decisions,
which take the device facts as arguments or from monkeypatched probes: no GPU is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import neuralcodes.device as device_mod
import neuralcodes.train as train_mod
from neuralcodes.config import ModelConfig, TrainConfig
from neuralcodes.data.tensors import BatchFeeder, fits_on_device, to_input
from neuralcodes.device import cpu_has_bf16, maybe_compile, resolve_precision
from neuralcodes.model import create_model
from neuralcodes.train import TrainData, train

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_cpu_bf16_detection_agrees_with_onednn() -> None:
    assert cpu_has_bf16() == bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


@pytest.mark.parametrize(
    ("enabled", "native", "want"),
    [(True, True, "bf16"), (True, False, "fp32"), (False, True, "fp32")],
)
def test_auto_precision_on_the_cpu_is_bf16_only_where_native_and_enabled(
    monkeypatch: pytest.MonkeyPatch, enabled: bool, native: bool, want: str
) -> None:
    monkeypatch.setattr(device_mod, "CPU_AUTO_BF16", enabled)
    monkeypatch.setattr(device_mod, "cpu_has_bf16", lambda: native)
    assert resolve_precision("auto", CPU) == want


@pytest.mark.parametrize(("bf16", "want"), [(True, "bf16"), (False, "fp16")])
def test_auto_precision_on_cuda_is_mixed_bf16_else_fp16(
    monkeypatch: pytest.MonkeyPatch, bf16: bool, want: str
) -> None:
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    assert resolve_precision("auto", CUDA) == want
    assert resolve_precision("fp16", CUDA) == "fp16"


def test_images_live_on_the_device_only_on_a_gpu_with_room() -> None:
    assert not fits_on_device(10, CPU, free_bytes=10**9)
    assert fits_on_device(1000, CUDA, free_bytes=2000)
    assert not fits_on_device(1001, CUDA, free_bytes=2000)


@pytest.mark.parametrize("on_device", [False, True])
def test_batch_feeder_gives_the_rows_asked_for_in_order(on_device: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    labels = np.arange(10) * 3
    batches = [np.array([1, 4, 7]), np.array([0, 2]), np.array([9])]
    feeder = BatchFeeder(images, labels, CPU, on_device=on_device)
    got = list(feeder.epoch(batches))
    assert len(got) == 3 and feeder.wait >= 0.0
    for (x, y), idx in zip(got, batches, strict=True):
        torch.testing.assert_close(x, to_input(images[idx], CPU, channels_last=True))
        assert x.is_contiguous(memory_format=torch.channels_last)
        assert y.dtype == torch.int64 and y.tolist() == (idx * 3).tolist()


def test_maybe_compile_is_the_model_itself_unless_enabled() -> None:
    model = torch.nn.Linear(3, 2)
    assert maybe_compile(model, False) is model


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
