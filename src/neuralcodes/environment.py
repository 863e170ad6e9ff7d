"""What a run ran on: the versions of the software and the device, recorded in metrics.json.

``environment(device, precision)`` is a flat dict of plain values (strings and integers), written
by the training step under ``metrics.json``'s ``training.environment`` and shown by the report.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralcodes import __version__
from neuralcodes.device import resolve_precision


def environment(device: torch.device, precision: str = "fp32") -> dict[str, Any]:
    """Versions (neuralcodes, PyTorch, NumPy, Python), platform, CPU, threads, the device's name
    and the precision that ``precision`` resolves to on it."""
    return {
        "neuralcodes": __version__, "torch": torch.__version__, "numpy": np.__version__,
        "python": platform.python_version(), "platform": platform.platform(terse=True),
        "cpu": cpu_name(), "cpu_count": os.cpu_count() or 0,
        "torch_threads": torch.get_num_threads(), "device": device_name(device),
        "precision_used": resolve_precision(precision, device),
    }


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name (Linux: /proc/cpuinfo), else what ``platform`` knows, else ""."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def device_name(device: torch.device) -> str:
    """"cpu", or the accelerator's type and name: "cuda: NVIDIA H200"."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return device.type
