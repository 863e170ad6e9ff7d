"""The one image pipeline: every path that reads an image reads it here.

    open     regular files only, a byte-size cap (MAX_FILE_BYTES) before reading, the pixel limit
             (MAX_PIXELS) before decoding, only formats decoded in-process   files.py, open.py
    orient   EXIF orientation, never fatal                                    convert.py
    convert  any mode to 8-bit RGB, transparency on white, one 16-bit policy convert.py
    resize   a named ImagePolicy -> uint8 (S, S, 3): "tiny-cache", "photo", a network's
             preprocessing; decoded at a reduced size where the policy allows policy.py, resize.py

Any exception while reading one image becomes ``ImageError`` (a ``DataError`` naming the file and
the reason). One worker pool (``ordered_map``, ``usable_cores``) decodes in parallel. Folder
scanning (``scan_images``), the index's read-hash-decode (``read_file``) and thumbnails live here
too. ``docs/images.md`` says which path uses which policy and why.

Importing this package is cheap (the limits and extensions need neither Pillow nor NumPy); the
rest is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from neuralcodes.images.formats import HEIF_EXTRA, IMAGE_EXTENSIONS, is_image_name
from neuralcodes.images.limits import MAX_FILE_BYTES, MAX_PIXELS

if TYPE_CHECKING:
    from neuralcodes.images.convert import orient, to_rgb
    from neuralcodes.images.errors import ImageError, image_errors
    from neuralcodes.images.files import FileBytes, read_image_file
    from neuralcodes.images.load import ImageLike, load_image
    from neuralcodes.images.open import ImageSource, open_image
    from neuralcodes.images.policy import (
        ImagePolicy,
        network_policy,
        photo_policy,
        tiny_cache_policy,
    )
    from neuralcodes.images.pool import ordered_map, usable_cores
    from neuralcodes.images.readfile import DecodedFile, read_file, read_files
    from neuralcodes.images.scan import INDEX_MARKER, scan_images
    from neuralcodes.images.thumbnails import THUMB_SIZE, make_thumbnail
    from neuralcodes.images.tiny import decode_into

_LAZY = {
    "orient": "convert", "to_rgb": "convert",
    "ImageError": "errors", "image_errors": "errors",
    "FileBytes": "files", "read_image_file": "files",
    "ImageLike": "load", "load_image": "load",
    "ImageSource": "open", "open_image": "open",
    "ImagePolicy": "policy", "network_policy": "policy", "photo_policy": "policy",
    "tiny_cache_policy": "policy",
    "ordered_map": "pool", "usable_cores": "pool",
    "DecodedFile": "readfile", "read_file": "readfile", "read_files": "readfile",
    "INDEX_MARKER": "scan", "scan_images": "scan",
    "THUMB_SIZE": "thumbnails", "make_thumbnail": "thumbnails",
    "decode_into": "tiny",
}  # fmt: skip

__all__ = [
    "HEIF_EXTRA", "IMAGE_EXTENSIONS", "INDEX_MARKER", "MAX_FILE_BYTES", "MAX_PIXELS", "THUMB_SIZE",
    "DecodedFile", "FileBytes", "ImageError", "ImageLike", "ImagePolicy", "ImageSource",
    "decode_into", "image_errors", "is_image_name", "load_image", "make_thumbnail",
    "network_policy", "open_image", "ordered_map", "orient", "photo_policy", "read_file",
    "read_files", "read_image_file", "scan_images", "tiny_cache_policy", "to_rgb", "usable_cores",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once imported, a plain attribute
    return value
