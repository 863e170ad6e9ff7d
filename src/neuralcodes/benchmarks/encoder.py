"""What a benchmark needs of a network: the encoder contract shared by every kind of model.

Any object with these members can be benchmarked: a run folder's network, ImageNet AlexNet, a
Hugging Face model (phase 2 makes each of them one). Nothing here depends on how the codes are
made; the benchmark only loads images through the encoder (so that each network applies its own
preprocessing) and encodes them in batches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image


@runtime_checkable
class ImageEncoder(Protocol):
    """Images -> L2-normalised neural codes of one layer."""

    @property
    def layer(self) -> str:
        """The name of the code (e.g. ``"L6"``)."""
        ...

    @property
    def dim(self) -> int:
        """The length D of one code."""
        ...

    def load(self, src: str | Path | Image.Image) -> np.ndarray:
        """An image file or a PIL image (e.g. a query crop) -> (S, S, 3) uint8 network input."""
        ...

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> (N, D) float32, each row L2-normalised."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What made the codes (recorded in every result, so that results can be compared)."""
        ...
