"""The manifest's one constructor, and a damaged index refused with one clear DataError."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from neuralcodes import __version__
from neuralcodes.errors import DataError
from neuralcodes.index import Index, build_index, update_index
from neuralcodes.index.describe import describe_index
from neuralcodes.index.manifest import new_manifest, validate_manifest

FP = {"model_hash": "abc", "model_name": "notebook", "layer": "L6", "image_size": 64,
      "code_dim": 128}


def test_new_manifest_has_every_field() -> None:
    m = new_manifest(FP, photos_root="/p", run_dir="/r", pca=None, backend="ivfpq",
                     requested={"nlist": 8}, skipped=[("x.jpg", "not an image", 3, 7)],
                     next_id=5)
    assert m.pop("created")
    assert m == {
        "artifact": "index", "neuralcodes_version": __version__, "format": 1, **FP,
        "photos_root": "/p", "run_dir": "/r", "pca": None, "normalized": True,
        "backend": {"kind": "ivfpq", "requested": {"nlist": 8}},
        "image": {"size": 64, "max_pixels": 89_478_485,
                  "policy": "centre square crop, Lanczos resize, EXIF orientation, RGB"},
        "next_id": 5, "excluded": [], "skipped": [["x.jpg", "not an image", 3, 7]],
    }
    exact = new_manifest(FP, photos_root="/p", run_dir="/r", pca=None, backend="exact",
                         requested={}, distributed={"engine": "ray"})
    assert exact["backend"] == {"kind": "exact"} and exact["distributed"] == {"engine": "ray"}


def _complete() -> dict[str, Any]:
    m = new_manifest(FP, photos_root="/p", run_dir="/r", pca=None, backend="exact",
                     requested={})
    return {**m, "generation": "gen-000001", "dim": 128}


def test_a_complete_manifest_is_valid() -> None:
    m = _complete()
    assert validate_manifest(m, "m.json") is m


@pytest.mark.parametrize(("change", "problem"), [
    ({"dim": 64}, "'dim' 64 does not match the code_dim 128"),
    ({"next_id": True}, "'next_id' must be an integer, got True"),
    ({"pca": {"dims": 32}}, "'dim' 128 does not match the PCA dims 32"),
    ({"skipped": [["a.jpg"]]}, "'skipped' must hold [path, problem, ...] lists"),
    ({"backend": {"kind": "annoy"}}, "'backend.kind' must be one of"),
])
def test_each_problem_is_named(change: dict[str, Any], problem: str) -> None:
    with pytest.raises(DataError) as e:
        validate_manifest({**_complete(), **change}, "idx/manifest.json")
    assert e.value.path == "idx/manifest.json" and problem in e.value.problem


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, run_dir: Path) -> Path:
    """An index of 6 noise images, copied and damaged by each test."""
    photos = tmp_path_factory.mktemp("photos")
    rng = np.random.default_rng(0)
    for i in range(6):
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)).save(
            photos / f"p{i}.png")
    out = tmp_path_factory.mktemp("idx") / "idx"
    build_index(photos, out, run_dir=run_dir, device="cpu", workers=1)
    return out


def _damaged(built: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    idx = tmp_path / "idx"
    shutil.copytree(built, idx)
    m = json.loads((idx / "manifest.json").read_text())
    edit(m)
    (idx / "manifest.json").write_text(json.dumps(m))
    return idx


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda m: m.pop(key)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m.__setitem__(key, value)


@pytest.mark.parametrize(("edit", "problem"), [
    (_drop("generation"), "missing 'generation'"),
    (_drop("backend"), "missing 'backend'"),
    (_drop("photos_root"), "missing 'photos_root'"),
    (_drop("layer"), "missing 'layer'"),
    (_drop("run_dir"), "missing 'run_dir'"),
    (_set("backend", "exact"), "'backend' must be an object, got 'exact'"),
    (_set("photos_root", 7), "'photos_root' must be a string, got 7"),
    (_set("generation", "../../etc"), "'generation' must name a gen-NNNNNN folder"),
    (_set("excluded", None), "'excluded' must be a list, got None"),
    (_set("photos_root", "photos"), "'photos_root' must be an absolute path, got 'photos'"),
    (_set("next_id", 2**64), "'next_id' must be in [0, 2**62), got 18446744073709551616"),
])
def test_a_damaged_manifest_is_one_clear_error(
    built: Path, tmp_path: Path, run_dir: Path, edit: Callable[[dict[str, Any]], None],
    problem: str,
) -> None:
    idx = _damaged(built, tmp_path, edit)
    for action in (lambda: Index.open(idx, run_dir=run_dir, device="cpu"),
                   lambda: update_index(idx, run_dir=run_dir, device="cpu", workers=1),
                   lambda: describe_index(idx)):
        with pytest.raises(DataError) as e:
            action()
        assert e.value.path == str(idx / "manifest.json")
        assert problem in e.value.problem and "rebuild the index" in e.value.problem


def _codes(idx: Path) -> Path:
    return idx / json.loads((idx / "manifest.json").read_text())["generation"] / "codes.npy"


def test_an_empty_codes_file_is_one_clear_error(built: Path, tmp_path: Path) -> None:
    idx = _damaged(built, tmp_path, lambda m: None)
    _codes(idx).write_bytes(b"")
    for action in (lambda: Index.open(idx, device="cpu"),
                   lambda: update_index(idx, device="cpu", workers=1)):
        with pytest.raises(DataError, match="codes.npy: cannot read the vectors"):
            action()


def test_codes_of_the_wrong_width_are_refused(built: Path, tmp_path: Path) -> None:
    idx = _damaged(built, tmp_path, lambda m: None)
    np.save(_codes(idx), np.zeros((6, 1), np.float32))  # every distance would be 0
    for action in (lambda: Index.open(idx, device="cpu"),
                   lambda: update_index(idx, device="cpu", workers=1)):
        with pytest.raises(DataError) as e:
            action()
        assert e.value.path == str(_codes(idx))
        assert e.value.problem.startswith("vectors of shape (6, 1), but the manifest says 128 "
                                          "dimensions")


def test_a_manifest_that_is_not_utf8_is_one_clear_error(built: Path, tmp_path: Path) -> None:
    idx = _damaged(built, tmp_path, lambda m: None)
    (idx / "manifest.json").write_bytes(b"\xff{}")
    for action in (lambda: Index.open(idx, device="cpu"), lambda: describe_index(idx),
                   lambda: update_index(idx, device="cpu", workers=1)):
        with pytest.raises(DataError, match="manifest.json: not valid JSON: not UTF-8 text"):
            action()


def _entries(idx: Path) -> Path:
    return _codes(idx).parent / "entries.jsonl"


@pytest.mark.parametrize(("line", "problem"), [
    ('{"id": 0, "path": 5, "sha256": "", "size": 1, "mtime_ns": 1}',
     "line 1: 'path' must be str, got 5"),
    ('{"id": "0", "path": "p0.png", "sha256": "", "size": 1, "mtime_ns": 1}',
     "line 1: 'id' must be int, got '0'"),
    ('{"id": 0, "path": "p0.png", "sha256": "", "size": true, "mtime_ns": 1}',
     "line 1: 'size' must be int, got True"),
    ('[0, "p0.png"]', "line 1 is not an object with the keys ['id', 'path', 'sha256', 'size', "
     "'mtime_ns']"),
    ('{"id": 1, "path": "p0.png", "sha256": "", "size": 1, "mtime_ns": 1}',
     "an id is given to two entries"),
])
def test_damaged_entries_are_one_clear_error(built: Path, tmp_path: Path, line: str,
                                             problem: str) -> None:
    """A wrong type used to escape as a TypeError, a repeated id to be accepted."""
    idx = _damaged(built, tmp_path, lambda m: None)
    rest = _entries(idx).read_text().splitlines()[1:]
    _entries(idx).write_text("\n".join([line, *rest]) + "\n")
    for action in (lambda: Index.open(idx, device="cpu"),
                   lambda: update_index(idx, device="cpu", workers=1)):
        with pytest.raises(DataError) as e:
            action()
        assert e.value.path == str(_entries(idx))
        assert e.value.problem == f"corrupt entries file ({problem})"


def test_a_damaged_or_mismatched_pca_is_refused_naming_its_file(
    tmp_path: Path, run_dir: Path
) -> None:
    from neuralcodes.postprocess.pca import PCA, save_pca

    photos = tmp_path / "photos"
    photos.mkdir()
    rng = np.random.default_rng(1)
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (30, 30, 3), dtype=np.uint8)).save(
            photos / f"p{i}.png")
    idx = tmp_path / "idx"
    build_index(photos, idx, run_dir=run_dir, device="cpu", workers=1, pca=16)
    pca_file = _codes(idx).parent / "pca.npz"
    pca_file.write_bytes(b"PK not a zip")
    with pytest.raises(DataError) as e:
        Index.open(idx, device="cpu")
    assert e.value.path == str(pca_file) and "not a PCA file" in e.value.problem
    save_pca(PCA(np.zeros(64), np.eye(16, 64), np.ones(16), False, 1e-6), pca_file)
    with pytest.raises(DataError, match=r"a PCA of shape \(16, 64\), but the manifest says "
                       r"128 -> 16 dimensions"):
        Index.open(idx, device="cpu")
