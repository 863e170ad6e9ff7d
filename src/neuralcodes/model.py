"""The network of docs/protocol.md: named layers (``models.stages``), a registry, checkpoints.

Keras fidelity: "same" padding (for the 4x4 kernel one row/column more at the bottom/right),
ReLU after every layer but the logits, 2x2 max-pools, glorot-uniform weights and zero biases.
The softmax is folded into the loss. ``width`` scales every layer (for small CPU runs).
Self-describing checkpoints (``save_model`` / ``load_model``) rebuild the network from their
own ``ModelConfig`` and refuse files that are not neuralcodes models of this format.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.artifacts import atomic_torch_save, provenance, state_dict_hash
from neuralcodes.config import ModelConfig, from_dict, to_dict
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.models.alexnet import AlexNetCodes
from neuralcodes.models.stages import Stage, StagedNet

MODEL_FORMAT = 1  # bump when the checkpoint layout changes; older files are refused
LAYER_NAMES = (
    "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool3",
    "L5", "L6", "L7", "logits",
)  # fmt: skip
# (kernel, channels) of conv1..conv5 and the width of L6, L7 at width 1.0 (docs/protocol.md table)
CONV_SPECS = ((4, 96), (5, 192), (3, 288), (3, 288), (3, 256))
FC_WIDTH = 2048

Builder = Callable[[ModelConfig], nn.Module]
B = TypeVar("B", bound=Builder)


@runtime_checkable
class FeatureModel(Protocol):
    """The feature contract (docs/ARCHITECTURE.md) that codes and indexes rely on."""

    layer_names: tuple[str, ...]

    def forward_codes(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]: ...

    def code_dims(self, layer: str) -> int: ...


def feature_model(model: nn.Module) -> FeatureModel:
    """``model`` typed as a ``FeatureModel``; refuses a network without the feature contract."""
    if not isinstance(model, FeatureModel):
        raise ConfigError(f"{type(model).__name__} has no forward_codes/code_dims/layer_names")
    return model


_REGISTRY: dict[str, Builder] = {}


def register_model(name: str) -> Callable[[B], B]:
    """Decorator: make ``create_model`` build ``ModelConfig(name=name)`` with ``builder``."""

    def decorate(builder: B) -> B:
        _REGISTRY[name] = builder
        return builder

    return decorate


def create_model(cfg: ModelConfig) -> nn.Module:
    """Build the registered architecture ``cfg.name``; the model keeps ``cfg`` as ``.config``."""
    if cfg.name not in _REGISTRY:
        raise ConfigError(f"unknown model {cfg.name!r}; known models are {sorted(_REGISTRY)}")
    model = _REGISTRY[cfg.name](cfg)
    if getattr(model, "config", None) is None:
        model.config = cfg  # type: ignore[assignment]
    return model


def scaled(channels: int, width: float) -> int:
    """A layer width times ``width``, rounded, at least 1."""
    return max(1, round(channels * width))


class ConvBlock(nn.Module):
    """Convolution with Keras "same" padding, optional BatchNorm, ReLU."""

    def __init__(self, c_in: int, c_out: int, kernel: int, batchnorm: bool) -> None:
        super().__init__()
        before, after = (kernel - 1) // 2, kernel // 2  # TF puts the odd pixel bottom/right
        # an odd kernel pads evenly inside the convolution; an even one needs an explicit pad
        self.pad = None if before == after else (before, after, before, after)
        self.conv = nn.Conv2d(c_in, c_out, kernel, padding=before if self.pad is None else 0,
                              bias=not batchnorm)
        self.bn = nn.BatchNorm2d(c_out) if batchnorm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x if self.pad is None else F.pad(x, self.pad))  # (B, C_out, H, W)
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x, inplace=True)  # the fresh conv output is not needed again


@register_model("notebook")
class NotebookNet(StagedNet):
    """The seed notebook's ConvNet; layers addressable by name for neural codes."""

    layer_names = LAYER_NAMES
    feature_stages = 8  # through pool3

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
        self.probe_size = cfg.image_size
        chans = [scaled(c, cfg.width) for _, c in CONV_SPECS]
        ins = [3, *chans[:-1]]
        blocks = [
            ConvBlock(c_in, c_out, kernel, cfg.batchnorm)
            for (kernel, _), c_in, c_out in zip(CONV_SPECS, ins, chans, strict=True)
        ]
        self.conv1, self.conv2, self.conv3, self.conv4, self.conv5 = blocks
        side = cfg.image_size
        for _ in range(3):
            side = math.ceil(side / 2)  # "same" max-pool: ceil
        self.feature_shape = (chans[-1], side, side)  # (C, h, w) after pool3
        fc = scaled(FC_WIDTH, cfg.width)
        self.drop = nn.Dropout(cfg.dropout)
        self.fc6 = nn.Linear(chans[-1] * side * side, fc)
        self.fc7 = nn.Linear(fc, fc)
        self.fc8 = nn.Linear(fc, cfg.num_classes)
        keras_init(self)

    def stages(self) -> list[tuple[str, Stage]]:
        pool = _pool
        return [
            ("conv1", self.conv1), ("pool1", pool), ("conv2", self.conv2), ("pool2", pool),
            ("conv3", self.conv3), ("conv4", self.conv4), ("conv5", self.conv5), ("pool3", pool),
            ("L5", _flatten),
            ("L6", lambda t: F.relu(self.fc6(self.drop(t)))),
            ("L7", lambda t: F.relu(self.fc7(self.drop(t)))),
            ("logits", self.fc8),
        ]  # fmt: skip


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 2, ceil_mode=True)  # == Keras "same" 2x2 pooling


