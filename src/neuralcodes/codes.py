"""Neural codes: activations of named layers as (N, D) float32 descriptors, L2-normalised.

One forward pass per batch serves every requested layer (``forward_codes`` runs only as deep as
the deepest one). Results go straight into preallocated arrays, or into ``.npy`` memory maps when
``out_dir`` is given, so collections larger than memory can be encoded.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from neuralcodes.data.tensors import to_input
from neuralcodes.device import LOWER_DTYPES, autocast, inference
from neuralcodes.model import feature_model
from neuralcodes.progress import Progress, ensure

Pool = Callable[[torch.Tensor], torch.Tensor]  # (B, C, h, w) -> (B, D)
# The modules whose weights autocast casts to its lower precision before each call
AUTOCAST_CAST = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                 nn.ConvTranspose2d, nn.ConvTranspose3d)


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows of ``x`` (N, D) divided by their Euclidean norm (at least ``eps``); float32."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)  # (N, 1)
    return x / np.maximum(norms, np.float32(eps))


def autocast_copy(model: nn.Module, precision: str) -> nn.Module:
    """A copy of ``model`` for inference under ``precision`` autocast ("bf16", "fp16") whose
    convolution and linear layers hold their weights and biases in that type already.

    Autocast casts exactly these to the lower type before each convolution or matrix product, so
    the copy computes the same codes, bit for bit. But autocast keeps its casts only for one
    ``with`` block: the original model has every weight cast afresh at every call. For one image
    through the full-width network that is a new 67 MB copy of L6's weights per query, three times
    the time of the forward pass itself and 17,000 page faults (docs/performance.md).
    """
    dtype = LOWER_DTYPES[precision]
    out = copy.deepcopy(model)
    for module in out.modules():
        if isinstance(module, AUTOCAST_CAST):
            module.to(dtype)
    return out


def extract_codes(
    model: nn.Module,
    images: np.ndarray,
    layers: Sequence[str],
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    normalize: bool = True,
    pool: Pool | None = None,
    channels_last: bool = False,
    out_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """``{layer: (N, D) float32}`` codes of (N, H, W, 3) ``uint8`` ``images``, in eval mode.

    Convolutional maps (B, C, h, w) are flattened to C*h*w, or reduced by ``pool`` (e.g. SPoC
    sum-pooling) when given. ``normalize`` L2-normalises each row. With ``out_dir`` each layer is
    written to ``out_dir/<layer>.npy`` (memory-mapped, renamed into place when complete).
    ``device=None`` runs where the model is. ``channels_last`` feeds channels-last tensors
    (faster convolutions, but codes then depend on the batch size in the last bits: off by
    default, so that a query encoded alone matches its database row); ``precision="bf16"`` runs
    under bf16 autocast.
    """
    if len(images) == 0:
        raise ValueError("no images to encode")
    progress = ensure(progress)
    out: dict[str, np.ndarray] = {}
    with inference(model, device, precision) as (dev, prec):
        features = feature_model(model)
        starts = range(0, len(images), batch_size)
        for start in progress.track(starts, len(starts), desc="codes"):
            x = to_input(images[start : start + batch_size], dev, channels_last=channels_last)
            with autocast(prec, dev):
                acts = features.forward_codes(x, list(layers))  # one forward pass per batch
            for layer, act in acts.items():
                rows = _to_rows(act, pool, normalize)  # (B, D) float32 on the CPU
                if layer not in out:
                    out[layer] = _allocate(layer, len(images), rows.shape[1], out_dir)
                out[layer][start : start + len(rows)] = rows
    return _finalise(out, out_dir)


def _to_rows(act: torch.Tensor, pool: Pool | None, normalize: bool) -> np.ndarray:
    """A layer's (B, ...) activations as (B, D) float32 NumPy rows."""
    if act.ndim == 4 and pool is not None:
        act = pool(act)  # (B, C, h, w) -> (B, D)
    act = act.float().reshape(len(act), -1)  # (B, D)
    if normalize:
        act = act / act.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return act.cpu().numpy()


def _allocate(layer: str, n: int, dim: int, out_dir: str | Path | None) -> np.ndarray:
    if out_dir is None:
        return np.empty((n, dim), dtype=np.float32)
    path = Path(out_dir) / f".{layer}.npy.tmp"
    path.parent.mkdir(parents=True, exist_ok=True)
    return np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, dim))


def _finalise(out: dict[str, np.ndarray], out_dir: str | Path | None) -> dict[str, np.ndarray]:
    """Flush memory maps and rename them to ``<layer>.npy`` (the mapping stays valid)."""
    if out_dir is None:
        return out
    for layer, array in out.items():
        assert isinstance(array, np.memmap)
        array.flush()
        os.replace(Path(out_dir) / f".{layer}.npy.tmp", Path(out_dir) / f"{layer}.npy")
    return out

