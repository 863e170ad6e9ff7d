"""What the HTTP API does, without HTTP: search an index by uploaded bytes or by id, find an indexed
image's file, make its thumbnail. ``app.py`` maps these to routes; tests can call them directly.

Only files that the index holds are ever read: a URL names an id (never a path), the index gives
the id's file, and a file without an image extension is refused even then. Paths in answers are
relative to the indexed photo folder (absolute for files added from elsewhere).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from neuralcodes.errors import DataError, NeuralCodesError
from neuralcodes.index.images import IMAGE_EXTENSIONS
from neuralcodes.serve.thumbnails import ThumbnailCache
from neuralcodes.serve.uploads import (
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_UPLOAD_BYTES,
    UploadRejected,
    check_image,
)

MAX_K = 100


class IndexLike(Protocol):
    """The part of ``neuralcodes.index.api.Index`` that the server uses. An index that also has
    ``load`` (image -> (S, S, 3) uint8), ``embed`` ((Q, S, S, 3) -> (Q, D)) and ``search_vectors``
    ((Q, D), k -> (distances, ids), each (Q, k)) gets decode / encode / search timed apart."""

    def search(self, query: Any, k: int = 10) -> Any: ...
    def search_by_id(self, id: int, k: int = 10) -> Any: ...
    def info(self) -> dict[str, Any]: ...
    def path_of(self, id: int) -> str: ...
    def __len__(self) -> int: ...


class UnknownId(LookupError):
    """No indexed image has this id (or its file is gone)."""


@dataclass
class Found:
    """One query's neighbours, nearest first, and how long each step took (milliseconds)."""

    distances: np.ndarray  # (k,) float
    ids: np.ndarray  # (k,) int
    paths: list[str]
    timings: dict[str, float] = field(default_factory=dict)


