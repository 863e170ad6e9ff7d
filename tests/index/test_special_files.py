"""What an update finds in place of a tracked photo (a FIFO), and subfolders it cannot read."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from neuralcodes.cli import main
from neuralcodes.index import build_index, update_index
from neuralcodes.index.plan import plan_update
from neuralcodes.index.store import read_entries, read_manifest

LOCKED = "folder not read, its images are left out (Permission denied)"


class FifoWatch:
    """Opens ``fifo`` for writing after ``seconds``: if a reader is blocked on it, that releases
    it (end of file) and ``blocked`` says so, instead of the test hanging forever."""

    def __init__(self, fifo: Path, seconds: float = 20.0) -> None:
        self.fifo, self.blocked = fifo, False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(seconds,), daemon=True)
        self._thread.start()

    def _watch(self, seconds: float) -> None:
        if self._done.wait(seconds):
            return
        try:  # succeeds only while a reader has the FIFO open
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return
        self.blocked = True
        os.close(fd)

    def stop(self) -> bool:
        self._done.set()
        self._thread.join()
        return self.blocked


def test_a_tracked_photo_replaced_by_a_fifo_is_skipped_not_read(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1)
    fifo = photos / "a" / "img00.jpg"
    fifo.unlink()
    os.mkfifo(fifo)
    watch = FifoWatch(fifo)
    info = update_index(idx, device="cpu", workers=1)
    assert not watch.stop(), "the update blocked reading the FIFO"
    assert (info.removed, info.count) == (1, 19)
    assert info.skipped == (("a/img00.jpg", "not a regular file (FIFO): only regular files "
                             "are read"),)
    m = read_manifest(idx)
    assert "a/img00.jpg" not in {e.path for e in read_entries(idx / m["generation"])}
    assert [s[0] for s in m["skipped"]] == ["a/img00.jpg"]


def test_plan_hashes_a_changed_tracked_file_only_if_it_is_a_regular_file(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1)
    entries = read_entries(idx / read_manifest(idx)["generation"])
    (photos / "a" / "img01.png").unlink()
    os.mkfifo(photos / "a" / "img01.png")
    (photos / "a" / "img10.jpg").unlink()  # gone: dropped
    watch = FifoWatch(photos / "a" / "img01.png")
    plan = plan_update(photos, entries, set(), idx)
    assert not watch.stop()
    assert plan.encode == ["a/img01.png"]  # read again by the encoder, which reports it
    assert plan.drop == {next(e.id for e in entries if e.path == "a/img10.jpg")}


def _world_writable_tree(new_photo: Any, new_run: Any) -> Iterator[Path]:
    """A folder under /tmp that the user "nobody" can use: photos, a run, room for an index."""
    base = Path(tempfile.mkdtemp())
    for i, rel in enumerate(["ok/1.jpg", "ok/2.jpg", "locked/3.jpg", "locked/deeper/4.jpg"]):
        new_photo(base / "photos" / rel, seed=i, fmt="JPEG")
    new_run(base / "run")
    for folder, dirs, files in os.walk(base):
        for name in [*dirs, *files]:
            os.chmod(os.path.join(folder, name), 0o777)
    base.chmod(0o777)
    try:
        yield base
    finally:
        (base / "photos" / "locked").chmod(0o755)
        shutil.rmtree(base)


@pytest.fixture
def shared(new_photo: Any, new_run: Any) -> Iterator[Path]:
    yield from _world_writable_tree(new_photo, new_run)


def _cli_as_nobody(*args: str) -> str:
    """``neuralcodes ARGS``'s stdout; when this is root (root reads every folder, so a folder of
    mode 000 would be read), in a new process as the user nobody."""
    if os.geteuid() != 0:
        return _cli(args)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("root reads every folder, and setpriv (util-linux) is not there to drop it")
    proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-m", "neuralcodes", *args], capture_output=True,
                          text=True, errors="replace", timeout=300, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _cli(args: tuple[str, ...]) -> str:
    out, stdout = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        code = main(list(args))
    finally:
        sys.stdout = stdout
    assert code == 0, out.getvalue()
    return out.getvalue()


def test_an_unreadable_subfolder_is_in_the_skipped_list(shared: Path) -> None:
    idx, photos = shared / "idx", shared / "photos"
    (photos / "locked").chmod(0o000)
    out = _cli_as_nobody("index", "build", str(photos), "--out", str(idx), "--model",
                         str(shared / "run"), "--device", "cpu", "--workers", "1", "-q")
    assert f"    locked: {LOCKED}" in out
    m = read_manifest(idx)
    assert m["skipped"] == [["locked", LOCKED, None, None]] and m["counts"]["entries"] == 2
    assert f"skipped locked/: {LOCKED}" in (idx / "progress.log").read_text()
    gen = m["generation"]
    out = _cli_as_nobody("index", "update", str(idx), "--device", "cpu", "-q")  # still locked
    assert "up to date, 2 images" in out and f"    locked: {LOCKED}" in out
    assert read_manifest(idx)["generation"] == gen  # nothing written
    (photos / "locked").chmod(0o777)  # readable again: its images are indexed
    info = update_index(idx, device="cpu", workers=1)
    assert (info.added, info.count) == (2, 4) and read_manifest(idx)["skipped"] == []


def test_a_subfolder_that_becomes_unreadable_is_reported_by_update(shared: Path) -> None:
    idx, photos = shared / "idx", shared / "photos"
    build_index(photos, idx, run_dir=shared / "run", device="cpu", workers=1)
    for p in idx.rglob("*"):
        p.chmod(0o777)
    idx.chmod(0o777)
    (photos / "locked").chmod(0o000)
    out = _cli_as_nobody("index", "update", str(idx), "--device", "cpu", "-q")
    assert "2 images (128-d L6, exact); 0 added, 0 changed, 2 removed" in out
    m = json.loads((idx / "manifest.json").read_text())
    assert m["skipped"] == [["locked", LOCKED, None, None]]
