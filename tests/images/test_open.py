from __future__ import annotations

import struct

import pytest
from PIL import Image

from neuralcodes.images import MAX_PIXELS, ImageError, open_image

from .helpers import encode, png_declaring, tiff_with_width


def test_one_pixel_limit_is_pillows_own() -> None:
    assert MAX_PIXELS == Image.MAX_IMAGE_PIXELS == 89_478_485


def test_pixel_limit_from_the_header_inclusive() -> None:
    data = encode(Image.new("RGB", (10, 10)))
    assert open_image(data, max_pixels=100).size == (10, 10)
    with pytest.raises(ImageError) as e:
        open_image(data, max_pixels=99, name="x.png")
    assert e.value.kind == "too-many-pixels"
    assert e.value.problem == (
        "refused as a possible decompression bomb: 10x10 = 0.0 megapixels exceeds the limit of "
        "0.0 megapixels (100 pixels > 99)")


def test_bomb_refused_before_decoding() -> None:
    bomb = png_declaring(20000, 5000)  # 100 megapixels in 77 bytes: no pixel data at all
    with pytest.raises(ImageError) as e:
        open_image(bomb)
    assert e.value.problem.startswith(
        "refused as a possible decompression bomb: 20000x5000 = 100.0 megapixels exceeds the "
        "limit of 89.5 megapixels")
    with pytest.raises(ImageError) as e:  # beyond twice Pillow's limit: Pillow refuses first
        open_image(png_declaring(30000, 30000))
    assert e.value.kind == "too-many-pixels" and "900000000 pixels" in e.value.problem
    assert e.value.problem == ("refused as a possible decompression bomb: 900.0 megapixels "
                               "exceeds the limit of 89.5 megapixels (900000000 pixels > "
                               "89478485)")  # not Pillow's twice-the-limit 178956970


def test_a_pil_image_is_checked_too() -> None:
    with pytest.raises(ImageError, match="decompression bomb"):
        open_image(Image.new("L", (20, 20)), max_pixels=399)


def test_formats_that_run_programs_are_not_images() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    with pytest.raises(ImageError) as e:
        open_image(eps, name="doc.jpg")
    assert e.value.kind == "not-an-image"
    assert e.value.problem.startswith("not an image (or a format that is not read: JPEG, PNG")


def test_tiff_with_a_rational_width_is_an_image_error() -> None:
    """Pillow raises ValueError for it, outside the old loader's guarded block."""
    assert open_image(tiff_with_width((256, 3, 1, struct.pack("<H", 4)))).size == (4, 3)
    with pytest.raises(ImageError) as e:
        open_image(tiff_with_width((256, 5, 1, struct.pack("<II", 4, 1))), name="r.tif")
    assert (e.value.path, e.value.problem) == (
        "r.tif", "damaged image header (ValueError: Invalid dimensions)")


@pytest.mark.parametrize("data", [b"", b"\x89PNG\r\n\x1a\n", b"GIF89a"])
def test_empty_and_cut_headers(data: bytes) -> None:
    with pytest.raises(ImageError):
        open_image(data)
