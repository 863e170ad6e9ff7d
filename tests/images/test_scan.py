from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest

from neuralcodes.errors import DataError
from neuralcodes.images import INDEX_MARKER, scan_images


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


def test_phone_formats_and_special_files_are_listed(tmp_path: Path) -> None:
    """Listed, so that reading them says why they are skipped (never silently ignored)."""
    for name in ["a.HEIC", "b.heif", "c.avif"]:
        (tmp_path / name).write_bytes(b"x")
    os.mkfifo(tmp_path / "d.jpg")
    (tmp_path / "e.jpg").symlink_to(tmp_path / "e.jpg")  # a link loop
    (tmp_path / "f.png").symlink_to("/dev/zero")
    assert [p.name for p in scan_images(tmp_path)] == [
        "a.HEIC", "b.heif", "c.avif", "d.jpg", "e.jpg", "f.png"]


def _scan_as_nobody(root: Path) -> list[str]:
    """Root reads every folder: scan in a forked child that became an unprivileged user."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        try:
            os.setgid(65534)
            os.setuid(65534)
            found, problems = _scan(root)
            lines = [f"problem {f} {p}" for f, p in problems]
            lines.append("found " + " ".join(p.name for p in found))
            os.write(write, "\n".join(lines).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out.splitlines()


def _scan(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    problems: list[tuple[Path, str]] = []
    return scan_images(root, on_problem=lambda f, p: problems.append((f, p))), problems


def _unreadable_tree() -> tuple[tempfile.TemporaryDirectory[str], Path]:
    tmp = tempfile.TemporaryDirectory()
    root = Path(tmp.name)
    root.chmod(0o755)
    for rel in ["ok/1.jpg", "locked/2.jpg"]:
        (root / rel).parent.mkdir(exist_ok=True)
        (root / rel).write_bytes(b"x")
    (root / "locked").chmod(0o000)
    return tmp, root


def test_an_unreadable_subfolder_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    tmp, root = _unreadable_tree()
    expected = f"problem {root / 'locked'} folder not read, its images are left out " \
               "(Permission denied)"
    try:
        if os.geteuid() == 0:
            assert _scan_as_nobody(root) == [expected, "found 1.jpg"]
        else:
            found, problems = _scan(root)
            assert [p.name for p in found] == ["1.jpg"]
            assert [f"problem {f} {p}" for f, p in problems] == [expected]
            with caplog.at_level(logging.WARNING, "neuralcodes.images.scan"):
                scan_images(root)
            assert f"skipped: {root / 'locked'}: folder not read" in caplog.text
    finally:
        (root / "locked").chmod(0o755)
        tmp.cleanup()