def _flatten(x: torch.Tensor) -> torch.Tensor:
    return torch.flatten(x, 1)  # (B, C*h*w); Keras orders (h, w, C): a permutation, same distances


def keras_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras initialises Conv2D and Dense."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@register_model("alexnet")
def _alexnet(cfg: ModelConfig) -> nn.Module:
    """The paper's network (``neuralcodes.models.alexnet``, torchvision's state-dict layout)."""
    return AlexNetCodes(num_classes=cfg.num_classes, dropout=cfg.dropout)


def model_hash(model: nn.Module) -> str:
    """A hash of the weights (16 hex digits), independent of device and serialisation."""
    return state_dict_hash(model.state_dict())


@dataclass(frozen=True)
class LoadedModel:
    model: nn.Module
    config: ModelConfig
    header: dict[str, Any]
    extra: dict[str, Any]


def save_model(path: str | Path, model: nn.Module, cfg: ModelConfig, **extra: Any) -> str:
    """Write weights + ``cfg`` + provenance atomically; returns the model hash.

    ``extra`` (class names, data fingerprint, epoch, metrics) must be plain Python values.
    """
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    digest = state_dict_hash(state)
    header = provenance("model", format=MODEL_FORMAT, model_hash=digest, model_name=cfg.name)
    blob = {"header": header, "config": to_dict(cfg), "state_dict": state, "extra": extra}
    atomic_torch_save(path, blob)
    return digest


def load_model(path: str | Path, map_location: str | torch.device = "cpu") -> LoadedModel:
    """Rebuild the network saved by ``save_model`` (in eval mode, on ``map_location``).

    Refuses, with the file's name and the problem, anything that is not a neuralcodes model of
    this format, and weights that do not match their stored hash.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(path, "model file not found")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for foreign files
        raise DataError(path, f"not a neuralcodes model file ({type(e).__name__}: {e})") from None
    header = blob.get("header") if isinstance(blob, dict) else None
    if not isinstance(header, dict) or header.get("artifact") != "model":
        raise DataError(path, "not a neuralcodes model file (no model header)")
    if header.get("format") != MODEL_FORMAT:
        raise ArtifactMismatchError(
            f"{path}: model format {header.get('format')!r} written by neuralcodes "
            f"{header.get('neuralcodes_version')}; this version reads format {MODEL_FORMAT}"
        )
    cfg = from_dict(ModelConfig, blob["config"])
    model = create_model(cfg)
    model.load_state_dict(blob["state_dict"])
    if model_hash(model) != header.get("model_hash"):
        raise ArtifactMismatchError(f"{path}: weights do not match the stored model hash")
    return LoadedModel(model.to(map_location).eval(), cfg, header, dict(blob.get("extra", {})))
