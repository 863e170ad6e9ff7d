"""Global pooling of convolutional feature maps (B, C, H, W) -> (B, C) codes.

* ``spoc``: sum pooling (Babenko & Lempitsky, ICCV 2015, "SPoC"); with ``centre_prior`` each
  position is weighted by ``exp(-d^2 / (2 sigma^2))``, ``d`` its distance to the map centre and
  ``sigma`` one third of the distance from the centre to the nearest border (``min(H, W) / 6``,
  positions at cell centres ``i - (H - 1) / 2``). Sums are not divided by anything: codes are
  L2-normalised afterwards, so a constant scale does not matter.
* ``mac``: maximum over space (Tolias et al., 2016).
* ``gem``: generalised mean ``(mean(max(x, eps)^p))^(1/p)`` (Radenovic et al., 2018); ``p = 1`` is
  average pooling, large ``p`` tends to ``mac``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from neuralcodes.config import Pooling, choices
from neuralcodes.errors import ConfigError

POOLINGS = choices(Pooling)
_OPTIONS = {"spoc": {"centre_prior"}, "spoc-centre": set(), "mac": set(), "gem": {"p", "eps"}}


def _check_map(x: torch.Tensor, name: str) -> None:
    if x.dim() != 4:
        raise ConfigError(
            f"{name} pooling needs a (B, C, H, W) feature map, got shape {tuple(x.shape)}: choose "
            "a convolutional layer (conv*/pool*), not a fully connected one (L5, L6, L7, logits)"
        )


def centre_prior(height: int, width: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The SPoC centre-prior weights (H, W): a Gaussian with sigma = min(H, W) / 6."""
    sigma = min(height, width) / 6.0
    ys = torch.arange(height, dtype=torch.float64) - (height - 1) / 2.0  # (H,)
    xs = torch.arange(width, dtype=torch.float64) - (width - 1) / 2.0  # (W,)
    d2 = ys[:, None] ** 2 + xs[None, :] ** 2  # (H, W)
    return torch.exp(-d2 / (2.0 * sigma**2)).to(dtype)


def spoc(x: torch.Tensor, centre_prior: bool = False) -> torch.Tensor:
    """Sum pooling (B, C, H, W) -> (B, C), optionally centre-weighted."""
    _check_map(x, "spoc")
    if centre_prior:
        weights = _centre_prior(x.shape[2], x.shape[3], dtype=x.dtype).to(x.device)  # (H, W)
        return (x * weights).sum(dim=(2, 3))
    return x.sum(dim=(2, 3))


_centre_prior = centre_prior  # the keyword argument of ``spoc`` shadows the function name


def mac(x: torch.Tensor) -> torch.Tensor:
    """Max pooling over space (B, C, H, W) -> (B, C)."""
    _check_map(x, "mac")
    return x.amax(dim=(2, 3))


def gem(x: torch.Tensor, p: float = 3.0, eps: float = 1e-6) -> torch.Tensor:
    """Generalised-mean pooling (B, C, H, W) -> (B, C); values are clamped at ``eps`` first."""
    _check_map(x, "gem")
    if p <= 0:
        raise ConfigError(f"gem pooling needs p > 0, got {p}")
    return x.clamp(min=eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)


class Pool(nn.Module):
    """The pooling called ``name`` ("spoc", "spoc-centre", "mac", "gem") as a module:
    ``Pool("gem", p=4.0)(feature_map) -> (B, C)``."""

    def __init__(self, name: str, **kw: Any) -> None:
        super().__init__()
        if name not in POOLINGS:
            raise ConfigError(f"unknown pooling {name!r}; choose one of {POOLINGS}")
        unknown = sorted(set(kw) - _OPTIONS[name])
        if unknown:
            raise ConfigError(f"{name} pooling has no option {unknown}; it takes {_OPTIONS[name]}")
        self.name = name
        self.kw = dict(kw)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.name == "spoc":
            return spoc(x, **self.kw)
        if self.name == "spoc-centre":
            return spoc(x, centre_prior=True)
        if self.name == "mac":
            return mac(x)
        return gem(x, **self.kw)

    def extra_repr(self) -> str:
        return f"{self.name!r}" + "".join(f", {k}={v!r}" for k, v in self.kw.items())
