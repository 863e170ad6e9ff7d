"""Loading any image a user has into the network's input: ``uint8`` (size, size, 3) RGB.

How an image is brought to the network's input size (the README quotes this):

1. The file is decoded with Pillow: JPEG, PNG, WebP, BMP, TIFF, GIF (the first frame only).
   Its pixel count is checked *before* the pixels are decoded; more than ``max_pixels``
   (default 89,478,485, Pillow's own limit) is refused as a possible decompression bomb.
2. The EXIF orientation tag is applied (a phone photo taken upright comes out upright).
3. Every mode becomes 8-bit RGB: grayscale is copied to three channels, palettes are expanded,
   transparent pixels (RGBA, LA, palette transparency) are composited on white, CMYK is
   converted, and 16-bit or 32-bit grayscale is scaled to 0..255.
4. The largest centred square is cut out (the shorter side is kept whole, the longer side is
   trimmed equally at both ends) and resized to ``size`` x ``size`` with a Lanczos filter.
   The network was trained on whole 64x64 images, so the image is neither padded nor stretched:
   a centred square keeps the aspect ratio of objects, as in training.

``scan_images`` finds the images of a folder tree the same way for ``index build`` and ``update``.
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from neuralcodes.errors import DataError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
DEFAULT_MAX_PIXELS = 89_478_485  # Pillow's Image.MAX_IMAGE_PIXELS: ~ a 9459 x 9459 image
INDEX_MARKER = ".neuralcodes-index"  # a folder holding this file is an index: never scanned

ImageSource = str | os.PathLike[str] | bytes | bytearray | memoryview | IO[bytes] | Image.Image
ImageLike = ImageSource | np.ndarray


def load_image(
    src: ImageLike, size: int = 64, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Any image (path, bytes, binary file, PIL image or array) -> (size, size, 3) ``uint8``.

    Raises ``DataError`` naming the source for anything that is not a readable image, is
    truncated, or has more than ``max_pixels`` pixels.
    """
    if isinstance(src, np.ndarray):
        if src.shape == (size, size, 3) and src.dtype == np.uint8:
            return src
        src = _array_to_pil(src)
    name = _name_of(src)
    img = open_image(src, max_pixels=max_pixels)
    try:
        if img.format == "JPEG":
            img.draft(None, (size, size))  # decode at a reduced scale, still >= size on each side
        img.load()
        img = ImageOps.exif_transpose(img) or img
        rgb = to_rgb(img)
        return fit_square(rgb, size)
    except (OSError, ValueError, SyntaxError) as e:  # truncated or corrupt pixel data
        raise DataError(name, f"cannot decode the image ({e})") from None


def open_image(src: ImageSource, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Open ``src`` lazily (header only) and refuse it if it has more than ``max_pixels``."""
    name = _name_of(src)
    if isinstance(src, Image.Image):
        img = src
    else:
        fp: Any = io.BytesIO(bytes(src)) if isinstance(src, bytes | bytearray | memoryview) else src
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img = Image.open(fp)
        except FileNotFoundError:
            raise DataError(name, "file not found") from None
        except Image.DecompressionBombError as e:
            raise DataError(name, f"refused as a decompression bomb ({e})") from None
        except UnidentifiedImageError:
            raise DataError(name, "not an image (or a format Pillow cannot read)") from None
        except OSError as e:
            raise DataError(name, f"cannot read the image ({e})") from None
    width, height = img.size
    if width * height > max_pixels:
        raise DataError(
            name, f"refused as a possible decompression bomb: {width}x{height} = "
            f"{width * height:,} pixels, more than the limit of {max_pixels:,}"
        )
    if width < 1 or height < 1:
        raise DataError(name, f"empty image ({width}x{height})")
    return img


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit RGB; transparency is composited on white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode == "P" and "transparency" in img.info:
        img, mode = img.convert("RGBA"), "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode.startswith("I") or mode.startswith("F"):
        return Image.fromarray(_wide_to_uint8(np.asarray(img)), mode="L").convert("RGB")
    if mode == "1":
        return img.convert("L").convert("RGB")
    return img.convert("RGB")  # L, P, CMYK, YCbCr, ...


def _wide_to_uint8(a: np.ndarray) -> np.ndarray:
    """16/32-bit integer or float grayscale (H, W) -> uint8 (H, W)."""
    a = a.astype(np.float64)
    lo, hi = float(a.min()), float(a.max())
    if lo >= 0 and hi <= 255:
        scaled = a
    elif lo >= 0 and hi <= 65535:
        scaled = a / 257.0  # the full 16-bit range onto 0..255
    else:
        scaled = (a - lo) * (255.0 / max(hi - lo, 1e-12))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def fit_square(img: Image.Image, size: int) -> np.ndarray:
    """Centre-crop the largest square of an RGB image and resize it to (size, size, 3) uint8."""
    width, height = img.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    box = (left, top, left + side, top + side)
    out = img.resize((size, size), Image.Resampling.LANCZOS, box=box, reducing_gap=3.0)
    return np.asarray(out, dtype=np.uint8).copy()  # (size, size, 3)


def _array_to_pil(a: np.ndarray) -> Image.Image:
    """(H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array -> PIL image; floats are taken as [0, 1]."""
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise DataError("<array>", f"expected an (H, W[, 1|3|4]) image array, got {a.shape}")
    if a.dtype != np.uint8:
        a = np.asarray(a, dtype=np.float64)
        a = a * 255.0 if a.size and float(np.nanmax(a)) <= 1.0 else a
        a = np.clip(np.rint(np.nan_to_num(a)), 0, 255).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a))


def _name_of(src: Any) -> str:
    if isinstance(src, str | os.PathLike):
        return str(src)
    if isinstance(src, bytes | bytearray | memoryview):
        return "<uploaded bytes>"
    if isinstance(src, Image.Image):
        return str(getattr(src, "filename", "") or "<PIL image>")
    return str(getattr(src, "name", "<file>"))


def is_image_name(path: str | Path) -> bool:
    """Whether ``path`` has one of the image extensions (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def scan_images(root: str | Path, *, skip: tuple[str | Path, ...] = ()) -> list[Path]:
    """Every image file under ``root``, recursively, sorted by relative path.

    Hidden files and folders (names starting with ".") are skipped, as are index folders
    (holding ``INDEX_MARKER``) and the folders in ``skip``.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder")
    skipped = {os.path.realpath(p) for p in skip}
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [
            d for d in dirnames
            if not d.startswith(".") and not _is_index_dir(os.path.join(dirpath, d), skipped)
        ]  # fmt: skip
        found.extend(
            Path(dirpath, f) for f in filenames if not f.startswith(".") and is_image_name(f)
        )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _is_index_dir(path: str, skipped: set[str]) -> bool:
    return os.path.realpath(path) in skipped or os.path.exists(os.path.join(path, INDEX_MARKER))
