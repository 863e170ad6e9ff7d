"""What the HTTP API does, without HTTP: search an index by uploaded bytes or by id, serve an
indexed image or its thumbnail. ``app.py`` maps these to routes; tests can call them directly.

Each request takes the current generation of the index once (``CurrentIndex.get``) and answers
from it alone; the answer names it (``generation``). Paths in answers are relative to the indexed
photo folder, named once as ``photos_root`` (absolute for files added from elsewhere). A file name
need not be UTF-8 (Linux): each path is given as text (``path``: bytes that are not UTF-8 shown as
U+FFFD) and as its exact bytes (``path_b64``, base64), so no answer fails to encode as JSON.
Uploads are decoded on a small pool of their own (``decoding.py``); a search by id decodes nothing
and never waits for them. Only indexed files are ever read, and only as ``files.py`` allows.
"""

from __future__ import annotations

import math
import time
from typing import Any

from neuralcodes.allocator import release_memory
from neuralcodes.artifacts import jsonable
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import MAX_PIXELS
from neuralcodes.index.api import Index, SearchResult
from neuralcodes.index.result import relative_to_root
from neuralcodes.names import display, name_b64
from neuralcodes.serve.current import CurrentIndex
from neuralcodes.serve.decoding import LARGE_PIXELS, DecodePool, decode_reduced
from neuralcodes.serve.files import ImageFiles, UnknownId
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES, UploadRejected, check_image

__all__ = ["MAX_K", "SearchService", "UnknownId"]
MAX_K = 100
DECODE_WORKERS = 2  # uploads decoded at once (each up to max_pixels x 4 bytes while decoding)
FILE_WORKERS = 2  # thumbnails and full images decoded at once


class SearchService:
    """An open index, followed across updates, and the pools that decode images for it."""

    def __init__(
        self,
        index: Index,
        *,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        max_pixels: int = MAX_PIXELS,
        reload_check_s: float = 0.5,
    ) -> None:
        self.current = CurrentIndex(index, check_s=reload_check_s)
        self.max_upload_bytes = max_upload_bytes
        self.max_pixels = max_pixels
        self.uploads = DecodePool(DECODE_WORKERS, "upload")
        self.file_pool = DecodePool(FILE_WORKERS, "file")
        self.files = ImageFiles()
        self._info: tuple[str, dict[str, Any]] = ("", {})

    def close(self) -> None:
        self.uploads.shutdown()
        self.file_pool.shutdown()

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "images": len(self.current.get())}

    def info(self) -> dict[str, Any]:
        index = self.current.get()
        if self._info[0] != index.generation:
            # the manifest's values as JSON: NaN as null, a name that is not UTF-8 made valid
            self._info = (index.generation, jsonable(index.info(), text=display))
        limits = {"max_upload_bytes": self.max_upload_bytes, "max_pixels": self.max_pixels,
                  "max_k": MAX_K}
        return {**self._info[1], "images": len(index), "server": limits}

    def search_upload(self, data: bytes, k: int) -> dict[str, Any]:
        """Search by the bytes of an uploaded image; ``UploadRejected`` for a bad upload. Runs
        on the upload pool (``await service.uploads.run(service.search_upload, ...)``)."""
        header = check_image(data, max_bytes=self.max_upload_bytes, max_pixels=self.max_pixels)
        index = self.current.get()
        t0 = time.perf_counter()
        try:
            image = decode_reduced(data, index.image_policy, max_pixels=self.max_pixels)
            decoded_ms = (time.perf_counter() - t0) * 1e3
            result = index.search(image, k=_clamp(k, index))
            del image
        except DataError as e:
            raise UploadRejected(400, f"cannot decode the image: {e.problem}") from None
        finally:
            if header.width * header.height > LARGE_PIXELS:
                release_memory()
        elapsed = time.perf_counter() - t0
        timings = {**result.timings, "decode_ms": decoded_ms + result.timings["decode_ms"]}
        query = {"format": header.format, "width": header.width, "height": header.height,
                 "mode": header.mode, "bytes": header.n_bytes}
        return answer(result, query, timings, elapsed)

    def search_id(self, image_id: int, k: int) -> dict[str, Any]:
        """Search from an indexed image; ``UnknownId`` if there is none with this id."""
        index = self.current.get()
        try:
            path = index.path_of(image_id)
        except ConfigError:
            raise UnknownId(f"no indexed image has id {image_id}") from None
        t0 = time.perf_counter()
        result = index.search_by_id(image_id, k=_clamp(k, index))
        elapsed = time.perf_counter() - t0
        query = {"id": image_id, **path_fields(relative_to_root(path, str(index.root))),
                 "thumbnail_url": thumb_url(image_id)}
        return answer(result, query, result.timings, elapsed)

    def thumbnail(self, image_id: int) -> bytes:
        """A small JPEG of an indexed image (runs on the file pool); ``UnknownId`` if refused."""
        return self.files.thumbnail(self.current.get(), image_id)

    def image(self, image_id: int) -> tuple[bytes, str]:
        """The indexed file's bytes and media type (runs on the file pool)."""
        return self.files.image(self.current.get(), image_id)


def _clamp(k: int, index: Index) -> int:
    return max(1, min(k, MAX_K, len(index)))


def answer(result: SearchResult, query: dict[str, Any], timings: dict[str, float],
           elapsed_s: float) -> dict[str, Any]:
    """The JSON answer of a search: what was searched, the hits, the generation, the timings."""
    results = [
        {"rank": rank + 1, "id": int(i), **path_fields(p), "distance": _finite(d),
         "thumbnail_url": thumb_url(int(i)), "image_url": f"/api/images/{int(i)}"}
        for rank, (d, i, p) in enumerate(
            zip(result.distances, result.ids, result.relative_paths(), strict=True))
    ]  # fmt: skip
    parts = {f"{p}_ms": _ms(timings.get(f"{p}_ms")) for p in ("decode", "encode", "search")}
    return {"query": query, "results": results, **path_fields(result.root, "photos_root"),
            "generation": result.generation,
            "timings": {**parts, "total_ms": round(elapsed_s * 1000.0, 3)}}


def path_fields(path: str, key: str = "path") -> dict[str, str]:
    """``{key: the path as text, key_b64: its exact bytes}`` (``names.display``, ``name_b64``)."""
    return {key: display(path), f"{key}_b64": name_b64(path)}


def thumb_url(image_id: int) -> str:
    return f"/api/images/{image_id}?thumb=1"


def _ms(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None
