"""Serving indexed image files: only the file that was indexed, only once it decoded as an image.

A URL names an id, never a path. Before anything is read for ``GET /api/images/{id}``:

1. the id must be in the index, its path must have an image extension;
2. links are resolved, and the file must resolve inside the indexed photo folder (a file added
   from elsewhere with ``index add``: inside its own folder), so a photo replaced by a link to a
   system file is refused;
3. the file is opened without following a link in its last component and without blocking (a
   FIFO), and must be a regular file under ``MAX_FILE_BYTES``;
4. it must still be the file that was indexed: same size and modification time, or else the
   same SHA-256 as recorded (a full image is always hashed: its bytes are sent as they are);
5. it must decode as an image: a thumbnail is a JPEG made from the decoded pixels, and a full
   image is sent only after its thumbnail was made, with the media type of the format Pillow
   found in it (formats a browser cannot show are re-encoded as JPEG).
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from neuralcodes import names
from neuralcodes.allocator import release_memory
from neuralcodes.artifacts import sha256_bytes
from neuralcodes.errors import DataError, NeuralCodesError
from neuralcodes.images import (
    IMAGE_EXTENSIONS,
    image_errors,
    make_thumbnail,
    open_image,
    orient,
    to_rgb,
)
from neuralcodes.index.api import Index
from neuralcodes.index.plan import abs_path
from neuralcodes.index.result import relative_to_root
from neuralcodes.index.store import Entry
from neuralcodes.serve.decoding import LARGE_PIXELS

MAX_FILE_BYTES = 256 * 1024 * 1024
CACHED = 2048  # decoded thumbnails kept in memory
WEB_TYPES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
             "WEBP": "image/webp", "BMP": "image/bmp"}
OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
              | getattr(os, "O_BINARY", 0))


class UnknownId(LookupError):
    """No indexed image has this id, or its file is gone, changed or refused."""


@dataclass(frozen=True)
class Opened:
    """An indexed file, open: its entry, how it is shown, and whether its size and
    modification time are still the indexed ones."""

    entry: Entry
    shown: str
    file: IO[bytes]
    same_stat: bool

    def read_verified(self, always_hash: bool) -> bytes:
        data = self.file.read(MAX_FILE_BYTES + 1)
        if (always_hash or not self.same_stat) and sha256_bytes(data) != self.entry.sha256:
            raise UnknownId(f"the file of id {self.entry.id} ({self.shown}) is no longer the one "
                            "that was indexed: run `neuralcodes index update`")
        return data


@contextlib.contextmanager
def open_indexed(index: Index, image_id: int) -> Iterator[Opened]:
    """The file of ``image_id``, checked by steps 1 to 3 of the module's list."""
    try:
        entry = index.entry_of(image_id)
    except NeuralCodesError:  # Index.entry_of: ConfigError for an unknown id
        raise UnknownId(f"no indexed image has id {image_id}") from None
    path = abs_path(index.root, entry.path)
    shown = names.shown(relative_to_root(str(path), str(index.root)))
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        raise UnknownId(f"the indexed file of id {image_id} ({shown}) is not an image file")
    if not is_inside(path, path.parent if os.path.isabs(entry.path) else index.root):
        raise UnknownId(f"the file of id {image_id} ({shown}) resolves outside the indexed "
                        "folder: not served")
    try:
        fd = os.open(os.path.realpath(path), OPEN_FLAGS)
    except FileNotFoundError:
        raise UnknownId(f"the file of id {image_id} ({shown}) no longer exists") from None
    except OSError as e:
        raise UnknownId(f"the file of id {image_id} ({shown}) cannot be read: {e.strerror}"
                        ) from None
    try:
        st = os.fstat(fd)  # before fdopen, which refuses a folder with its own error
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE_BYTES:
            raise UnknownId(f"the file of id {image_id} ({shown}) is not a regular file of at "
                            f"most {MAX_FILE_BYTES // 2**20} MiB")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        same = (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns)
        yield Opened(entry, shown, f, same)


class ImageFiles:
    """Thumbnails and full images of indexed files; decoded thumbnails are kept by content
    hash (the most recently used ``CACHED``), with the format found in the file."""

    def __init__(self) -> None:
        self._decoded: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def thumbnail(self, index: Index, image_id: int) -> bytes:
        """A JPEG at most ``THUMB_SIZE`` (256) pixels on a side of an indexed image."""
        with open_indexed(index, image_id) as opened:
            cached = self._cached(opened.entry.sha256) if opened.same_stat else None
            if cached is None:
                cached = self._decode(opened.read_verified(always_hash=False), opened)
        return cached[0]

    def image(self, index: Index, image_id: int) -> tuple[bytes, str]:
        """The indexed file's bytes and media type (re-encoded if a browser cannot show it)."""
        with open_indexed(index, image_id) as opened:
            data = opened.read_verified(always_hash=True)
            fmt = (self._cached(opened.entry.sha256) or self._decode(data, opened))[1]
        if fmt in WEB_TYPES:
            return data, WEB_TYPES[fmt]
        return _as_jpeg(data), "image/jpeg"

    def _cached(self, sha256: str) -> tuple[bytes, str] | None:
        with self._lock:
            if sha256 in self._decoded:
                self._decoded.move_to_end(sha256)
                return self._decoded[sha256]
        return None

    def _decode(self, data: bytes, opened: Opened) -> tuple[bytes, str]:
        """(thumbnail JPEG, format) of verified bytes; ``UnknownId`` if they do not decode."""
        try:
            header = open_image(data)
            fmt, pixels = str(header.format), header.width * header.height
            thumb = make_thumbnail(data, name=opened.shown)
        except DataError as e:
            raise UnknownId(f"the file of id {opened.entry.id} ({opened.shown}) does not decode "
                            f"as an image: {e.problem}") from None
        if pixels > LARGE_PIXELS:
            release_memory()
        with self._lock:
            self._decoded[opened.entry.sha256] = (thumb, fmt)
            while len(self._decoded) > CACHED:
                self._decoded.popitem(last=False)
        return thumb, fmt


def _as_jpeg(data: bytes) -> bytes:
    """A format browsers do not show (TIFF), decoded and saved as a JPEG."""
    buf = io.BytesIO()
    with image_errors("<image bytes>"), open_image(data) as im:
        im.load()
        to_rgb(orient(im)).save(buf, format="JPEG", quality=92)
    return buf.getvalue()


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` resolves (links followed) inside ``folder``."""
    real, base = os.path.realpath(path), os.path.realpath(folder)
    try:
        return os.path.commonpath([real, base]) == base
    except ValueError:  # Windows: another drive
        return False
