from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.errors import DataError
from neuralcodes.index.images import INDEX_MARKER, load_image, scan_images


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


def test_scan_images(tmp_path: Path) -> None:
    for rel in ["b/2.PNG", "a/1.jpg", "a/z/3.webp", "c.gif", ".hidden/4.jpg", "a/.5.jpg",
                "idx/6.jpg", "other/7.jpg", "notes.txt", "x.jpeg.bak"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"x")
    (tmp_path / "idx" / INDEX_MARKER).touch()
    found = scan_images(tmp_path, skip=(tmp_path / "other",))
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/1.jpg", "a/z/3.webp", "b/2.PNG", "c.gif"]


def test_scan_refuses_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not a folder"):
        scan_images(tmp_path / "missing")
