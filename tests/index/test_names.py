"""File names that are not UTF-8, or hold newlines and terminal escape codes, through the index:
kept exactly in the index (entries, manifest), escaped in progress.log and log messages."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from neuralcodes.index import Index, build_index, remove_files, update_index
from neuralcodes.index.store import read_entries, read_manifest
from neuralcodes.progress import Recorder

LATIN1 = os.fsdecode(b"caf\xe9.jpg")  # not UTF-8: legal on Linux
CONTROL = "new\nline\x1b[31mred.png"  # a newline and a terminal colour code
BAD = os.fsdecode(b"bad\xff\x1b]0;x\x07.jpg")  # not an image, with a terminal title code


def _odd_names(photos: Path, new_photo: Any) -> None:
    new_photo(photos / LATIN1, seed=50, fmt="JPEG")
    new_photo(photos / CONTROL, seed=51, fmt="PNG")
    (photos / BAD).write_bytes(b"not an image")


def test_names_are_kept_exactly_in_the_index_and_escaped_in_its_log(
    photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any
) -> None:
    _odd_names(photos, new_photo)
    idx, recorder = tmp_path / "idx", Recorder()
    info = build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1, progress=recorder)
    assert info.count == 22 and [p for p, _ in info.skipped] == [BAD]
    m = read_manifest(idx)
    entries = read_entries(idx / m["generation"])
    assert {LATIN1, CONTROL} <= {e.path for e in entries}
    assert m["skipped"][0][0] == BAD
    raw = (idx / m["generation"] / "entries.jsonl").read_bytes()
    raw.decode("ascii")  # JSON's \udcxx escapes: lossless, and plain ASCII
    assert b'"caf\\udce9.jpg"' in raw and b'"new\\nline\\u001b[31mred.png"' in raw
    log = (idx / "progress.log").read_bytes().decode("utf-8")  # valid UTF-8
    assert "skipped bad\\xff\\x1b]0;x\\x07.jpg: not an image" in log
    assert "\x1b" not in log and "\x07" not in log
    assert len(log.splitlines()) == 3  # build, skipped, the generation: one line each
    assert "skipped bad\\xff\\x1b]0;x\\x07.jpg: not an image" in "\n".join(recorder.messages)


def test_search_update_and_remove_with_such_names(
    photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any
) -> None:
    _odd_names(photos, new_photo)
    idx = tmp_path / "idx"
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1)
    with Index.open(idx, device="cpu") as index:
        hit = index.search(photos / LATIN1, k=1)
        assert hit.paths == [str((photos / LATIN1).resolve())] and hit.distances[0] < 1e-3
        assert hit.relative_paths() == [LATIN1]
        assert repr(hit).splitlines()[1].endswith("  caf\\xe9.jpg")  # escaped, printable
        page = hit._repr_html_()
        page.encode("utf-8")  # a notebook sends it as UTF-8
        assert 'title="caf\ufffd.jpg"' in page
    new_photo(photos / CONTROL, seed=52, fmt="PNG")  # changed content
    os.utime(photos / LATIN1, ns=(1, 1))  # touched only
    info = update_index(idx, device="cpu", workers=1)
    assert (info.changed, info.added, info.removed, info.count) == (1, 0, 0, 22)
    assert update_index(idx, device="cpu", workers=1).generation is None
    info = remove_files(idx, [photos / LATIN1, photos / os.fsdecode(b"gone\xe9.jpg")])
    assert info.removed == 1 and read_manifest(idx)["excluded"] == [LATIN1]
    manifest = json.loads((idx / "manifest.json").read_bytes().decode("ascii"))
    assert manifest["excluded"] == [LATIN1]
    log = (idx / "progress.log").read_text(encoding="utf-8")
    assert f"not in the index: {photos}/gone\\xe9.jpg" in log
