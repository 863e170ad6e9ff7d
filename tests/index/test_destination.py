"""Where a build may write: checked before any work, with --force for the user's own folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from neuralcodes.cli import main
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.index import build_index, update_index
from neuralcodes.index.store import read_manifest


def test_a_folder_that_cannot_be_written(photos: Path, run_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DataError, match="a-file/idx: cannot write the index here"):
        build_index(photos, blocker / "idx", run_dir=run_dir, device="cpu")
    assert main(["index", "build", str(photos), "--out", str(blocker / "idx"), "--model",
                 str(run_dir), "-q"]) == 2
    assert "cannot write the index here" in capsys.readouterr().err
    with pytest.raises(DataError, match="not a neuralcodes index: no such folder"):
        update_index(tmp_path / "nothing-here")
    assert not (tmp_path / "nothing-here").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder(photos: Path, run_dir: Path, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataError, match="cannot write the index here"):
        build_index(photos, locked / "idx", run_dir=run_dir, device="cpu")


def test_a_folder_of_other_files_is_refused_unless_forced(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.tex").write_text("mine")
    with pytest.raises(DataError, match="exists and is not a neuralcodes index \\(it holds 1 "
                       "other files or folders, e.g. 'thesis.tex'\\).*--force"):
        build_index(photos, out, run_dir=run_dir, device="cpu", workers=1)
    assert os.listdir(out) == ["thesis.tex"]  # nothing written
    info = build_index(photos, out, run_dir=run_dir, device="cpu", workers=1, force=True)
    assert info.count == 20 and (out / "thesis.tex").read_text() == "mine"


def test_an_index_of_another_model_or_layer_is_refused_unless_forced(
    photos: Path, run_dir: Path, other_run: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1)
    with pytest.raises(ArtifactMismatchError, match="layer: 'L6' there, 'L7' now.*--force"):
        build_index(photos, idx, run_dir=run_dir, layer="L7", device="cpu", workers=1)
    with pytest.raises(ArtifactMismatchError, match="model_hash: '[0-9a-f]+' there"):
        build_index(photos, idx, run_dir=other_run, device="cpu", workers=1)
    assert read_manifest(idx)["generation"] == "gen-000001"  # untouched
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1)  # the same: rebuilt
    build_index(photos, idx, run_dir=run_dir, layer="L7", device="cpu", workers=1, force=True)
    m = read_manifest(idx)
    assert (m["layer"], m["generation"]) == ("L7", "gen-000003")


def test_a_users_folder_named_like_a_generation_is_neither_taken_nor_deleted(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    """``gen-holiday`` passed for a generation: the build went ahead without --force, and the
    prune after it deleted the folder and its files."""
    out = tmp_path / "out"
    (out / "gen-holiday").mkdir(parents=True)
    (out / "gen-holiday" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="e.g. 'gen-holiday'.*--force"):
        build_index(photos, out, run_dir=run_dir, device="cpu", workers=1)
    build_index(photos, out, run_dir=run_dir, device="cpu", workers=1, force=True)
    for name in ("img00.jpg", "img05.jpg"):  # generations 2 and 3: 1 is pruned
        (photos / "a" / name).unlink()
        update_index(out, device="cpu", workers=1)
    assert sorted(p.name for p in out.glob("gen-*")) == ["gen-000002", "gen-000003",
                                                         "gen-holiday"]
    assert (out / "gen-holiday" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("name", ["staging", "shards", "readers"])
def test_a_users_folder_named_like_the_index_work_is_refused_even_forced(
    photos: Path, run_dir: Path, tmp_path: Path, name: str
) -> None:
    """A build deletes its working folders when done: with them, the user's."""
    out = tmp_path / "out"
    (out / name).mkdir(parents=True)
    (out / name / "notes.txt").write_text("mine")
    for force in (False, True):
        with pytest.raises(DataError, match=f"out/{name}: a folder of this name is where an "
                           "index keeps its work"):
            build_index(photos, out, run_dir=run_dir, device="cpu", workers=1, force=force)
    assert (out / name / "notes.txt").read_text() == "mine"


def test_an_unfinished_build_is_still_taken_up(photos: Path, run_dir: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    for folder, name in (("staging", "job.json"), ("readers", "gen-000001.1.x.lease"),
                         ("shards", "shards.json"), (".gen-000001.tmp", "codes.npy")):
        (out / folder).mkdir(parents=True)
        (out / folder / name).write_text("{}")
    info = build_index(photos, out, run_dir=run_dir, device="cpu", workers=1)
    assert info.count == 20 and not (out / ".gen-000001.tmp").exists()
