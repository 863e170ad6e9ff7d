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
