from __future__ import annotations

import io
import os
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.errors import DataError
from neuralcodes.images import ImageError, load_image, network_policy

from .helpers import BROKEN_EXIF, ifd, jpeg_with_exif, tiff_with_width


def _solid(mode: str, color: object, size: tuple[int, int] = (40, 30)) -> Image.Image:
    return Image.new(mode, size, color)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        (_solid("RGB", (10, 200, 30)), (10, 200, 30)),
        (_solid("L", 77), (77, 77, 77)),
        (_solid("1", 1), (255, 255, 255)),
        (_solid("RGBA", (255, 0, 0, 0)), (255, 255, 255)),  # fully transparent: white
        (_solid("RGBA", (255, 0, 0, 255)), (255, 0, 0)),
        (_solid("LA", (0, 0)), (255, 255, 255)),
        (_solid("CMYK", (0, 0, 0, 0)), (255, 255, 255)),
        (_solid("CMYK", (0, 255, 255, 0)), (255, 0, 0)),
        (_solid("I;16", 65535), (255, 255, 255)),
        (_solid("I;16", 257 * 100), (100, 100, 100)),
        (_solid("F", 0.0), (0, 0, 0)),
        (_solid("RGB", (1, 2, 3)).convert("P", palette=Image.Palette.ADAPTIVE), (1, 2, 3)),
    ],
)
def test_every_mode_becomes_rgb(img: Image.Image, expected: tuple[int, int, int]) -> None:
    out = load_image(img, 16)
    assert out.shape == (16, 16, 3) and out.dtype == np.uint8
    assert np.array_equal(out, np.broadcast_to(np.array(expected, np.uint8), (16, 16, 3)))


def test_palette_transparency_composited_on_white() -> None:
    img = Image.new("P", (20, 20), 0)
    img.putpalette([255, 0, 0] + [0, 0, 255] * 255)
    img.info["transparency"] = 0
    assert np.all(load_image(img, 8) == 255)


@pytest.mark.parametrize("fmt", ["PNG", "BMP", "TIFF", "GIF", "WEBP"])
def test_lossless_formats_from_path(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"x.{fmt.lower()}"
    save_args = {"lossless": True} if fmt == "WEBP" else {}
    Image.new("RGB", (30, 30), (0, 255, 0)).save(path, format=fmt, **save_args)
    assert np.array_equal(load_image(path, 8)[0, 0], [0, 255, 0])


def test_gif_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (20, 20), c) for c in [(255, 0, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    assert np.array_equal(load_image(path, 8)[4, 4], [255, 0, 0])


def test_centre_square_crop() -> None:
    # 128 x 64: red outer quarters, green centre half -> only green survives the crop
    a = np.zeros((64, 128, 3), np.uint8)
    a[:, :32] = a[:, 96:] = (255, 0, 0)
    a[:, 32:96] = (0, 255, 0)
    out = load_image(a, 16).astype(int)
    assert out[..., 1].min() >= 225 and out[..., 0].max() <= 30  # edges: filter support


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # stored 40 wide x 20 high: left half red, right half blue; orientation 6 = rotate 90 CW,
    # so displayed it is 20 x 40 with red on top and blue at the bottom
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = (255, 0, 0)
    a[:, 20:] = (0, 0, 255)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    Image.fromarray(a).save(path, exif=exif, quality=95)
    out = load_image(path, 16).astype(int)
    assert out[:3, :, 0].mean() > 200 and out[:3, :, 2].mean() < 60  # top: red
    assert out[-3:, :, 2].mean() > 200 and out[-3:, :, 0].mean() < 60  # bottom: blue


def test_sources_agree(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    Image.new("RGB", (50, 20), (9, 99, 199)).save(path)
    data = path.read_bytes()
    ref = load_image(path, 8)
    with open(path, "rb") as f:
        from_file = load_image(f, 8)
    array = np.asarray(Image.open(path))
    for out in (load_image(str(path), 8), load_image(data, 8), load_image(io.BytesIO(data), 8),
                from_file, load_image(Image.open(path), 8), load_image(array, 8)):
        assert np.array_equal(out, ref)


def test_float_array_taken_as_unit_range() -> None:
    assert np.all(load_image(np.full((10, 10, 3), 0.5), 4) == 128)


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("L", (300, 300)).save(path)
    truncated = path.read_bytes()[:60]  # the header says 300x300; no pixel data follows
    with pytest.raises(DataError, match="decompression bomb.*90,000 pixels"):
        load_image(truncated, 8, max_pixels=50_000)
    assert load_image(path, 8, max_pixels=90_000).shape == (8, 8, 3)


@pytest.mark.parametrize(
    ("data", "match"),
    [(b"hello, not an image", "not an image"), (b"", "not an image")],
)
def test_non_images_refused(data: bytes, match: str) -> None:
    with pytest.raises(DataError, match=match):
        load_image(data)


def test_truncated_jpeg_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(buf, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(DataError, match="cut.jpg.*cannot decode"):
        load_image(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="file not found"):
        load_image(tmp_path / "nope.jpg")


@pytest.mark.parametrize("case", sorted(BROKEN_EXIF))
def test_exif_tags_of_the_wrong_type_are_not_fatal(tmp_path: Path, case: str) -> None:
    """Each made Pillow's orientation step raise struct.error or TypeError (a traceback that named
    no file); the orientation itself is readable and is applied."""
    path = tmp_path / "phone.jpg"
    path.write_bytes(jpeg_with_exif(ifd(BROKEN_EXIF[case])))
    out = load_image(path, 16).astype(int)  # stored 40 x 20, red left: upright, red on top
    assert out[:3, :, 0].mean() > 200 and out[:3, :, 2].mean() < 60
    assert out[-3:, :, 2].mean() > 200 and out[-3:, :, 0].mean() < 60


def test_tiff_with_a_rational_width_is_skipped_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    path.write_bytes(tiff_with_width((256, 5, 1, struct.pack("<II", 4, 1))))
    with pytest.raises(ImageError, match="scan.tif: damaged image header"):
        load_image(path, 8)


def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    result: list[BaseException] = []
    thread = threading.Thread(target=lambda: _catch(lambda: load_image(fifo, 8), result),
                              daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "load_image blocked on a FIFO"
    assert isinstance(result[0], ImageError) and "not a regular file (FIFO)" in str(result[0])


def _catch(fn: Callable[[], object], into: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as e:
        into.append(e)


def test_a_bad_array_is_an_image_error() -> None:
    with pytest.raises(ImageError, match="<array>: not an image array .*got \\(2, 3, 5\\)"):
        load_image(np.zeros((2, 3, 5)), 4)


def test_network_policies() -> None:
    a = np.zeros((60, 80, 3), np.uint8)
    a[:, :40] = (255, 0, 0)
    crop = load_image(a, network_policy("n", 8, resize=8, resample="bilinear"))
    stretch = load_image(a, network_policy("m", 8, resample="bilinear"))
    assert crop.shape == stretch.shape == (8, 8, 3)
    np.testing.assert_array_equal(stretch[:, :3], np.broadcast_to([255, 0, 0], (8, 3, 3)))
    np.testing.assert_array_equal(stretch[:, 5:], 0)
