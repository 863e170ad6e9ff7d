"""Code specs and their extraction: "L6" (a layer's flattened activations) or "conv5:spoc" (a
convolutional map pooled over space by SPoC, SPoC with centre prior, MAC or GeM).

A spec's *name* is what code sets are called on disk and in tables: "L6", "conv5-spoc".
Pooling a layer without a spatial map (L5, L6, L7, logits) is refused up front with the
ConfigError of ``neuralcodes.postprocess.pooling`` (``extract_codes`` itself would silently
return the unpooled codes, because it pools 4-D activations only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from neuralcodes.codes import extract_codes
from neuralcodes.config import RetrievalConfig, split_code_spec
from neuralcodes.data.tensors import to_input
from neuralcodes.device import inference
from neuralcodes.model import feature_model
from neuralcodes.postprocess.pooling import Pool
from neuralcodes.progress import Progress


@dataclass(frozen=True)
class CodeSpec:
    layer: str
    pool: str | None = None  # a config.Pooling, or None for the flattened activations

    @property
    def name(self) -> str:
        return self.layer if self.pool is None else f"{self.layer}-{self.pool}"


def parse_spec(text: str) -> CodeSpec:
    """ "L6" -> CodeSpec("L6"); "conv5:spoc" -> CodeSpec("conv5", "spoc")."""
    return CodeSpec(*split_code_spec(text))


def parse_specs(texts: Sequence[str]) -> list[CodeSpec]:
    """Parsed specs, duplicates (by name) dropped, order kept."""
    out: dict[str, CodeSpec] = {}
    for text in texts:
        spec = parse_spec(text)
        out.setdefault(spec.name, spec)
    return list(out.values())


def code_specs(cfg: RetrievalConfig) -> list[CodeSpec]:
    """The trained network's code sets of a run: the layers, then the pooled conv codes."""
    return parse_specs([*cfg.layers, *cfg.pooled])


def check_poolable(model: nn.Module, specs: Sequence[CodeSpec],
                   image_shape: tuple[int, ...]) -> None:
    """Refuse unknown layers and poolings of maps that are not (B, C, H, W), before any work."""
    pooled = [s for s in specs if s.pool is not None]
    layers = list(dict.fromkeys(s.layer for s in specs))
    with inference(model) as (dev, _):
        probe = to_input(np.zeros((1, *image_shape), np.uint8), dev)
        acts = feature_model(model).forward_codes(probe, layers)  # (1, C, h, w) or (1, D)
        for spec in pooled:
            Pool(spec.pool or "")(acts[spec.layer])  # ConfigError for a (B, D) layer


def extract_specs(
    model: nn.Module,
    images: np.ndarray,
    specs: Sequence[CodeSpec],
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    progress: Progress | None = None,
) -> dict[str, np.ndarray]:
    """``{spec.name: (N, D) float32 L2-normalised}`` for (N, H, W, 3) uint8 ``images``:
    one pass for the plain layers, one per pooling for the pooled ones."""
    check_poolable(model, specs, tuple(images.shape[1:]))
    groups: dict[str | None, list[str]] = {}
    for spec in specs:
        groups.setdefault(spec.pool, []).append(spec.layer)
    out: dict[str, np.ndarray] = {}
    for pool, layers in groups.items():
        codes = extract_codes(model, images, layers, batch_size=batch_size, device=device,
                              precision=precision, progress=progress,
                              pool=Pool(pool) if pool else None)
        out |= {CodeSpec(layer, pool).name: c for layer, c in codes.items()}
    return {s.name: out[s.name] for s in specs}
