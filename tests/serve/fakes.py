"""A small in-memory stand-in for ``neuralcodes.index.api.Index``, for the API tests.

It behaves as the real one does (absolute paths from ``path_of``, ``ConfigError`` for an unknown
id, ``search_by_id`` leaving the query out, ``DataError`` for bytes that do not decode), but its
"code" of an image is the image's mean colour in [0, 1] (3 numbers), so every expected neighbour
and distance is known exactly. ``MinimalIndex`` offers only ``search`` (no timed steps).
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from neuralcodes.errors import ConfigError, DataError

# Solid colours saved as files under ROOT/<path>; ids are not contiguous (3 and 6 were "removed").
COLOURS: dict[int, tuple[str, tuple[int, int, int]]] = {
    0: ("reds/red.png", (255, 0, 0)),
    1: ("reds/dark red.jpg", (128, 0, 0)),
    2: ("green.png", (0, 255, 0)),
    4: ("blue.webp", (0, 0, 255)),
    5: ("grey.bmp", (128, 128, 128)),
    7: ("yellow.gif", (255, 255, 0)),
}


@dataclass
class FakeResult:
    distances: np.ndarray  # (k,) float32
    ids: np.ndarray  # (k,) int64
    paths: list[str]


class FakeIndex:
    """Mean-colour codes of a few solid-colour images, searched exactly."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ids = np.array(sorted(COLOURS), dtype=np.int64)  # (N,)
        self.vectors = np.array([COLOURS[i][1] for i in self.ids], np.float32) / 255  # (N, 3)
        self.queries: list[Any] = []
        for path, rgb in COLOURS.values():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (40, 30), rgb).save(root / path)

    def __len__(self) -> int:
        return len(self.ids)

    def info(self) -> dict[str, Any]:
        return {"photos_root": str(self.root), "layer": "L6", "dim": np.int64(3),
                "count": len(self), "pca": None}

    def path_of(self, id: int) -> str:
        if id not in COLOURS:
            raise ConfigError(f"no image with id {id!r} in the fake index")
        return str(self.root / COLOURS[id][0])

    def load(self, query: Any) -> np.ndarray:
        self.queries.append(query)
        return mean_colour(query)[None, None, :]  # (1, 1, 3) float "image"

    def embed(self, images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), 3)  # (Q, 3)

    def search_vectors(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        d = np.linalg.norm(self.vectors[None] - vectors[:, None], axis=2)  # (Q, N)
        order = np.argsort(d, axis=1, kind="stable")[:, :k]  # (Q, k)
        return np.take_along_axis(d, order, axis=1), self.ids[order]

    def search(self, query: Any, k: int = 10) -> FakeResult:
        dist, ids = self.search_vectors(self.embed(self.load(query)[None]), k)
        return FakeResult(dist[0], ids[0], [self.path_of(int(i)) for i in ids[0]])

    def search_by_id(self, id: int, k: int = 10) -> FakeResult:
        self.path_of(id)
        dist, ids = self.search_vectors(self.vectors[list(self.ids).index(id)][None], k + 1)
        keep = ids[0] != id
        ids_k = ids[0][keep][:k]
        return FakeResult(dist[0][keep][:k], ids_k, [self.path_of(int(i)) for i in ids_k])


class MinimalIndex:
    """Only ``search``, ``search_by_id``, ``info``, ``path_of`` and ``len``: no timed steps."""

    def __init__(self, inner: FakeIndex) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def info(self) -> dict[str, Any]:
        return self.inner.info()

    def path_of(self, id: int) -> str:
        return self.inner.path_of(id)

    def search(self, query: Any, k: int = 10) -> FakeResult:
        return self.inner.search(query, k)

    def search_by_id(self, id: int, k: int = 10) -> FakeResult:
        return self.inner.search_by_id(id, k)


def mean_colour(query: Any) -> np.ndarray:
    """(3,) float32 mean RGB in [0, 1] of image bytes; ``DataError`` if they do not decode."""
    try:
        with Image.open(io.BytesIO(query)) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=np.float32)  # (H, W, 3)
    except Exception as e:
        raise DataError("<uploaded bytes>", f"cannot decode the image ({e})") from None
    return rgb.reshape(-1, 3).mean(axis=0) / 255


def encode(im: Image.Image, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt)
    return buf.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` RGB pixels (a decompression bomb
    shape: decoding it would need width * height * 3 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
