"""Device and precision choice."""

from __future__ import annotations

import pytest
import torch

from neuralcodes.device import (
    autocast,
    cpu_has_bf16,
    grad_scaler,
    pick_device,
    resolve_precision,
)
from neuralcodes.errors import ConfigError


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
