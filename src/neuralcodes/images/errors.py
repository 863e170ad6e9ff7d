"""The error policy of image reading: one bad image is an ``ImageError``, never anything else.

Pillow and the codecs below it raise many exception types for damaged or hostile files:
``OSError`` for truncated data, ``SyntaxError`` for broken headers, ``struct.error`` and
``TypeError`` for EXIF or TIFF tags of the wrong type, ``ValueError`` for a TIFF whose width is a
rational, ``DecompressionBombError``, ``MemoryError``... Every function of ``neuralcodes.images``
that reads one image turns any ``Exception`` raised while doing so into ``ImageError``, naming the
file and the reason, so that a caller lists the file as skipped and goes on.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal, get_args

from neuralcodes.errors import DataError

ImageErrorKind = Literal[
    "missing",  # no such file
    "not-a-file",  # a folder, FIFO, device, socket: only regular files are read
    "too-large",  # more bytes than the byte-size cap
    "unreadable",  # the file exists but cannot be opened or read (permissions, link loop, ...)
    "too-many-pixels",  # more pixels than the pixel limit: a possible decompression bomb
    "not-an-image",  # no reader of the accepted formats recognises it
    "needs-extra",  # HEIC/HEIF (or AVIF) without the optional reader installed
    "damaged",  # recognised, but its header or pixel data cannot be decoded
]
KINDS: tuple[str, ...] = get_args(ImageErrorKind)


class ImageError(DataError):
    """One image that cannot be read; ``path`` names it, ``problem`` says why, ``kind`` sorts it."""

    def __init__(self, path: str | Path, problem: str, kind: ImageErrorKind = "damaged") -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown ImageError kind {kind!r}; one of {KINDS}")
        self.kind: ImageErrorKind = kind
        super().__init__(path, problem)

    def __reduce__(self) -> tuple[type[ImageError], tuple[str, str, ImageErrorKind]]:
        # pickled across the worker pool: rebuild from the three arguments, not from ``args``
        return (type(self), (self.path, self.problem, self.kind))


def describe(e: BaseException) -> str:
    """``e`` in a few words: its strerror for an OSError, else "Type: message"."""
    if isinstance(e, OSError) and e.strerror:
        return e.strerror
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


@contextlib.contextmanager
def image_errors(name: str | Path, doing: str = "cannot decode the image") -> Iterator[None]:
    """Turn any ``Exception`` raised inside into ``ImageError(name, f"{doing} (...)")``.

    An ``ImageError`` passes unchanged; ``KeyboardInterrupt`` and ``SystemExit`` are not caught.
    """
    try:
        yield
    except ImageError:
        raise
    except MemoryError:
        raise ImageError(name, f"{doing}: out of memory", "too-many-pixels") from None
    except Exception as e:  # the policy: nothing else may escape for one image
        raise ImageError(name, f"{doing} ({describe(e)})", _kind_of(e)) from None


def _kind_of(e: Exception) -> ImageErrorKind:
    from PIL import Image, UnidentifiedImageError

    if isinstance(e, Image.DecompressionBombError):
        return "too-many-pixels"
    if isinstance(e, UnidentifiedImageError):
        return "not-an-image"
    return "damaged"
