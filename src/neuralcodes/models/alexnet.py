"""The paper's own network: AlexNet, with the exact state-dict layout of torchvision's ``alexnet``.

Babenko et al. (2014) took their codes from an ImageNet AlexNet-like network. This module builds
that architecture without depending on torchvision, so the PyTorch model-zoo weights
(``alexnet-owt-7be5be79.pth``, a plain state dict) load as they are, and exposes the same feature
contract as the project's own model (docs/ARCHITECTURE.md). Inputs are (B, 3, H, W) float in
[0, 1]; the model resizes them to 224 x 224 and applies the ImageNet mean/std itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.models.preprocess import IMAGENET_MEAN, IMAGENET_STD
from neuralcodes.models.stages import Stage, StagedNet

INPUT_SIZE = 224
LAYER_NAMES = (
    "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5",
    "L5", "L6", "L7", "logits",
)
# the slices of ``features`` (convs with their ReLU) and ``classifier`` that make each layer
_FEATURE_SLICES = ((0, 2), (2, 3), (3, 5), (5, 6), (6, 8), (8, 10), (10, 12), (12, 13))
_CLASSIFIER_SLICES = ((0, 3), (3, 6), (6, 7))  # L6, L7, logits


class AlexNetCodes(StagedNet):
    """AlexNet (torchvision layout) with named layers; L5 = flattened pool5 (9216),
    L6 = fc6 after ReLU (4096), L7 = fc7 after ReLU (4096)."""

    layer_names = LAYER_NAMES
    feature_stages = 8  # through pool5
    probe_size = INPUT_SIZE

    def __init__(self, num_classes: int = 1000, dropout: float = 0.5) -> None:
        super().__init__()
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

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, H, W) in [0, 1] -> (B, 3, 224, 224) ImageNet-normalised."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise ConfigError(f"AlexNet expects (B, 3, H, W) images, got {tuple(x.shape)}")
        if tuple(x.shape[2:]) != (INPUT_SIZE, INPUT_SIZE):
            x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear",
                              align_corners=False, antialias=True)
        mean, std = self.get_buffer("mean"), self.get_buffer("std")  # (1, 3, 1, 1)
        return (x - mean) / std

    def stages(self) -> list[tuple[str, Stage]]:
        convs = [self.features[a:b] for a, b in _FEATURE_SLICES]
        fcs = [self.classifier[a:b] for a, b in _CLASSIFIER_SLICES]
        return list(zip(LAYER_NAMES, [*convs, self._l5, *fcs], strict=True))

    def _l5(self, pool5: torch.Tensor) -> torch.Tensor:
        """(B, 256, 6, 6) -> (B, 9216); the input is always 224 x 224, so pool5 is 6 x 6 and
        torchvision's adaptive average pool keeps it as it is."""
        return torch.flatten(self.avgpool(pool5), 1)


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
