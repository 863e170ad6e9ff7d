"""What a run ran on: versions, CPU, device, the precision used."""

from __future__ import annotations

import platform
from pathlib import Path

import numpy as np
import torch

from neuralcodes import __version__
from neuralcodes.environment import cpu_name, device_name, environment


def test_versions_device_and_precision() -> None:
    env = environment(torch.device("cpu"), "fp32")
    assert {k: env[k] for k in ("neuralcodes", "torch", "numpy", "python", "device",
                                "precision_used")} == {
        "neuralcodes": __version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "device": "cpu", "precision_used": "fp32"}
    assert env["cpu_count"] >= 1 and env["torch_threads"] == torch.get_num_threads()


def test_the_cpu_name_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9654 96-Core Processor\nflags: x\n")
    assert cpu_name(info) == "AMD EPYC 9654 96-Core Processor"
    assert cpu_name(tmp_path / "missing") == (platform.processor() or platform.machine())
    assert device_name(torch.device("cpu")) == "cpu"