class SearchService:
    """An open index behind a lock (the index and its model are not assumed thread-safe)."""

    def __init__(
        self,
        index: IndexLike,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        self.index = index
        self.max_upload_bytes = max_upload_bytes
        self.max_pixels = max_pixels
        self._lock = threading.Lock()
        self._info = json_safe(index.info())
        self.root = Path(photo_root(self._info))
        self.thumbs = ThumbnailCache()

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "images": len(self.index)}

    def info(self) -> dict[str, Any]:
        limits = {"max_upload_bytes": self.max_upload_bytes, "max_pixels": self.max_pixels,
                  "max_k": MAX_K}
        return {**self._info, "images": len(self.index), "server": limits}

    def search_upload(self, data: bytes, k: int) -> dict[str, Any]:
        """Search by the bytes of an uploaded image; ``UploadRejected`` for a bad upload."""
        header = check_image(data, max_bytes=self.max_upload_bytes, max_pixels=self.max_pixels)
        with self._lock:
            t0 = time.perf_counter()
            try:
                result = self._search_bytes(data, self._clamp(k))
            except DataError as e:
                raise UploadRejected(400, f"cannot decode the image: {e.problem}") from None
            elapsed = time.perf_counter() - t0
        query = {"format": header.format, "width": header.width, "height": header.height,
                 "mode": header.mode, "bytes": header.n_bytes}
        return self._answer(result, query, elapsed)

    def _search_bytes(self, data: bytes, k: int) -> Any:
        """``index.search(data, k)``, in its three timed steps where the index offers them."""
        index: Any = self.index
        if not all(hasattr(index, a) for a in ("load", "embed", "search_vectors")):
            return index.search(data, k=k)
        t0 = time.perf_counter()
        pixels = index.load(data)  # (S, S, 3) uint8
        t1 = time.perf_counter()
        vectors = index.embed(pixels[None])  # (1, D)
        t2 = time.perf_counter()
        dist, ids = index.search_vectors(vectors, k)  # (1, k), (1, k)
        t3 = time.perf_counter()
        keep = ids[0] >= 0
        ids_k = ids[0][keep]
        ms = {"decode_ms": (t1 - t0) * 1e3, "encode_ms": (t2 - t1) * 1e3,
              "search_ms": (t3 - t2) * 1e3}
        return Found(dist[0][keep], ids_k, [index.path_of(int(i)) for i in ids_k], ms)

    def search_id(self, image_id: int, k: int) -> dict[str, Any]:
        """Search from an indexed image; ``UnknownId`` if there is none with this id."""
        path = self.relative_path(image_id)
        with self._lock:
            t0 = time.perf_counter()
            result = self.index.search_by_id(image_id, k=self._clamp(k))
            elapsed = time.perf_counter() - t0
        query = {"id": image_id, "path": self.display_path(path),
                 "thumbnail_url": thumb_url(image_id)}
        return self._answer(result, query, elapsed)

    def relative_path(self, image_id: int) -> str:
        """The indexed path of ``image_id`` as the index gives it; ``UnknownId`` if none."""
        if image_id < 0:
            raise UnknownId(f"no indexed image has id {image_id}")
        try:
            return str(self.index.path_of(image_id))  # a dict look-up: no lock needed
        except (LookupError, ValueError, TypeError, NeuralCodesError):
            raise UnknownId(f"no indexed image has id {image_id}") from None

    def display_path(self, path: str) -> str:
        """``path`` relative to the photo folder (POSIX separators), or as is if outside it."""
        try:
            return (self.root / path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def file_of(self, image_id: int) -> Path:
        """The file of an indexed image; ``UnknownId`` if it is gone or is not an image file."""
        path = self.root / self.relative_path(image_id)  # an absolute path replaces the root
        shown = self.display_path(str(path))
        if path.suffix.lower() not in IMAGE_EXTENSIONS:
            raise UnknownId(f"the indexed file of id {image_id} ({shown}) is not an image file")
        if not path.is_file():
            raise UnknownId(f"the file of id {image_id} ({shown}) no longer exists")
        return path

    def thumbnail(self, image_id: int) -> bytes:
        """A small JPEG of an indexed image; ``UnknownId`` if its file is gone."""
        path = self.file_of(image_id)
        try:
            return self.thumbs.get(path)
        except DataError as e:
            raise UnknownId(str(e)) from None

    def _clamp(self, k: int) -> int:
        return max(1, min(k, MAX_K, len(self.index)))

    def _answer(self, result: Any, query: dict[str, Any], elapsed_s: float) -> dict[str, Any]:
        results = [
            {"rank": rank + 1, "id": int(i), "path": self.display_path(p), "distance": _finite(d),
             "thumbnail_url": thumb_url(int(i)), "image_url": f"/api/images/{int(i)}"}
            for rank, (d, i, p) in enumerate(
                zip(np.ravel(result.distances), np.ravel(result.ids), result.paths, strict=False))
        ]  # fmt: skip
        return {"query": query, "results": results, "timings": timings_of(result, elapsed_s)}


def thumb_url(image_id: int) -> str:
    return f"/api/images/{image_id}?thumb=1"


def timings_of(result: Any, elapsed_s: float) -> dict[str, float | None]:
    """decode / encode / search milliseconds: the index's own split when it reports one, otherwise
    the whole call as ``total_ms`` with the parts unknown (``None``)."""
    reported = getattr(result, "timings", None) or {}
    out: dict[str, float | None] = {}
    for part in ("decode", "encode", "search"):
        value = reported.get(f"{part}_ms", reported.get(part))
        out[f"{part}_ms"] = None if value is None else round(float(value), 3)
    out["total_ms"] = round(elapsed_s * 1000.0, 3)
    return out


def photo_root(info: dict[str, Any]) -> str:
    """The absolute photo folder that indexed paths are relative to, from ``Index.info()``."""
    for key in ("photos_root", "root"):
        if isinstance(info.get(key), str):
            return str(info[key])
    raise DataError("<index>", f"index info names no photo folder (keys: {sorted(info)})")


def json_safe(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays, paths and tuples turned into JSON types."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, np.generic):
        return json_safe(value.item())
    if isinstance(value, float):
        return _finite(value)
    if isinstance(value, Path):
        return str(value)
    return value


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
