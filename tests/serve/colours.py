"""A real index of a few solid-colour images whose network is replaced by their mean colour.

The index is written to disk and opened with ``Index.open`` like any other: entries with content
hashes, an exact backend, a manifest; only the network is a stand-in (``MeanColourEncoder``: the
"code" of an image is its mean colour in [0, 1], 3 numbers), so every expected neighbour and
distance of the API tests is known exactly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from neuralcodes.artifacts import sha256_file
from neuralcodes.images import photo_policy
from neuralcodes.index.api import Index
from neuralcodes.index.manifest import ARTIFACT, FORMAT
from neuralcodes.index.store import Entry, write_generation

# Solid colours saved as files under ROOT/<path>; ids are not contiguous (3 and 6 were "removed").
COLOURS: dict[int, tuple[str, tuple[int, int, int]]] = {
    0: ("reds/red.png", (255, 0, 0)),
    1: ("reds/dark red.jpg", (128, 0, 0)),
    2: ("green.png", (0, 255, 0)),
    4: ("blue.webp", (0, 0, 255)),
    5: ("grey.bmp", (128, 128, 128)),
    7: ("yellow.gif", (255, 255, 0)),
}
FINGERPRINT = {"model_hash": "mean-colour", "model_name": "mean colour", "layer": "L6",
               "image_size": 8, "code_dim": 3}


class MeanColourEncoder:
    """Stands in for a network: (N, 8, 8, 3) uint8 -> (N, 3) mean colours in [0, 1]."""

    image_size, dim, layer, run_dir = 8, 3, "L6", Path("mean-colour")
    image_policy = photo_policy(8)  # how the index reads a query for it

    def __init__(self) -> None:
        self.queries: list[tuple[int, ...]] = []  # the shape of every batch encoded

    def encode(self, images: np.ndarray) -> np.ndarray:
        self.queries.append(images.shape)
        return images.reshape(len(images), -1, 3).mean(axis=1).astype(np.float32) / 255

    def fingerprint(self) -> dict[str, Any]:
        return dict(FINGERPRINT)


def entry_of(image_id: int, path: Path, stored: str) -> Entry:
    """The index entry of a file as it is now."""
    st = os.stat(path)
    return Entry(image_id, stored, sha256_file(path), st.st_size, st.st_mtime_ns)


def colour_index(root: Path, index_dir: Path) -> Index:
    """Write the COLOURS images under ``root``, index them in ``index_dir`` and open it."""
    entries = []
    for image_id, (path, rgb) in COLOURS.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), rgb).save(root / path)
        entries.append(entry_of(image_id, root / path, path))
    vectors = np.array([rgb for _, rgb in COLOURS.values()], np.float32) / 255  # (6, 3)
    manifest = {"artifact": ARTIFACT, "format": FORMAT, **FINGERPRINT, "run_dir": "mean-colour",
                "photos_root": str(root), "pca": None, "dim": 3, "normalized": False,
                "backend": {"kind": "exact"}, "skipped": [], "excluded": [], "next_id": 8}
    write_generation(index_dir, manifest, entries, vectors, {})
    return Index.open(index_dir, encoder=MeanColourEncoder())  # type: ignore[arg-type]
