"""Opening an image: its header only, with the pixel limit (``MAX_PIXELS``, see ``limits.py``)
checked before any pixel is decoded, and only formats decoded in-process (``formats.py``).
"""

from __future__ import annotations

import io
import os
import re
import warnings
from typing import IO, Any

from PIL import Image, UnidentifiedImageError

from neuralcodes.images.errors import ImageError, describe
from neuralcodes.images.files import read_image_file
from neuralcodes.images.formats import accepted_formats, needs_extra
from neuralcodes.images.limits import MAX_PIXELS

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | Image.Image


def open_image(
    src: ImageSource, *, max_pixels: int = MAX_PIXELS, name: str | None = None
) -> Image.Image:
    """Open ``src`` lazily (header only) and refuse it (``ImageError``) unless it is an image of
    an accepted format with at most ``max_pixels`` pixels. ``name``: how errors name it.

    A path is read through ``read_image_file`` (regular files only, byte-size cap).
    """
    name = name or name_of(src)
    if isinstance(src, Image.Image):
        img = src
    else:
        data = source_bytes(src, name)
        img = _open_bytes(data, name)
    check_pixels(img, name, max_pixels)
    return img


def check_pixels(img: Image.Image, name: str, max_pixels: int = MAX_PIXELS) -> None:
    """Refuse an image of more than ``max_pixels`` pixels, or of an empty size."""
    try:
        width, height = (int(v) for v in img.size)
    except Exception as e:  # a damaged header may give anything as a size
        raise ImageError(name, f"damaged image header: size {describe(e)}") from None
    n = width * height
    if n > max_pixels:
        raise ImageError(
            name, f"refused as a possible decompression bomb: {width}x{height} = "
            f"{n / 1e6:.1f} megapixels exceeds the limit of {max_pixels / 1e6:.1f} megapixels "
            f"({n:,} pixels > {max_pixels:,})", "too-many-pixels",
        )
    if width < 1 or height < 1:
        raise ImageError(name, f"empty image ({width}x{height})")


def source_bytes(src: Any, name: str) -> bytes:
    """The encoded bytes of a path (``read_image_file``), bytes or binary file object."""
    if isinstance(src, bytes | bytearray | memoryview):
        return bytes(src)
    if isinstance(src, str | os.PathLike):
        return read_image_file(src).data
    try:
        return bytes(src.read())  # a binary file object
    except Exception as e:
        raise ImageError(name, f"cannot read the file ({describe(e)})", "unreadable") from None


def _open_bytes(data: bytes, name: str) -> Image.Image:
    if not data:
        raise ImageError(name, "not an image: the file is empty", "not-an-image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=accepted_formats())
    except Image.DecompressionBombError as e:  # Pillow's own check, at twice its limit
        raise ImageError(name, _bomb_problem(e), "too-many-pixels") from None
    except UnidentifiedImageError:
        extra = needs_extra(data[:64], name)
        if extra:
            raise ImageError(name, extra, "needs-extra") from None
        raise ImageError(name, "not an image (or a format that is not read: "
                         + ", ".join(accepted_formats()) + ")", "not-an-image") from None
    except Exception as e:  # Pillow raises many types for a damaged header
        raise ImageError(name, f"damaged image header ({describe(e)})") from None


def _bomb_problem(e: Exception) -> str:
    """Pillow's refusal in the words of ``check_pixels`` (its message names twice its limit)."""
    found = re.search(r"\((\d+) pixels\)", str(e))
    if found is None:
        return f"refused as a possible decompression bomb ({e})"
    n = int(found.group(1))
    return (f"refused as a possible decompression bomb: {n / 1e6:.1f} megapixels exceeds the "
            f"limit of {MAX_PIXELS / 1e6:.1f} megapixels ({n} pixels > {MAX_PIXELS})")


def name_of(src: Any) -> str:
    """How errors name an image source: its path, or what it is."""
    if isinstance(src, str | os.PathLike):
        return os.fspath(src)  # type: ignore[return-value]
    if isinstance(src, bytes | bytearray | memoryview):
        return "<uploaded bytes>"
    if isinstance(src, Image.Image):
        return str(getattr(src, "filename", "") or "<PIL image>")
    if hasattr(src, "read"):
        return str(getattr(src, "name", "<file>"))
    kind = type(src).__name__
    return "<array>" if kind == "ndarray" else f"<{kind}>"
