"""Checking an uploaded image before anything decodes its pixels.

An upload is refused, with an HTTP status and a message a person can act on, when it is empty,
larger than the byte limit, not an image of a supported format, or declares more pixels than the
pixel limit (a decompression bomb: a few hundred bytes of PNG can declare 30000x30000 pixels,
2.7 GB once decoded). Only the image header is read here; the pixels are decoded afterwards, by
the index, and only when the header is acceptable.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 20 MiB
DEFAULT_MAX_PIXELS = 64_000_000  # 64 megapixels: larger than any phone photo, 192 MB as RGB
# Formats that Pillow reads without external programs (EPS, for one, would run Ghostscript);
# phone photos in MPO (several JPEGs in one file) open through the JPEG reader.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")


class UploadRejected(Exception):
    """An upload that the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ImageHeader:
    """What the header of an accepted upload says."""

    format: str  # Pillow's format name: "JPEG", "PNG", ...
    width: int
    height: int
    mode: str  # Pillow's mode: "RGB", "L", "RGBA", "P", "I;16", ...
    n_bytes: int


def check_size(n_bytes: int, max_bytes: int) -> None:
    """Refuse (413) an upload of more than ``max_bytes`` bytes, and (400) an empty one."""
    if n_bytes > max_bytes:
        raise UploadRejected(
            413, f"upload too large: {_mib(n_bytes)} exceeds the limit of {_mib(max_bytes)}"
        )
    if n_bytes == 0:
        raise UploadRejected(400, "empty upload: send an image file")


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageHeader:
    """Read only the header of ``data`` and refuse it if it is not a safe image to decode.

    Raises ``UploadRejected``: 413 for too many bytes or pixels, 415 for a file that is not an image
    of an accepted format, 400 for an empty upload or a damaged header.
    """
    check_size(len(data), max_bytes)
    from PIL import Image, UnidentifiedImageError

    Image.init()  # registers every format plugin, so that ``formats=`` can name them
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS) as im:
                header = ImageHeader(str(im.format), im.width, im.height, im.mode, len(data))
    except Image.DecompressionBombError as e:
        raise UploadRejected(413, f"image too large (decompression bomb?): {e}") from None
    except UnidentifiedImageError:
        raise UploadRejected(
            415, "not an image, or not a supported format: send a "
            + ", ".join(ACCEPTED_FORMATS) + " file",
        ) from None
    except Exception as e:  # Pillow raises many types for a damaged header
        raise UploadRejected(400, f"damaged image header ({type(e).__name__}: {e})") from None
    _check_pixels(header, max_pixels)
    return header


def _check_pixels(header: ImageHeader, max_pixels: int) -> None:
    n = header.width * header.height
    if header.width < 1 or header.height < 1:
        raise UploadRejected(400, f"image declares an empty size {header.width}x{header.height}")
    if n > max_pixels:
        raise UploadRejected(
            413,
            f"image too large: {header.width}x{header.height} = {n / 1e6:.1f} megapixels exceeds "
            f"the limit of {max_pixels / 1e6:.1f} megapixels (decompression bomb?); "
            "downscale it and try again",
        )


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"
