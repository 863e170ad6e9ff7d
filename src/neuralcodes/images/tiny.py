"""The "tiny-cache" policy's decoder: JPEGs through simplejpeg straight into their output row.

This is the Tiny ImageNet pixel cache's decoding, unchanged in its results: a JPEG is decoded by
simplejpeg (libjpeg-turbo) into the row, RGB; a JPEG that is not S x S is decoded apart and
stretched to S x S, bilinear; a JPEG that simplejpeg refuses (recoverable errors) and any other
format go through Pillow (``resize.decode`` with the same policy). The pixel limit is checked
from the JPEG header before decoding. What was odd about a file that could still be decoded
comes back as a warning ("PNG image, not JPEG", "resized from 70x80 to 64x64", ...).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image

from neuralcodes.images.errors import image_errors
from neuralcodes.images.limits import MAX_PIXELS
from neuralcodes.images.open import open_image
from neuralcodes.images.policy import ImagePolicy, tiny_cache_policy
from neuralcodes.images.resize import decode, fit

JPEG_MAGIC = b"\xff\xd8\xff"


def decode_into(
    data: bytes, row: np.ndarray, name: str, *, max_pixels: int = MAX_PIXELS
) -> str | None:
    """Decode one encoded image into ``row`` (S, S, 3) uint8 in place, by the tiny-cache policy.

    Returns a warning or None; raises ``ImageError`` (and leaves ``row`` undefined) when the data
    is not a readable image.
    """
    policy = _policy(row.shape[0])
    with image_errors(name):
        if data[:3] == JPEG_MAGIC:
            return _jpeg_into(data, row, name, policy, max_pixels)
        return _pillow_into(data, row, name, policy, max_pixels)


@lru_cache(maxsize=8)
def _policy(size: int) -> ImagePolicy:
    return tiny_cache_policy(size)


def _jpeg_into(
    data: bytes, row: np.ndarray, name: str, policy: ImagePolicy, max_pixels: int
) -> str | None:
    import simplejpeg

    try:
        height, width, _, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError as e:  # not even a header: Pillow may still read it
        return _fallback(e, data, row, name, policy, max_pixels)
    if width * height > max_pixels:
        open_image(data, max_pixels=max_pixels, name=name)  # raises the one "too many" message
    size = row.shape[0]
    try:
        img = simplejpeg.decode_jpeg(data, colorspace="RGB", buffer=row)  # (h, w, 3)
    except ValueError as e:
        if "too small" not in str(e):
            return _fallback(e, data, row, name, policy, max_pixels)
        img = simplejpeg.decode_jpeg(data, colorspace="RGB")  # larger than the row
    if img.shape[:2] == (size, size):
        return None
    row[...] = fit(Image.fromarray(img), policy)  # stretched to S x S, bilinear
    return _resized(img.shape[1], img.shape[0], size)


def _fallback(
    e: ValueError, data: bytes, row: np.ndarray, name: str, policy: ImagePolicy, max_pixels: int
) -> str:
    warning = _pillow_into(data, row, name, policy, max_pixels)  # raises if Pillow cannot either
    return f"JPEG error ({e}), decoded by Pillow" + (f"; {warning}" if warning else "")


def _pillow_into(
    data: bytes, row: np.ndarray, name: str, policy: ImagePolicy, max_pixels: int
) -> str | None:
    img = open_image(data, max_pixels=max_pixels, name=name)
    fmt, (w, h) = img.format or "unknown", img.size
    row[...] = decode(img, policy)
    notes = [] if fmt == "JPEG" else [f"{fmt} image, not JPEG"]
    if (w, h) != (policy.size, policy.size):
        notes.append(_resized(w, h, policy.size))
    return "; ".join(notes) or None


def _resized(width: int, height: int, size: int) -> str:
    return f"resized from {width}x{height} to {size}x{size}"
