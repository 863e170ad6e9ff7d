"""What the command line prints: names escaped on any stdout, a closed pipe ends quietly, the
grid's format and folder checked before any work."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from neuralcodes.cli import main

LATIN1 = os.fsdecode(b"caf\xe9.jpg")
CONTROL = "evil\n\x1b[2J.png"


def _build(photos: Path, run_dir: Path, idx: Path) -> Path:
    assert main(["index", "build", str(photos), "--model", str(run_dir), "--out", str(idx),
                 "--workers", "1", "--device", "cpu", "-q"]) == 0
    return idx


@pytest.fixture
def plain(photos: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An index of ``photos``."""
    _build(photos, run_dir, tmp_path / "idx")
    capsys.readouterr()
    return tmp_path / "idx"


@pytest.fixture
def odd(photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any,
        capsys: pytest.CaptureFixture[str]) -> Path:
    """An index of ``photos`` with a Latin-1 name, a name with control characters, a bad file."""
    new_photo(photos / LATIN1, seed=50, fmt="JPEG")
    new_photo(photos / CONTROL, seed=51, fmt="PNG")
    (photos / os.fsdecode(b"bad\xff.jpg")).write_bytes(b"not an image")
    _build(photos, run_dir, tmp_path / "idx")
    capsys.readouterr()
    return tmp_path / "idx"


def _strict_ascii_stdout(monkeypatch: pytest.MonkeyPatch) -> io.BytesIO:
    """stdout as a C locale gives it: ASCII, strict (the bytes written are returned)."""
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii", errors="strict"))
    return raw


def test_names_on_a_strict_ascii_stdout(odd: Path, photos: Path, run_dir: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = _strict_ascii_stdout(monkeypatch)
    assert main(["search", str(odd), str(photos / LATIN1), "-k", "30"]) == 0
    assert main(["search", str(odd), str(photos / LATIN1), "-k", "2", "--json"]) == 0
    assert main(["index", "update", str(odd), "--device", "cpu", "-q"]) == 0
    assert main(["index", "remove", str(odd), str(photos / LATIN1), str(photos / CONTROL)]) == 0
    assert main(["index", "add", str(odd), str(photos / LATIN1), "--device", "cpu"]) == 0
    assert main(["index", "info", str(odd)]) == 0
    sys.stdout.flush()
    out = raw.getvalue().decode("ascii")
    assert f"{photos}/caf\\xe9.jpg\n" in out  # the table: one line per result
    assert f"{photos}/evil\\n\\x1b[2J.png\n" in out
    assert '"path": "' + f"{photos}/caf\\udce9.jpg" + '"' in out  # --json: lossless JSON
    assert "\x1b" not in out


def test_skipped_names_in_the_build_summary_are_escaped(
    photos: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (photos / os.fsdecode(b"bad\xff\n\x1b[1m.jpg")).write_bytes(b"not an image")
    raw = _strict_ascii_stdout(monkeypatch)
    assert main(["index", "build", str(photos), "--model", str(run_dir), "--out",
                 str(tmp_path / "idx"), "--workers", "1", "--device", "cpu", "-q"]) == 0
    sys.stdout.flush()
    assert "    bad\\xff\\n\\x1b[1m.jpg: not an image" in raw.getvalue().decode("ascii")


def test_a_closed_stdout_ends_a_command_quietly(plain: Path) -> None:
    """``index info | head``: the reader is gone before anything is written."""
    read, write = os.pipe()
    os.close(read)
    stdout = sys.stdout
    sys.stdout = io.TextIOWrapper(open(write, "wb"), encoding="utf-8")  # noqa: SIM115
    try:
        assert main(["index", "info", str(plain)]) == 1
    finally:
        sys.stdout = stdout


@pytest.mark.parametrize("args", [["--help"], ["index", "info", "IDX"]])
def test_no_traceback_when_the_reader_of_stdout_has_gone(plain: Path, args: list[str]) -> None:
    args = [str(plain) if a == "IDX" else a for a in args]
    proc = subprocess.Popen([sys.executable, "-m", "neuralcodes", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 1)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_the_grid_is_written_in_the_format_its_extension_names(
    plain: Path, photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, fmt in (("grid.jpg", "JPEG"), ("grid.JPEG", "JPEG"), ("grid.png", "PNG")):
        assert main(["search", str(plain), str(photos / "a" / "img00.jpg"), "--grid",
                     str(tmp_path / name)]) == 0
        with Image.open(tmp_path / name) as img:
            assert img.format == fmt


@pytest.mark.parametrize("grid, message", [
    ("grid.gif", "--grid {}/grid.gif: name a .png, .jpg or .jpeg file"),
    ("grid", "--grid {}/grid: name a .png, .jpg or .jpeg file"),
    ("missing/grid.png", "{}/missing: no such folder"),
])
def test_a_bad_grid_is_refused_before_any_work(
    tmp_path: Path, photos: Path, grid: str, message: str,
    capsys: pytest.CaptureFixture[str]
) -> None:
    """Refused before the index is opened (here there is none), and nothing is created."""
    before = sorted(tmp_path.rglob("*"))
    assert main(["search", str(tmp_path / "no-index"), str(photos / "a" / "img00.jpg"),
                 "--grid", str(tmp_path / grid)]) == 2
    assert message.format(tmp_path) in capsys.readouterr().err
    assert sorted(tmp_path.rglob("*")) == before
