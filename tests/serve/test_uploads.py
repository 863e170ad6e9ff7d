from __future__ import annotations

import pytest
from PIL import Image

from neuralcodes.serve.uploads import UploadRejected, check_image, check_size

from ..images.helpers import encode, png_declaring

MB = 1024 * 1024


def test_check_image_reads_the_header_of_each_accepted_format() -> None:
    for fmt, mode in [("PNG", "RGBA"), ("JPEG", "L"), ("WEBP", "RGB"), ("BMP", "RGB"),
                      ("TIFF", "CMYK"), ("GIF", "P")]:
        data = encode(Image.new(mode, (7, 5)), fmt)
        header = check_image(data, max_bytes=MB, max_pixels=35)
        assert (header.format, header.width, header.height) == (fmt, 7, 5)
        assert (header.mode, header.n_bytes) == (mode, len(data))


def test_too_many_bytes_is_413_and_empty_is_400() -> None:
    with pytest.raises(UploadRejected) as e:
        check_size(2 * MB + 1, 2 * MB)
    assert e.value.status == 413
    assert "2.0 MiB exceeds the limit of 2.0 MiB" in e.value.message
    with pytest.raises(UploadRejected) as e:
        check_size(0, MB)
    assert e.value.status == 400
    assert "empty" in e.value.message


def test_not_an_image_is_415() -> None:
    for data in [b"hello, this is text", b"%PDF-1.4 not really", b"\x00" * 100]:
        with pytest.raises(UploadRejected) as e:
            check_image(data, max_bytes=MB, max_pixels=10**6)
        assert e.value.status == 415
        assert "not an image" in e.value.message


def test_format_that_needs_an_external_program_is_refused() -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n"
    with pytest.raises(UploadRejected) as e:
        check_image(eps, max_bytes=MB, max_pixels=10**6)
    assert e.value.status == 415


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = png_declaring(20000, 5000)
    assert len(bomb) < 200
    with pytest.raises(UploadRejected) as e:
        check_image(bomb, max_bytes=MB, max_pixels=64_000_000)
    assert e.value.status == 413
    assert "20000x5000 = 100.0 megapixels exceeds the limit of 64.0 megapixels" in e.value.message


def test_bomb_beyond_pillows_own_limit_is_refused_the_same_way() -> None:
    with pytest.raises(UploadRejected) as e:
        check_image(png_declaring(30000, 30000), max_bytes=MB, max_pixels=64_000_000)
    assert e.value.status == 413
    assert "900000000 pixels" in e.value.message
    assert "decompression bomb" in e.value.message


def test_pixel_limit_is_inclusive() -> None:
    data = encode(Image.new("RGB", (10, 10)))
    assert check_image(data, max_bytes=MB, max_pixels=100).width == 10
    with pytest.raises(UploadRejected) as e:
        check_image(data, max_bytes=MB, max_pixels=99)
    assert e.value.status == 413


def test_truncated_header_is_a_client_error() -> None:
    data = encode(Image.new("RGB", (10, 10)))[:20]
    with pytest.raises(UploadRejected) as e:
        check_image(data, max_bytes=MB, max_pixels=100)
    assert e.value.status in (400, 415)
