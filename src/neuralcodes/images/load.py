"""``load_image``: any image a user has -> ``uint8 (S, S, 3)`` RGB by a named policy.

Sources: a path (read as a regular file, with the byte-size cap), bytes, a binary file object, a
PIL image or an array ((H, W), (H, W, 1|3|4); floats taken as [0, 1]). The steps: open the
header and check the pixel limit (``open.py``), decode, at a reduced size where the policy allows
(``resize.py``), orient and convert to RGB (``convert.py``), fit to S x S (``resize.py``). Any
failure is an ``ImageError`` naming the source.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from neuralcodes.images.convert import array_to_pil
from neuralcodes.images.errors import image_errors
from neuralcodes.images.limits import MAX_PIXELS
from neuralcodes.images.open import ImageSource, name_of, open_image, source_bytes
from neuralcodes.images.policy import ImagePolicy, as_policy
from neuralcodes.images.resize import decode
from neuralcodes.images.tiny import decode_into

ImageLike = ImageSource | np.ndarray


def load_image(
    src: ImageLike,
    policy: ImagePolicy | int = 64,
    *,
    max_pixels: int = MAX_PIXELS,
    name: str | None = None,
) -> np.ndarray:
    """Any image -> ``uint8 (S, S, 3)`` RGB by ``policy`` (an int S means ``photo_policy(S)``).

    Raises ``ImageError`` (a ``DataError``) naming ``name`` (default: the path, or what the source
    is) for anything that is not a readable image of at most ``max_pixels`` pixels.
    """
    policy = as_policy(policy)
    name = name or name_of(src)
    if isinstance(src, np.ndarray):
        if src.shape == (policy.size, policy.size, 3) and src.dtype == np.uint8:
            return src
        with image_errors(name, "not an image array"):
            src = array_to_pil(src, name)
    if policy.jpeg_decoder == "simplejpeg" and not isinstance(src, Image.Image):
        return _tiny(src, policy, max_pixels, name)
    img = open_image(src, max_pixels=max_pixels, name=name)
    with image_errors(name):
        return decode(img, policy)


def _tiny(src: ImageSource, policy: ImagePolicy, max_pixels: int, name: str) -> np.ndarray:
    """The tiny-cache policy from an encoded source (its warnings are dropped here)."""
    row = np.zeros((policy.size, policy.size, 3), np.uint8)  # (S, S, 3)
    decode_into(source_bytes(src, name), row, name, max_pixels=max_pixels)
    return row
