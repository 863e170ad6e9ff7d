"""Device and numeric precision: which accelerator runs the network and in which float format.

``pick_device("auto")`` prefers CUDA, then Apple MPS, then the CPU. Precision "bf16" runs the
forward pass under ``torch.autocast(bfloat16)`` (CPU and CUDA); "fp16" adds a ``GradScaler`` and
needs CUDA; "auto" is the fastest precision shown not to hurt (docs/performance.md): on CUDA bf16
where the GPU has it, else fp16; on a CPU with native bf16 (AVX-512 BF16 or AMX) bf16 when
``CPU_AUTO_BF16``; fp32 everywhere else.

The memory allocator matters as much as the kernels on the CPU: see ``neuralcodes.allocator``.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import Any

import torch

from neuralcodes.config import Device, Precision, choices
from neuralcodes.errors import ConfigError

DEVICES = choices(Device)
PRECISIONS = choices(Precision)
LOWER_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}  # the mixed precisions' types
CPU_AUTO_BF16 = True  # "auto" picks bf16 on CPUs with native bf16 (see docs/performance.md)


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """The ``torch.device`` for ``name``; "auto" picks CUDA, then MPS, then CPU."""
    if isinstance(name, torch.device):
        return name
    kind = name.split(":")[0]
    if kind not in DEVICES:
        raise ConfigError(f"unknown device {name!r}; choose one of {list(DEVICES)}")
    if kind == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but PyTorch sees no CUDA GPU")
    if kind == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"device {name!r} asked for, but Apple MPS is not available")
    return torch.device(name)


def model_device(model: torch.nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without parameters)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


@contextlib.contextmanager
def inference(
    model: torch.nn.Module, device: str | torch.device | None = None, precision: str = "fp32"
) -> Iterator[tuple[torch.device, str]]:
    """Run the block with ``model`` on ``device`` (None: where the model is) in eval mode (dropout
    off) under ``torch.inference_mode``; yields the device and the resolved precision. The
    model's train/eval mode is restored afterwards."""
    dev = model_device(model) if device is None else pick_device(device)
    prec = resolve_precision(precision, dev)
    model.to(dev)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield dev, prec
    finally:
        model.train(was_training)


def resolve_precision(precision: str, device: torch.device) -> str:
    """"fp32", "bf16" or "fp16" for ``device``; refuses combinations that cannot run."""
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; choose one of {list(PRECISIONS)}")
    if precision == "auto":
        return _auto_precision(device)
    if precision == "bf16" and device.type not in ("cpu", "cuda"):
        raise ConfigError(f"precision 'bf16' runs on cpu or cuda, not {device.type}")
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError(f"precision 'fp16' needs a CUDA device, not {device.type}")
    return precision


def _auto_precision(device: torch.device) -> str:
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and CPU_AUTO_BF16 and cpu_has_bf16():
        return "bf16"
    return "fp32"


@functools.cache
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), as oneDNN reports it.

    Without it, bf16 autocast on the CPU is emulated and slower than fp32.
    """
    if not torch.backends.mkldnn.is_available():
        return False
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager[Any]:
    """The autocast context of a resolved precision (a no-op for fp32)."""
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=LOWER_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A loss scaler, enabled only for fp16 (bf16 has fp32's range and needs none)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")


@contextlib.contextmanager
def num_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op CPU threads (0: leave PyTorch's choice), then restore."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n > 0:
            torch.set_num_threads(before)


def maybe_compile(model: torch.nn.Module, enabled: bool, **options: Any) -> Callable[..., Any]:
    """``torch.compile(model, **options)`` when ``enabled`` (worth it on a GPU), else ``model``.

    The compiled module shares ``model``'s parameters: optimisers and checkpoints keep using
    ``model`` itself.
    """
    if not enabled:
        return model
    return torch.compile(model, **options)  # type: ignore[no-any-return]
