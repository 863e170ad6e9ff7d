"""Device and precision choice, compilation.

The GPU branches (fp16 fallback) are exercised through their decisions, which take the device
facts from monkeypatched probes: no GPU is needed.
"""

from __future__ import annotations

import pytest
import torch

import neuralcodes.device as device_mod
from neuralcodes.device import (
    autocast,
    cpu_has_bf16,
    grad_scaler,
    maybe_compile,
    pick_device,
    resolve_precision,
)
from neuralcodes.errors import ConfigError

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_pick_device() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="CUDA"):
            pick_device("cuda")
        expected = "mps" if torch.backends.mps.is_available() else "cpu"
        assert pick_device("auto").type == expected
    with pytest.raises(ConfigError, match="'tpu'.*auto"):
        pick_device("tpu")


def test_resolve_precision_on_cpu() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_has_bf16() else "fp32")
    assert resolve_precision("bf16", cpu) == "bf16"
    with pytest.raises(ConfigError, match="fp16.*CUDA"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ConfigError, match="'fp8'"):
        resolve_precision("fp8", cpu)


def test_bf16_autocast_on_cpu_and_no_scaler_outside_fp16() -> None:
    cpu = torch.device("cpu")
    layer = torch.nn.Linear(4, 2)
    with autocast("bf16", cpu):
        assert layer(torch.rand(3, 4)).dtype == torch.bfloat16
    with autocast("fp32", cpu):
        assert layer(torch.rand(3, 4)).dtype == torch.float32
    assert not grad_scaler("bf16", cpu).is_enabled()


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


def test_maybe_compile_is_the_model_itself_unless_enabled() -> None:
    model = torch.nn.Linear(3, 2)
    assert maybe_compile(model, False) is model
