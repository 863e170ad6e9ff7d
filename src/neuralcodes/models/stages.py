"""The feature contract (docs/ARCHITECTURE.md) implemented once: a network as named stages.

A ``StagedNet`` lists its stages in order, each a layer name and what computes that layer's
output from the previous one. ``forward_codes`` runs them only as deep as the deepest layer asked
for; ``forward_features`` runs the first ``feature_stages`` (up to the last feature map),
``forward_head`` the rest (all but the logits with ``pre_logits``); ``code_dims`` measures every
layer once, on a blank image. The project's network and AlexNet both are one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from neuralcodes.device import inference
from neuralcodes.errors import ConfigError

Stage = Callable[[torch.Tensor], torch.Tensor]


def check_layers(layers: Sequence[str], known: Sequence[str]) -> None:
    """Refuse an empty request or layer names the model does not have."""
    unknown = [name for name in layers if name not in known]
    if unknown or not layers:
        raise ConfigError(f"unknown layers {unknown or '[]'}; known layers are {list(known)}")


class StagedNet(nn.Module):
    """A network whose ``layer_names`` are its ``stages()``, in order; (B, 3, H, W) in [0, 1] in."""

    layer_names: tuple[str, ...]
    feature_stages: int  # how many stages make the last feature map (after the last pool)
    probe_size: int  # the side of the blank image that ``code_dims`` measures with

    def __init__(self) -> None:
        super().__init__()
        self._dims: dict[str, int] = {}  # layer -> code length, measured on first use

    def stages(self) -> list[tuple[str, Stage]]:
        raise NotImplementedError

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """The input as the first stage takes it (the images as they are, by default)."""
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, num_classes) logits."""
        return self.forward_head(self.forward_features(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C, h, w): the last feature map."""
        x = self.prepare(x)
        for _, stage in self.stages()[: self.feature_stages]:
            x = stage(x)
        return x

    def forward_head(self, f: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The last feature map -> (B, num_classes) logits, or the layer before them (L7) if
        ``pre_logits``."""
        head = self.stages()[self.feature_stages :]
        for _, stage in head[:-1] if pre_logits else head:
            f = stage(f)
        return f

    def forward_codes(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Raw activations of ``layers``, running only as deep as the deepest one asked for.

        Conv layers come as (B, C, h, w) maps, L5/L6/L7/logits as (B, D).
        """
        check_layers(layers, self.layer_names)
        wanted = set(layers)
        deepest = max(self.layer_names.index(name) for name in layers)
        out: dict[str, torch.Tensor] = {}
        x = self.prepare(x)
        for name, stage in self.stages()[: deepest + 1]:
            x = stage(x)
            if name in wanted:
                out[name] = x
        return {name: out[name] for name in layers}

    def code_dims(self, layer: str) -> int:
        """The length of ``layer``'s flattened code (C * h * w for conv layers)."""
        check_layers([layer], self.layer_names)
        if not self._dims:
            with inference(self) as (device, _):
                x = torch.zeros(1, 3, self.probe_size, self.probe_size, device=device)
                acts = self.forward_codes(x, self.layer_names)
            self._dims = {k: math.prod(v.shape[1:]) for k, v in acts.items()}
        return self._dims[layer]
