"""Orientation and colour: every image becomes upright 8-bit RGB, one policy for every path.

- Orientation: the EXIF (or XMP) orientation tag is applied, so that a phone photo taken upright
  comes out upright. Never fatal: a tag that cannot be read, or holds anything but 1..8, means
  "not rotated".
- Colour (``to_rgb``): grayscale is copied to three channels, palettes are expanded, CMYK and
  YCbCr are converted, and transparent pixels (RGBA, LA, palette transparency) are composited on
  white. Wide grayscale (16-bit, 32-bit integer, float) has one policy (``wide_to_uint8``):
  values already in 0..255 are kept, values in 0..65535 are divided by 257 (the full 16-bit range
  onto 0..255), anything else is stretched from its minimum to its maximum.

``to_8bit`` and ``flatten`` are the two halves of ``to_rgb``: the first gives "L", "RGB" or
"RGBA" (so that a large image can be reduced in its own channels before it becomes RGB), the
second composites and expands to "RGB".
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

log = logging.getLogger("neuralcodes.images.convert")

ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transpose that makes the image upright (as PIL.ImageOps.exif_transpose)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_ORIENTATION_SOURCES = ("exif", "xmp", "XML:com.adobe.xmp")  # where Pillow's getexif() looks


def orientation(img: Image.Image) -> int:
    """The EXIF/XMP orientation of ``img`` (1..8); 1 when there is none or it cannot be read."""
    try:
        value = img.getexif().get(ORIENTATION_TAG, 1)
    except Exception as e:  # broken EXIF: struct.error, TypeError, SyntaxError, ...
        log.debug("unreadable EXIF orientation, taken as upright: %s", e)
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def orient(img: Image.Image) -> Image.Image:
    """``img`` turned upright by its orientation tag (itself when there is nothing to do).

    The turned copy carries no EXIF or XMP metadata, so that orienting it again is a no-op."""
    method = _TRANSPOSE.get(orientation(img))
    if method is None:
        return img
    out = img.transpose(method)
    for key in _ORIENTATION_SOURCES:
        out.info.pop(key, None)
    return out


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; transparency is composited on white."""
    return flatten(to_8bit(img))


def to_8bit(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> "L", "RGB" or "RGBA" (8 bits per channel), nothing composited yet."""
    mode = img.mode
    if mode in ("L", "RGB", "RGBA"):
        return img
    if mode in _ALPHA_MODES or (mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    if mode.startswith("I") or mode.startswith("F"):
        return Image.fromarray(wide_to_uint8(np.asarray(img)), mode="L")
    if mode == "1":
        return img.convert("L")
    return img.convert("RGB")  # P, CMYK, YCbCr, LAB, HSV, ...


def flatten(img: Image.Image) -> Image.Image:
    """An "L", "RGB" or "RGBA" image -> "RGB", transparent pixels composited on white."""
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")


def wide_to_uint8(a: np.ndarray) -> np.ndarray:
    """16/32-bit integer or float grayscale (H, W) -> uint8 (H, W), by the one wide policy."""
    a = np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if lo >= 0 and hi <= 255:
        scaled = a
    elif lo >= 0 and hi <= 65535:
        scaled = a / 257.0  # the full 16-bit range onto 0..255
    else:
        scaled = (a - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def array_to_pil(a: np.ndarray, name: str = "<array>") -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> PIL image; floats are taken as [0, 1].

    Raises ``ValueError`` for any other shape (``load_image`` reports it as an ``ImageError``).
    """
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"expected an (H, W[, 1|3|4]) image array, got {a.shape}")
    if a.dtype != np.uint8:
        a = np.nan_to_num(np.asarray(a, dtype=np.float64))
        a = a * 255.0 if a.size and float(a.max()) <= 1.0 else a
        a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a))
