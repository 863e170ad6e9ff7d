"""The paper's own network: AlexNet, with the exact state-dict layout of torchvision's ``alexnet``.

Babenko et al. (2014) took their codes from an ImageNet AlexNet-like network. This module builds
that architecture without depending on torchvision, so the PyTorch model-zoo weights
(``alexnet-owt-7be5be79.pth``, a plain state dict) load as they are, and exposes the same feature
contract as the project's own model (docs/ARCHITECTURE.md). Inputs are (B, 3, H, W) float in
[0, 1]; the model resizes them to 224 x 224 and applies the ImageNet mean/std itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.errors import ConfigError, DataError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INPUT_SIZE = 224
LAYER_NAMES = (
    "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5",
    "L5", "L6", "L7", "logits",
)
# features index of the module whose output each name is (convs: after their ReLU)
_FEATURE_TAPS = {"conv1": 1, "pool1": 2, "conv2": 4, "pool2": 5, "conv3": 7, "conv4": 9,
                 "conv5": 11, "pool5": 12}


class AlexNetCodes(nn.Module):
    """AlexNet (torchvision layout) with named layers; L5 = flattened pool5 (9216),
    L6 = fc6 after ReLU (4096), L7 = fc7 after ReLU (4096)."""

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5, resize: bool = True) -> None:
        super().__init__()
        self.resize = resize
        self.features = nn.Sequential(
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
            nn.Dropout(p=dropout), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )
        # not in the state dict (persistent=False): the layout stays torchvision's
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), False)

    @property
    def layer_names(self) -> tuple[str, ...]:
        return LAYER_NAMES

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, 224, 224) ImageNet-normalised."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ConfigError(f"AlexNet expects (B, 3, H, W) images, got {tuple(x.shape)}")
        if self.resize and tuple(x.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                              align_corners=False, antialias=True)
        mean, std = self.get_buffer("mean"), self.get_buffer("std")  # (1, 3, 1, 1)
        return (x - mean) / std

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Images -> (B, 256, 6, 6): pool5 after the adaptive average pool."""
        return self.avgpool(self.features(self.prepare(x)))

    def forward_head(self, f: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """(B, 256, 6, 6) -> (B, 4096) L7 if ``pre_logits`` else (B, num_classes) logits."""
        h = self.classifier[:6](torch.flatten(f, 1))  # (B, 4096) L7
        return h if pre_logits else self.classifier[6](h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_codes(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Raw (not normalised) activations of the named layers, one forward pass."""
        unknown = [name for name in layers if name not in LAYER_NAMES]
        if unknown:
            raise ConfigError(f"unknown AlexNet layers {unknown}; known layers: {LAYER_NAMES}")
        wanted, out = set(layers), {}
        h = self.prepare(x)
        taps = {i: name for name, i in _FEATURE_TAPS.items()}
        for i, module in enumerate(self.features):
            h = module(h)
            if taps.get(i) in wanted:
                out[taps[i]] = h.clone()  # the next ReLU is in place
        h = torch.flatten(self.avgpool(h), 1)  # (B, 9216) L5
        stages = (("L5", 0, 0), ("L6", 0, 3), ("L7", 3, 6), ("logits", 6, 7))  # classifier slices
        deepest = max((i for i, (name, _, _) in enumerate(stages) if name in wanted), default=-1)
        for name, start, stop in stages[: deepest + 1]:
            h = self.classifier[start:stop](h)  # L6: (B, 4096), L7: (B, 4096), logits
            if name in wanted:
                out[name] = h.clone()
        return {name: out[name] for name in layers}


def expected_layout(num_classes: int = 1000) -> dict[str, tuple[int, ...]]:
    """State-dict key -> shape of torchvision's ``alexnet``."""
    with torch.device("meta"):  # shapes only: no memory, no initialisation
        model = AlexNetCodes(num_classes=num_classes)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def check_layout(state: Mapping[str, torch.Tensor], path: str | Path) -> int:
    """Raise DataError listing every missing, unexpected or misshapen key; return num_classes."""
    head = state.get("classifier.6.weight")
    num_classes = int(head.shape[0]) if isinstance(head, torch.Tensor) and head.dim() == 2 else 1000
    expected = expected_layout(num_classes)
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    shapes = [
        f"{k}: {tuple(state[k].shape)} (expected {expected[k]})"
        for k in sorted(set(expected) & set(state))
        if tuple(state[k].shape) != expected[k]
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if extra:
        problems.append(f"unexpected keys {extra}")
    if shapes:
        problems.append(f"wrong shapes: {'; '.join(shapes)}")
    if problems:
        layout = ", ".join(f"{k} {s}" for k, s in expected.items())
        raise DataError(path, "not torchvision AlexNet weights: " + " | ".join(problems)
                        + f". Expected layout: {layout}")
    return num_classes


def load_alexnet_weights(path: str | Path, map_location: str = "cpu") -> AlexNetCodes:
    """An ``AlexNetCodes`` (eval mode) with the weights of a torchvision-layout state dict file."""
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except Exception as e:  # torch raises many kinds for a file that is not a checkpoint
        raise DataError(path, f"not a PyTorch state-dict file ({type(e).__name__}: {e})") from None
    if not isinstance(state, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state.values()
    ):
        raise DataError(path, "expected a plain state dict (name -> tensor), as torchvision saves")
    model = AlexNetCodes(num_classes=check_layout(state, path))
    model.load_state_dict(state)
    return model.eval()
