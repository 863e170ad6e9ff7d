"""Small JPEG thumbnails of images: always re-encoded from the decoded pixels.

A thumbnail is made by the same reader as everything else (regular files only, byte-size cap,
pixel limit, EXIF orientation, RGB with transparency on white, JPEG decoded at a reduced scale),
then encoded anew as JPEG: the file's own bytes are never sent, so whatever a file holds besides
its pixels (metadata, a second payload) never reaches a browser.
"""

from __future__ import annotations

import io

from neuralcodes.images.convert import flatten, orient, to_8bit
from neuralcodes.images.errors import image_errors
from neuralcodes.images.limits import MAX_PIXELS
from neuralcodes.images.open import ImageSource, name_of, open_image

THUMB_SIZE = 256  # longest side in pixels
THUMB_QUALITY = 85


def make_thumbnail(
    src: ImageSource, size: int = THUMB_SIZE, *, max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> bytes:
    """A JPEG of ``src`` (a path, bytes or a binary file), its longest side at most ``size``,
    upright, RGB (transparency on white). Raises ``ImageError`` naming the file (or ``name``) if
    it cannot be read as an image."""
    name = name or name_of(src)
    img = open_image(src, max_pixels=max_pixels, name=name)
    with image_errors(name, "cannot make a thumbnail"):
        img.draft(None, (2 * size, 2 * size))  # JPEG: a reduced scale, as Image.thumbnail does
        img.load()
        img = to_8bit(orient(img))
        img.thumbnail((size, size))  # Pillow's defaults: bicubic, reducing gap 2
        buf = io.BytesIO()
        flatten(img).save(buf, format="JPEG", quality=THUMB_QUALITY)
    return buf.getvalue()
