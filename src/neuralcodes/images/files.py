"""Reading an image file's bytes safely: regular files only, a byte-size cap checked first.

A FIFO named ``photo.jpg`` would block a reader forever, and a link to ``/dev/zero`` would be read
until memory runs out. So the path is ``stat``-ed first (following links, opening nothing) and
anything but a regular file is refused; the file is then opened non-blocking (a file swapped for a
FIFO in between cannot block the open) and ``fstat``-ed again, its size is checked against the
cap before a byte is read, and at most ``max_bytes + 1`` bytes are ever read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from neuralcodes.images.errors import ImageError, describe
from neuralcodes.images.limits import MAX_FILE_BYTES

_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


@dataclass(frozen=True, eq=False)
class FileBytes:
    """A file's content with the size and modification time it was read with."""

    data: bytes
    size: int
    mtime_ns: int


def read_image_file(path: str | os.PathLike[str], *, max_bytes: int = MAX_FILE_BYTES) -> FileBytes:
    """The bytes of the regular file ``path``; ``ImageError`` for anything else or too large."""
    name = os.fspath(path)
    try:
        _check_regular(name, os.stat(name), max_bytes)  # opens nothing: no device side effect
        fd = os.open(name, _FLAGS)
    except OSError as e:
        raise _open_error(name, e) from None
    try:
        st = os.fstat(fd)
        _check_regular(name, st, max_bytes)  # the path may have been swapped since the stat
        data = _read_capped(fd, st.st_size, max_bytes)
    except OSError as e:
        raise ImageError(name, f"cannot read the file ({describe(e)})", "unreadable") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise too_large(name, len(data), max_bytes)
    return FileBytes(data, len(data), st.st_mtime_ns)


def _read_capped(fd: int, size: int, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``fd``, in one read when the file is ``size`` long."""
    parts: list[bytes] = []
    total, limit = 0, max_bytes + 1
    while total < limit:
        block = os.read(fd, min(limit - total, max(size + 1 - total, 1 << 16)))
        if not block:
            break
        parts.append(block)
        total += len(block)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _open_error(name: str, e: OSError) -> ImageError:
    if isinstance(e, FileNotFoundError):
        return ImageError(name, "file not found", "missing")
    return ImageError(name, f"cannot open the file ({describe(e)})", "unreadable")


def _check_regular(name: str, st: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ImageError(name, f"not a regular file ({file_kind(st.st_mode)}): only regular files "
                         "are read", "not-a-file")
    if st.st_size > max_bytes:
        raise too_large(name, st.st_size, max_bytes)


def too_large(name: str, n: int, max_bytes: int) -> ImageError:
    """The refusal of a file (or archive member) of ``n`` bytes, more than ``max_bytes``."""
    return ImageError(name, f"file too large: {n:,} bytes, more than the limit of {max_bytes:,}",
                      "too-large")


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in a word: "folder", "FIFO", "character device", ..."""
    for test, word in ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "FIFO"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISSOCK, "socket")):
        if test(mode):
            return word
    return "special file"
