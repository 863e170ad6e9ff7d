"""Uploads decoded at reduced size: the same network input, a fraction of the memory."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from PIL import Image

from neuralcodes.allocator import release_memory
from neuralcodes.errors import DataError
from neuralcodes.images import load_image
from neuralcodes.serve.decoding import decode_reduced

from .photos import photo


def _bytes(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "TIFF"])
def test_a_large_image_is_reduced_before_any_copy_and_gives_the_same_input(fmt: str) -> None:
    data = _bytes(photo(3, (1500, 1000), "RGB"), fmt)
    img = decode_reduced(data, 64, max_pixels=10**8)
    assert img.size == (300, 200)  # reduced by 5: the short side stays >= 3 x 64
    diff = load_image(img, 64).astype(int) - load_image(data, 64).astype(int)  # (64, 64, 3)
    assert np.abs(diff).mean() < 1.0 and np.abs(diff).max() <= 12


def test_the_orientation_survives_the_reduction() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the camera was held upright
    data = _bytes(photo(4, (1200, 800), "RGB"), "PNG", exif=exif.tobytes())
    img = decode_reduced(data, 64, max_pixels=10**8)
    assert img.size == (200, 300)  # upright, reduced by 4
    diff = load_image(img, 64).astype(int) - load_image(data, 64).astype(int)
    assert np.abs(diff).mean() < 1.0


def test_small_images_jpeg_and_odd_modes_are_decoded_as_the_loader_does() -> None:
    for data in [_bytes(photo(5, (150, 100), "RGB"), "PNG"),  # too small to reduce
                 _bytes(photo(6, (2000, 1200), "RGB"), "JPEG"),  # DCT-scaled, as load_image
                 _bytes(photo(7, (900, 900), "RGB").convert("P"), "PNG")]:  # no reduce for P
        img = decode_reduced(data, 64, max_pixels=10**8)
        np.testing.assert_array_equal(load_image(img, 64), load_image(data, 64))
    jpeg = decode_reduced(_bytes(photo(6, (2000, 1200), "RGB"), "JPEG"), 64, max_pixels=10**8)
    assert jpeg.size == (500, 300)  # 1/4 scale: the draft keeps >= 3 x 64 (neuralcodes.images)


def test_damaged_data_and_bombs_are_data_errors() -> None:
    data = _bytes(photo(8, (400, 300), "RGB"), "PNG")
    with pytest.raises(DataError, match="damaged pixel data"):
        decode_reduced(data[: len(data) // 2], 64, max_pixels=10**8)
    with pytest.raises(DataError, match="decompression bomb"):
        decode_reduced(data, 64, max_pixels=1000)


def test_memory_can_be_given_back_on_glibc() -> None:
    assert release_memory() is sys.platform.startswith("linux")
