"""The tiny-cache policy (the Tiny ImageNet pixel cache): its results must never change."""

from __future__ import annotations

import numpy as np
import pytest
import simplejpeg
from PIL import Image

from neuralcodes.images import ImageError, decode_into, load_image, tiny_cache_policy

from .helpers import encode, smooth


def _row(size: int = 64) -> np.ndarray:
    return np.zeros((size, size, 3), np.uint8)


def test_a_jpeg_of_the_right_size_is_simplejpegs_decoding() -> None:
    data = encode(smooth(64, 64), "JPEG", quality=90)
    row = _row()
    assert decode_into(data, row, "a.JPEG") is None
    np.testing.assert_array_equal(row, simplejpeg.decode_jpeg(data, colorspace="RGB"))
    np.testing.assert_array_equal(load_image(data, tiny_cache_policy(64)), row)


@pytest.mark.parametrize(("h", "w"), [(80, 70), (32, 40)])
def test_other_sizes_are_stretched_bilinear_and_reported(h: int, w: int) -> None:
    data = encode(smooth(h, w), "JPEG", quality=90)
    row = _row()
    assert decode_into(data, row, "b.JPEG") == f"resized from {w}x{h} to 64x64"
    full = simplejpeg.decode_jpeg(data, colorspace="RGB")
    expected = np.asarray(Image.fromarray(full).resize((64, 64), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(row, expected)


def test_other_formats_through_pillow_with_a_warning() -> None:
    a = smooth(64, 64)
    row = _row()
    assert decode_into(encode(a, "PNG"), row, "c.JPEG") == "PNG image, not JPEG"
    np.testing.assert_array_equal(row, a)
    rgba = np.dstack([a, np.zeros((64, 64), np.uint8)])  # fully transparent
    assert decode_into(encode(rgba, "PNG"), row, "d.png") == "PNG image, not JPEG"
    np.testing.assert_array_equal(row, 255)  # transparency on white, as every policy


def test_no_exif_orientation_in_the_protocol_cache() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6
    a = smooth(64, 64)
    data = encode(Image.fromarray(a), "PNG", exif=exif)
    row = _row()
    decode_into(data, row, "e.png")
    np.testing.assert_array_equal(row, a)  # as stored


def test_pixel_limit_read_from_the_jpeg_header() -> None:
    data = encode(smooth(64, 64), "JPEG")
    with pytest.raises(ImageError) as e:
        decode_into(data, _row(), "f.JPEG", max_pixels=4095)
    assert e.value.kind == "too-many-pixels" and e.value.path == "f.JPEG"


@pytest.mark.parametrize("data", [b"\xff\xd8\xff", b"\xff\xd8\xff" + bytes(range(256)) * 4, b"",
                                  b"not an image"])
def test_unreadable_data_is_an_image_error(data: bytes) -> None:
    with pytest.raises(ImageError) as e:
        decode_into(data, _row(), "g.JPEG")
    assert e.value.path == "g.JPEG"
