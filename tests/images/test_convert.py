from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from neuralcodes.images import orient, to_rgb
from neuralcodes.images.convert import orientation, wide_to_uint8

from .helpers import encode

# a 2 x 3 grayscale image with distinct pixels, and what each EXIF orientation makes of it
A = np.arange(6, dtype=np.uint8).reshape(2, 3) * 40
UPRIGHT = {
    1: A,
    2: A[:, ::-1],  # mirrored
    3: A[::-1, ::-1],  # rotated 180
    4: A[::-1, :],  # flipped
    5: A.T,  # transposed
    6: np.rot90(A, -1),  # rotated 90 clockwise
    7: A.T[::-1, ::-1],  # transversed
    8: np.rot90(A, 1),  # rotated 90 counter-clockwise
}


def _with_orientation(value: object) -> Image.Image:
    img = Image.fromarray(A)
    img.getexif()[0x0112] = value
    return img


@pytest.mark.parametrize("value", sorted(UPRIGHT))
def test_each_exif_orientation(value: int) -> None:
    out = np.asarray(orient(_with_orientation(value)))
    np.testing.assert_array_equal(out, UPRIGHT[value])


def test_orienting_twice_is_orienting_once() -> None:
    img = Image.open(io.BytesIO(encode(Image.fromarray(A), "PNG", exif=_exif(6))))
    once = orient(img)
    np.testing.assert_array_equal(np.asarray(once), UPRIGHT[6])
    np.testing.assert_array_equal(np.asarray(orient(once)), UPRIGHT[6])


def _exif(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


@pytest.mark.parametrize("value", [0, 9, -1, "6", (6, 6), 6.0, b"\x06"])
def test_orientation_values_that_mean_upright(value: object) -> None:
    assert orientation(_with_orientation(value)) == 1
    np.testing.assert_array_equal(np.asarray(orient(_with_orientation(value))), A)


def test_unreadable_exif_means_upright() -> None:
    img = Image.fromarray(A)
    img.info["exif"] = b"Exif\x00\x00garbage!"  # Pillow's getexif raises SyntaxError on it
    with pytest.raises(SyntaxError):
        img.getexif()
    img = Image.fromarray(A)
    img.info["exif"] = b"Exif\x00\x00garbage!"
    assert orientation(img) == 1 and orient(img) is img


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (Image.new("RGB", (4, 3), (10, 200, 30)), (10, 200, 30)),
        (Image.new("L", (4, 3), 77), (77, 77, 77)),
        (Image.new("1", (4, 3), 1), (255, 255, 255)),
        (Image.new("RGBA", (4, 3), (255, 0, 0, 0)), (255, 255, 255)),  # transparent: white
        (Image.new("RGBA", (4, 3), (255, 0, 0, 255)), (255, 0, 0)),
        (Image.new("RGBA", (4, 3), (0, 0, 0, 51)), (204, 204, 204)),  # 20 % black on white
        (Image.new("LA", (4, 3), (0, 0)), (255, 255, 255)),
        (Image.new("CMYK", (4, 3), (0, 255, 255, 0)), (255, 0, 0)),
        (Image.new("I;16", (4, 3), 257 * 100), (100, 100, 100)),
        (Image.new("I", (4, 3), 65535), (255, 255, 255)),
        (Image.new("F", (4, 3), 0.0), (0, 0, 0)),
        (Image.new("YCbCr", (4, 3), (255, 128, 128)), (255, 255, 255)),
    ],
)
def test_every_mode_becomes_8bit_rgb(img: Image.Image, expected: tuple[int, int, int]) -> None:
    out = to_rgb(img)
    assert out.mode == "RGB" and out.size == (4, 3)
    np.testing.assert_array_equal(np.asarray(out), np.broadcast_to(expected, (3, 4, 3)))


def test_the_one_wide_policy() -> None:
    np.testing.assert_array_equal(wide_to_uint8(np.array([[0, 100, 255]], np.uint16)),
                                  [[0, 100, 255]])  # already 8-bit values: kept
    np.testing.assert_array_equal(wide_to_uint8(np.array([[0, 257, 65535]], np.uint16)),
                                  [[0, 1, 255]])  # the 16-bit range onto 0..255
    np.testing.assert_array_equal(wide_to_uint8(np.array([[-1.0, 0.0, 1.0]])),
                                  [[0, 128, 255]])  # anything else: its min..max
    np.testing.assert_array_equal(wide_to_uint8(np.array([[np.nan, 10.0]])), [[0, 10]])
