"""Applying an ``ImagePolicy`` to an opened image: reduced decoding, then the policy's fit.

Reduced decoding (policies with ``reduced_decoding``): a 12-megapixel photo is not decoded at
full size when 64 or 224 pixels are needed.

- JPEG: ``Image.draft`` asks libjpeg for a DCT-domain scale of 1/2, 1/4 or 1/8 that keeps both
  sides at least ``REDUCING_GAP`` times what is needed (as Pillow's own ``thumbnail`` does): a
  4000 x 3000 photo decodes as 500 x 375 for 64 pixels, as 1000 x 750 for 224.
- Every format: the image is resized in its own channels ("L" stays one byte a pixel, RGBA is
  premultiplied by Pillow) with ``reducing_gap``: Pillow first reduces it by an integer factor
  (``Image.reduce``, a box average) to ``REDUCING_GAP`` times the output, then applies the named
  filter; only the small result is composited on white and made RGB. So a PNG that decodes to
  64 megapixels of grayscale never becomes a 192 MB RGB copy.

Agreement with decoding at full size (``reduced_decoding=False``: no draft, no reducing gap),
checked in ``tests/images/test_resize.py`` on smooth photo-like JPEG, PNG and WebP images of 0.6
to 12 megapixels for the photo policy (64 and 224 pixels) and both network fits (224): at most
0.4 levels of 255 on average and 2 at most. ``REDUCING_GAP`` = 3 is what Pillow recommends for
``reducing_gap`` ("indistinguishable from the result without it"); a policy may keep another
margin (``ImagePolicy.reducing_gap``: a pretrained network's ``Preprocess`` keeps 2).

The geometry of every fit is here and only here (``fit_geometry``); a pretrained network's
preprocessing (``neuralcodes.models.preprocess``) is one of these policies. Compared with the
loader this package replaced, the photo policy gives identical pixels for opaque images of every
format but JPEG, whose draft now keeps that margin too (the old draft to the output size itself
differed from full decoding by up to 16 levels on mid-sized photos); transparent images are now
resized premultiplied and composited on white afterwards (a rounding apart).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from neuralcodes.images.convert import flatten, orient, to_8bit
from neuralcodes.images.policy import REDUCING_GAP, ImagePolicy

__all__ = ["REDUCING_GAP", "decode", "fit", "fit_geometry", "prepare"]


def decode(img: Image.Image, policy: ImagePolicy) -> np.ndarray:
    """An opened (not yet loaded) image -> ``uint8 (S, S, 3)`` RGB by ``policy``."""
    return fit(prepare(img, policy), policy)


def prepare(img: Image.Image, policy: ImagePolicy) -> Image.Image:
    """Decode ``img`` (at a reduced JPEG scale where the policy allows), upright, as "L", "RGB"
    or "RGBA"."""
    if policy.reduced_decoding and policy.fit != "centre-crop" and img.format in ("JPEG", "MPO"):
        need = int(policy.target * policy.reducing_gap)
        img.draft(None, (need, need))  # a scale of 1/2, 1/4 or 1/8 keeping both sides >= need
    img.load()
    if policy.orient:
        img = orient(img)
    return to_8bit(img)


def fit(img: Image.Image, policy: ImagePolicy) -> np.ndarray:
    """An "L", "RGB" or "RGBA" image -> ``uint8 (S, S, 3)`` RGB by the policy's fit and filter."""
    s, resample = policy.size, Image.Resampling[policy.resample.upper()]  # "bilinear": BILINEAR
    gap = float(policy.reducing_gap) if policy.reduced_decoding else None
    if policy.fit == "stretch":
        out = img if img.size == (s, s) else img.resize((s, s), resample, reducing_gap=gap)
    elif policy.fit == "centre-square":
        out = _centre_square(img, s, resample, gap)
    else:
        out = _resize_crop(img, policy, resample, gap)
    return np.asarray(flatten(out), dtype=np.uint8).copy()  # (S, S, 3)


def fit_geometry(width: int, height: int, policy: ImagePolicy) -> tuple[int, int, int, int]:
    """(resized width, resized height, crop left, crop top) of a ``width`` x ``height`` image.

    "shorter-side-crop": the shorter side to R, the longer one to ``int(R * long / short)`` (as
    torchvision's ``Resize`` and Hugging Face's processors); "stretch-crop": R x R;
    "centre-crop": not resized; "stretch" and "centre-square": S x S, nothing cropped after."""
    s, r = policy.size, policy.target
    if policy.fit == "shorter-side-crop":
        if width <= height:
            nw, nh = r, max(r, int(r * height / width))
        else:
            nw, nh = max(r, int(r * width / height)), r
    elif policy.fit == "stretch-crop":
        nw, nh = r, r
    elif policy.fit == "centre-crop":
        nw, nh = width, height
    else:
        return s, s, 0, 0
    if policy.crop_offset == "floor":
        return nw, nh, (nw - s) // 2, (nh - s) // 2
    return nw, nh, int(round((nw - s) / 2.0)), int(round((nh - s) / 2.0))


def _centre_square(
    img: Image.Image, s: int, resample: Image.Resampling, gap: float | None
) -> Image.Image:
    """The largest centred square (in sub-pixel coordinates), resampled to s x s."""
    width, height = img.size
    side = min(width, height)
    left, top = (width - side) / 2, (height - side) / 2
    box = (left, top, left + side, top + side)
    return img.resize((s, s), resample, box=box, reducing_gap=gap)


def _resize_crop(
    img: Image.Image, policy: ImagePolicy, resample: Image.Resampling, gap: float | None
) -> Image.Image:
    """Resized by ``fit_geometry``, then the centred s x s crop (torchvision's ``Resize`` +
    ``CenterCrop``; a crop larger than the image is filled with black, as Hugging Face pads)."""
    s = policy.size
    nw, nh, left, top = fit_geometry(*img.size, policy)
    resized = img if img.size == (nw, nh) else img.resize((nw, nh), resample, reducing_gap=gap)
    return flatten(resized).crop((left, top, left + s, top + s))
