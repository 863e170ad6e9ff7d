"""A few generated photos, indexed with a tiny random network: a real index for the server tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from neuralcodes.index.api import Index

from ..tiny_run import make_run

# (relative path, Pillow format, size, mode): several formats, sizes, modes and a sub-folder.
PHOTOS = [
    ("beach.jpg", "JPEG", (120, 80), "RGB"),
    ("city.png", "PNG", (64, 64), "RGBA"),
    ("trips/forest.webp", "WEBP", (90, 140), "RGB"),
    ("trips/night.bmp", "BMP", (50, 50), "RGB"),
    ("trips/old/portrait.png", "PNG", (70, 100), "L"),
    ("snow.gif", "GIF", (80, 60), "P"),
]


def photo(seed: int, size: tuple[int, int], mode: str) -> Image.Image:
    """A distinct picture: smooth colour waves plus noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)  # (h, w) each
    base, freq = rng.uniform(40, 255, 3), rng.uniform(2, 9, 3)
    pixels = np.stack([base[c] * (0.5 + 0.5 * np.sin(freq[c] * (xx + c * yy) * np.pi))
                       for c in range(3)], axis=2)  # (h, w, 3)
    noisy = np.clip(pixels + rng.normal(0, 8, pixels.shape), 0, 255).astype(np.uint8)
    return Image.fromarray(noisy).convert(mode)


def build_real_index(tmp: Path) -> Index:
    """PHOTOS under ``tmp/photos``, indexed into ``tmp/index`` with a tiny model in ``tmp/run``."""
    from neuralcodes.index.builder import build_index

    make_run(tmp / "run")
    for seed, (rel, fmt, size, mode) in enumerate(PHOTOS):
        (tmp / "photos" / rel).parent.mkdir(parents=True, exist_ok=True)
        photo(seed, size, mode).save(tmp / "photos" / rel, format=fmt)
    build_index(tmp / "photos", tmp / "index", run_dir=tmp / "run", layer="L6", workers=1,
                device="cpu")
    return Index.open(tmp / "index", device="cpu")


def id_of(index: Index, rel: str) -> int:
    """The id of the indexed file ``rel`` (relative to the photo folder)."""
    return next(e.id for e in index.entries if e.path == rel)
