from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from neuralcodes.images import ImageError, read_image_file


def _in_thread(fn: object, timeout: float = 10.0) -> object:
    """Run ``fn()`` in a daemon thread; fail (instead of hanging the suite) if it blocks."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn()  # type: ignore[operator]
        except BaseException as e:
            out["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "reading blocked"
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


def test_reads_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "a.jpg"
    path.write_bytes(b"0123456789")
    got = read_image_file(path)
    assert (got.data, got.size, got.mtime_ns) == (b"0123456789", 10, os.stat(path).st_mtime_ns)


def test_a_fifo_named_like_a_photo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageError) as e:
        _in_thread(lambda: read_image_file(fifo))
    assert e.value.kind == "not-a-file"
    assert e.value.problem == "not a regular file (FIFO): only regular files are read"


def test_a_link_to_the_zero_device_is_refused_before_reading(tmp_path: Path) -> None:
    link = tmp_path / "zero.png"
    link.symlink_to("/dev/zero")
    with pytest.raises(ImageError) as e:
        _in_thread(lambda: read_image_file(link))
    assert e.value.problem == "not a regular file (character device): only regular files are read"


def test_byte_size_cap_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(b"x" * 100)
    assert read_image_file(path, max_bytes=100).size == 100
    with pytest.raises(ImageError) as e:
        read_image_file(path, max_bytes=99)
    assert (e.value.kind, e.value.problem) == (
        "too-large", "file too large: 100 bytes, more than the limit of 99")


def test_folder_missing_file_and_link_loop(tmp_path: Path) -> None:
    (tmp_path / "dir.jpg").mkdir()
    (tmp_path / "loop.jpg").symlink_to(tmp_path / "loop.jpg")
    cases = {"dir.jpg": ("not-a-file", "not a regular file (folder): only regular files are read"),
             "gone.jpg": ("missing", "file not found"),
             "loop.jpg": ("unreadable", "cannot open the file (Too many levels of symbolic links)")}
    for name, (kind, problem) in cases.items():
        with pytest.raises(ImageError) as e:
            read_image_file(tmp_path / name)
        assert (e.value.path, e.value.kind, e.value.problem) == (
            str(tmp_path / name), kind, problem)
