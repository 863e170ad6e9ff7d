"""The network of docs/protocol.md: named layers, the feature contract, a registry, checkpoints.

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
from typing import Any, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.artifacts import atomic_torch_save, provenance, state_dict_hash
from neuralcodes.config import ModelConfig, from_dict, to_dict
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.models.alexnet import INPUT_SIZE as ALEXNET_INPUT
from neuralcodes.models.alexnet import AlexNetCodes

MODEL_FORMAT = 1  # bump when the checkpoint layout changes; older files are refused
LAYER_NAMES = (
    "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool3",
    "L5", "L6", "L7", "logits",
)  # fmt: skip
# (kernel, channels) of conv1..conv5 and the width of L6, L7 at width 1.0 (docs/protocol.md table)
CONV_SPECS = ((4, 96), (5, 192), (3, 288), (3, 288), (3, 256))
FC_WIDTH = 2048

Builder = Callable[[ModelConfig], nn.Module]


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


def register_model(name: str) -> Callable[[Builder], Builder]:
    """Decorator: make ``create_model`` build ``ModelConfig(name=name)`` with ``builder``."""

    def decorate(builder: Builder) -> Builder:
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


class NotebookNet(nn.Module):
    """The seed notebook's ConvNet; layers addressable by name for neural codes."""

    layer_names = LAYER_NAMES

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.config = cfg
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
        self._dims = self._layer_dims(chans, fc)
        keras_init(self)

    def _layer_dims(self, chans: list[int], fc: int) -> dict[str, tuple[int, ...]]:
        s = self.config.image_size
        s1, s2 = math.ceil(s / 2), math.ceil(math.ceil(s / 2) / 2)
        c1, c2, c3, c4, c5 = chans
        h = self.feature_shape[1]
        return {
            "conv1": (c1, s, s), "pool1": (c1, s1, s1),
            "conv2": (c2, s1, s1), "pool2": (c2, s2, s2),
            "conv3": (c3, s2, s2), "conv4": (c4, s2, s2), "conv5": (c5, s2, s2),
            "pool3": (c5, h, h),
            "L5": (c5 * h * h,), "L6": (fc,), "L7": (fc,), "logits": (self.config.num_classes,),
        }  # fmt: skip

    def _stages(self) -> list[tuple[str, Callable[[torch.Tensor], torch.Tensor]]]:
        pool = _pool
        return [
            ("conv1", self.conv1), ("pool1", pool), ("conv2", self.conv2), ("pool2", pool),
            ("conv3", self.conv3), ("conv4", self.conv4), ("conv5", self.conv5), ("pool3", pool),
            ("L5", _flatten),
            ("L6", lambda t: F.relu(self.fc6(self.drop(t)))),
            ("L7", lambda t: F.relu(self.fc7(self.drop(t)))),
            ("logits", self.fc8),
        ]  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, num_classes) logits."""
        return self.forward_head(self.forward_features(x))

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) -> (B, C, h, w): the last feature map (pool3)."""
        for _, stage in self._stages()[:8]:
            x = stage(x)
        return x

    def forward_head(self, f: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """(B, C, h, w) pool3 map -> (B, num_classes) logits, or (B, D7) L7 if ``pre_logits``."""
        stages = self._stages()[8:]
        for _, stage in stages[:-1] if pre_logits else stages:
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
        for name, stage in self._stages()[: deepest + 1]:
            x = stage(x)
            if name in wanted:
                out[name] = x
        return {name: out[name] for name in layers}

    def code_dims(self, layer: str) -> int:
        """The length of ``layer``'s flattened code (C * h * w for conv layers)."""
        check_layers([layer], self.layer_names)
        return math.prod(self._dims[layer])


def _pool(x: torch.Tensor) -> torch.Tensor:
    return F.max_pool2d(x, 2, ceil_mode=True)  # == Keras "same" 2x2 pooling


def _flatten(x: torch.Tensor) -> torch.Tensor:
    return torch.flatten(x, 1)  # (B, C*h*w); Keras orders (h, w, C): a permutation, same distances


def check_layers(layers: Sequence[str], known: Sequence[str]) -> None:
    """Refuse an empty request or layer names the model does not have."""
    unknown = [name for name in layers if name not in known]
    if unknown or not layers:
        raise ConfigError(f"unknown layers {unknown or '[]'}; known layers are {list(known)}")


def keras_init(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras initialises Conv2D and Dense."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@register_model("notebook")
def _build_notebook(cfg: ModelConfig) -> nn.Module:
    return NotebookNet(cfg)


class AlexNet(AlexNetCodes):
    """The paper's network (``neuralcodes.models.alexnet``, torchvision's state-dict layout)
    built from a ``ModelConfig`` (``name="alexnet"``), with the whole feature contract."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__(num_classes=cfg.num_classes, dropout=cfg.dropout)
        self.config = cfg
        self._dims: dict[str, int] = {}

    def code_dims(self, layer: str) -> int:
        """The length of ``layer``'s flattened code, from one forward pass of a blank image."""
        check_layers([layer], self.layer_names)
        if not self._dims:
            device = self.get_buffer("mean").device
            x = torch.zeros(1, 3, ALEXNET_INPUT, ALEXNET_INPUT, device=device)
            was_training = self.training
            self.eval()
            with torch.inference_mode():
                acts = self.forward_codes(x, list(self.layer_names))
            self.train(was_training)
            self._dims = {k: math.prod(v.shape[1:]) for k, v in acts.items()}
        return self._dims[layer]


@register_model("alexnet")
def _build_alexnet(cfg: ModelConfig) -> nn.Module:
    return AlexNet(cfg)


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
