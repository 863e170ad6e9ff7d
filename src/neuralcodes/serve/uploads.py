"""Checking an uploaded image before anything decodes its pixels.

An upload is refused, with an HTTP status and a message a person can act on, when it is empty,
larger than the byte limit, not an image of a supported format, or declares more pixels than the
pixel limit (a decompression bomb: a few hundred bytes of PNG can declare 30000x30000 pixels,
2.7 GB once decoded). Only the image header is read here, by ``neuralcodes.images.open_image``
(the same formats and pixel limit as every other path); the pixels are decoded afterwards, by the
index, at a reduced size, and only when the header is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralcodes.images import ImageError

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 20 MiB
# what the refusal of an image (an ImageError's kind) answers: 413, 415 or 400 (the default)
_STATUS = {"too-many-pixels": 413, "too-large": 413, "not-an-image": 415, "needs-extra": 415}


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
    from neuralcodes.images import open_image

    try:
        with open_image(data, max_pixels=max_pixels, name="upload") as im:
            return ImageHeader(str(im.format), im.width, im.height, im.mode, len(data))
    except ImageError as e:
        raise UploadRejected(_STATUS.get(e.kind, 400), _message(e)) from None


def _message(e: ImageError) -> str:
    if e.kind == "too-many-pixels":
        return f"image too large: {e.problem}; downscale it and try again"
    return e.problem


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"
