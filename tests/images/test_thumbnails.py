from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from neuralcodes.images import ImageError, make_thumbnail

from .helpers import ORIENT_6, encode, halves, ifd, jpeg_with_exif


def _pixels(jpeg: bytes) -> np.ndarray:
    assert jpeg[:3] == b"\xff\xd8\xff"
    return np.asarray(Image.open(io.BytesIO(jpeg)))


def test_re_encoded_never_the_files_own_bytes(tmp_path: Path) -> None:
    path = tmp_path / "small.jpg"
    data = encode(halves(40, 20), "JPEG", quality=95)
    path.write_bytes(data + b"<script>alert(1)</script>")  # bytes after the image
    thumb = make_thumbnail(path)
    assert thumb != data and b"<script>" not in thumb
    assert _pixels(thumb).shape == (20, 40, 3)  # never enlarged


def test_longest_side_at_most_size_and_upright(tmp_path: Path) -> None:
    path = tmp_path / "big.jpg"
    path.write_bytes(jpeg_with_exif(ifd([ORIENT_6]), halves(400, 200)))
    out = _pixels(make_thumbnail(path, 64)).astype(int)
    assert out.shape == (64, 32, 3)  # 200 x 400 once upright, then at most 64
    assert out[:4, :, 0].mean() > 200 and out[-4:, :, 2].mean() > 200  # red on top


def test_sixteen_bit_and_transparency_by_the_one_policy(tmp_path: Path) -> None:
    Image.new("I;16", (8, 8), 257 * 100).save(tmp_path / "grey16.png")
    Image.new("RGBA", (8, 8), (255, 0, 0, 0)).save(tmp_path / "clear.png")
    grey = _pixels(make_thumbnail(tmp_path / "grey16.png")).astype(int)
    assert np.abs(grey - 100).max() <= 1  # 16-bit divided by 257 (not stretched to 255)
    assert np.abs(_pixels(make_thumbnail(tmp_path / "clear.png")).astype(int) - 255).max() <= 1


def test_special_and_bad_files(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.jpg")
    (tmp_path / "text.jpg").write_text("not an image")
    errors: list[BaseException] = []

    def run() -> None:
        for name in ("fifo.jpg", "text.jpg"):
            try:
                make_thumbnail(tmp_path / name)
            except BaseException as e:
                errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "make_thumbnail blocked on a FIFO"
    assert [type(e) for e in errors] == [ImageError, ImageError]
    assert "not a regular file (FIFO)" in str(errors[0]) and "not an image" in str(errors[1])

