"""The weights as a safetensors file, and the loader that rebuilds the network from it alone.

The file holds the state dict (the names of ``model.state_dict()``) and the metadata of
``neuralcodes.export.metadata``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from neuralcodes.artifacts import atomic_write_bytes
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.export.extra import require_export_extra
from neuralcodes.export.metadata import ExportInfo, check_model_matches, parse_metadata
from neuralcodes.model import create_model

log = logging.getLogger(__name__)


def save_safetensors(path: str | Path, model: nn.Module, metadata: dict[str, str]) -> None:
    """Write ``model``'s weights (on the CPU, contiguous) and ``metadata`` atomically."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    atomic_write_bytes(path, save(state, metadata=metadata))
    log.info("wrote %s (%d tensors)", path, len(state))


def read_safetensors(path: str | Path) -> tuple[dict[str, torch.Tensor], ExportInfo]:
    """The tensors and the checked metadata of an exported safetensors file."""
    require_export_extra("safetensors")
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        with safe_open(str(path), framework="pt") as f:  # type: ignore[no-untyped-call]
            meta: dict[str, str] | None = f.metadata()
            state = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises its own error types for foreign files
        raise DataError(path, f"not a safetensors file ({type(e).__name__}: {e})") from None
    return state, parse_metadata(meta, path)


def load_safetensors(path: str | Path, map_location: str | torch.device = "cpu") -> nn.Module:
    """The network of an exported safetensors file, rebuilt from its metadata alone (eval mode).

    Refuses, naming the difference, a file without neuralcodes metadata, metadata changed
    after export, and weights that do not fit the recorded architecture or hash.
    """
    state, info = read_safetensors(path)
    model = create_model(info.config)
    _check_layout(model.state_dict(), state, path)
    model.load_state_dict(state)
    check_model_matches(model, info, path)
    return model.to(map_location).eval()


def _check_layout(expected: dict[str, Any], state: dict[str, torch.Tensor], path: Any) -> None:
    """Refuse missing, unexpected or misshapen tensors, listing each."""
    problems = []
    if missing := sorted(set(expected) - set(state)):
        problems.append(f"missing tensors {missing}")
    if extra := sorted(set(state) - set(expected)):
        problems.append(f"unexpected tensors {extra}")
    shapes = [f"{k} {tuple(state[k].shape)} (expected {tuple(expected[k].shape)})"
              for k in sorted(set(expected) & set(state))
              if state[k].shape != expected[k].shape]
    if shapes:
        more = f" and {len(shapes) - 4} more" if len(shapes) > 4 else ""
        problems.append("wrong shapes: " + ", ".join(shapes[:4]) + more)
    if problems:
        raise ArtifactMismatchError(
            f"{path}: the weights do not fit the network its metadata describes: "
            + "; ".join(problems))
