from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.images import DecodedFile, load_image, read_file, read_files
from neuralcodes.images import formats as formats_module

from .helpers import encode, smooth


def test_read_hash_and_decode_once(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    data = encode(smooth(30, 40))
    path.write_bytes(data)
    got = read_file(path, 16)
    st = os.stat(path)
    assert (got.path, got.sha256, got.size, got.mtime_ns, got.problem) == (
        str(path), hashlib.sha256(data).hexdigest(), len(data), st.st_mtime_ns, None)
    assert got.pixels is not None
    np.testing.assert_array_equal(got.pixels, load_image(path, 16))


def test_a_bad_file_comes_back_with_its_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.jpg"
    path.write_bytes(b"\xff\xd8\xff garbage")
    got = read_file(path, 16)
    assert got.pixels is None and got.sha256 == hashlib.sha256(b"\xff\xd8\xff garbage").hexdigest()
    assert got.problem is not None and got.problem.startswith("not an image")
    gone = read_file(tmp_path / "gone.jpg", 16)
    assert (gone.pixels, gone.sha256, gone.size, gone.problem) == (None, None, 0, "file not found")


def test_special_files_are_skipped_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo.jpg")
    (tmp_path / "zero.png").symlink_to("/dev/zero")
    out: list[DecodedFile] = []
    thread = threading.Thread(target=lambda: out.extend(
        read_file(tmp_path / n, 16) for n in ("fifo.jpg", "zero.png")), daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "read_file blocked"
    assert [f.problem for f in out] == [
        "not a regular file (FIFO): only regular files are read",
        "not a regular file (character device): only regular files are read"]


def test_heic_without_the_extra_names_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(formats_module, "register_heif", lambda: False)
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 64)
    assert read_file(path, 16).problem == (
        "a HEIC/HEIF image: reading it needs the optional extra, pip install 'neuralcodes[heif]'")


@pytest.mark.parametrize("workers", [1, 2])
def test_many_files_in_order(tmp_path: Path, workers: int) -> None:
    paths = []
    for i in range(40):  # more than one chunk per worker
        p = tmp_path / f"{i:02d}.png"
        p.write_bytes(b"broken" if i % 7 == 3 else encode(Image.new("L", (9, 9), i * 5)))
        paths.append(p)
    got = list(read_files(paths, 4, workers=workers))
    assert [g.path for g in got] == [str(p) for p in paths]
    assert [g.pixels is None for g in got] == [i % 7 == 3 for i in range(40)]
    assert [int(g.pixels[0, 0, 0]) for g in got if g.pixels is not None] == [
        i * 5 for i in range(40) if i % 7 != 3]
