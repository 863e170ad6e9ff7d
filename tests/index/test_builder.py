from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.images import load_image
from neuralcodes.index import Encoder, Index, add_files, build_index, remove_files, update_index
from neuralcodes.index.store import read_entries, read_manifest
from neuralcodes.progress import Recorder


class Killed(Exception):
    """Stands for the process being killed inside the encode loop."""


class CountingEncode:
    """Wraps Encoder.encode: counts the images encoded; can fail after ``fail_after`` calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_after: int | None = None) -> None:
        self.images, self.calls, self.fail_after = 0, 0, fail_after
        original = Encoder.encode

        def encode(enc: Encoder, images: np.ndarray) -> np.ndarray:
            if self.fail_after is not None and self.calls >= self.fail_after:
                raise Killed("killed midway")
            self.calls += 1
            self.images += len(images)
            return original(enc, images)

        monkeypatch.setattr(Encoder, "encode", encode)


def _build(photos: Path, out: Path, run_dir: Path, **kw: Any) -> Any:
    return build_index(photos, out, run_dir=run_dir, device="cpu", workers=1, **kw)


def _paths(index_dir: Path) -> list[str]:
    m = read_manifest(index_dir)
    return [e.path for e in read_entries(index_dir / m["generation"])]


def test_build_writes_every_image(
    photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any
) -> None:
    (photos / "bad.jpg").write_text("this is not a jpeg")
    good = new_photo(photos / "trunc.png", seed=50, fmt="PNG")
    good.write_bytes(good.read_bytes()[:200])
    rec = Recorder()
    info = _build(photos, tmp_path / "idx", run_dir, batch_size=8, progress=rec)
    assert info.count == 20 and info.added == 20 and info.dim == 128 and info.layer == "L6"
    assert sorted(p for p, _ in info.skipped) == ["bad.jpg", "trunc.png"]
    m = read_manifest(tmp_path / "idx")
    fp = Encoder.from_run(run_dir, device="cpu").fingerprint()
    assert {k: m[k] for k in fp} == fp
    assert m["counts"] == {"entries": 20, "skipped": 2} and m["backend"] == {"kind": "exact"}
    assert m["pca"] is None and m["photos_root"] == str(photos.resolve())
    assert _paths(tmp_path / "idx")[:2] == ["a/img00.jpg", "a/img01.png"]
    assert ".hidden/secret.png" not in _paths(tmp_path / "idx")
    log = (tmp_path / "idx" / "progress.log").read_text()
    assert "skipped bad.jpg: not an image" in log and "skipped trunc.png" in log
    assert any("skipped bad.jpg" in msg for msg in rec.messages)
    assert not (tmp_path / "idx" / "staging").exists()


def test_vectors_are_the_codes_of_the_files(photos: Path, run_dir: Path, tmp_path: Path) -> None:
    _build(photos, tmp_path / "idx", run_dir, batch_size=7)
    index = Index.open(tmp_path / "idx", device="cpu")
    enc = Encoder.from_run(run_dir, device="cpu")
    expected = enc.encode(np.stack([load_image(index.path_of(e.id)) for e in index.entries]))
    np.testing.assert_allclose(index.vectors, expected, rtol=1e-4, atol=1e-5)


def test_build_with_a_process_pool(photos: Path, run_dir: Path, tmp_path: Path) -> None:
    serial = _build(photos, tmp_path / "one", run_dir)
    pooled = build_index(photos, tmp_path / "two", run_dir=run_dir, device="cpu", workers=2)
    assert pooled.count == serial.count == 20
    a = Index.open(tmp_path / "one", device="cpu")
    b = Index.open(tmp_path / "two", device="cpu")
    np.testing.assert_allclose(a.vectors, b.vectors, rtol=1e-5, atol=1e-6)


def test_index_inside_the_photo_folder_is_not_indexed(
    photos: Path, run_dir: Path, new_photo: Any
) -> None:
    _build(photos, photos / "my-index", run_dir)
    new_photo(photos / "my-index" / "stray.png", seed=70, fmt="PNG")
    info = update_index(photos / "my-index", device="cpu", workers=1)
    assert info.count == 20 and info.generation is None


def test_update_new_changed_touched_deleted(
    photos: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_photo: Any
) -> None:
    idx = tmp_path / "idx"
    _build(photos, idx, run_dir)
    before = Index.open(idx, device="cpu")
    ids = {e.path: e.id for e in before.entries}
    counter = CountingEncode(monkeypatch)
    new_photo(photos / "new" / "n1.png", seed=201, fmt="PNG")  # new
    new_photo(photos / "a" / "img05.jpg", seed=202, fmt="JPEG")  # changed content
    os.utime(photos / "b" / "img03.webp", ns=(10**18, 10**18))  # touched, same content
    (photos / "a" / "img01.png").unlink()  # deleted
    info = update_index(idx, device="cpu", workers=1)
    assert (info.added, info.changed, info.removed, info.count) == (1, 1, 1, 20)
    assert counter.images == 2  # only the new and the changed file went through the network
    after = Index.open(idx, device="cpu")
    new_ids = {e.path: e.id for e in after.entries}
    assert new_ids["a/img05.jpg"] == ids["a/img05.jpg"] and "a/img01.png" not in new_ids
    assert new_ids["new/n1.png"] == max(ids.values()) + 1
    touched = next(e for e in after.entries if e.path == "b/img03.webp")
    assert touched.mtime_ns == 10**18
    for path in ("b/img03.webp", "a/img00.jpg"):  # untouched rows are copied unchanged
        np.testing.assert_array_equal(after.vectors[after._row[new_ids[path]]],
                                      before.vectors[before._row[ids[path]]])
    enc = Encoder.from_run(run_dir, device="cpu")
    np.testing.assert_allclose(after.vectors[after._row[new_ids["a/img05.jpg"]]],
                               enc.encode(load_image(photos / "a" / "img05.jpg")[None])[0],
                               rtol=1e-4, atol=1e-5)


def test_update_without_changes_writes_nothing(photos: Path, run_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _build(photos, tmp_path / "idx", run_dir)
    counter = CountingEncode(monkeypatch)
    gen = read_manifest(tmp_path / "idx")["generation"]
    info = update_index(tmp_path / "idx", device="cpu", workers=1)
    assert info.generation is None and counter.calls == 0
    assert read_manifest(tmp_path / "idx")["generation"] == gen


def test_add_and_remove(photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any) -> None:
    idx = tmp_path / "idx"
    _build(photos, idx, run_dir)
    info = remove_files(idx, [photos / "a" / "img00.jpg", photos / "b" / "c"])
    assert info.removed == 5 and info.count == 15  # one file + the 4 in b/c
    assert not any(p.startswith("b/c/") for p in _paths(idx))
    assert update_index(idx, device="cpu", workers=1).count == 15  # not added back
    outside = new_photo(tmp_path / "elsewhere" / "x.png", seed=300, fmt="PNG")
    info = add_files(idx, [photos / "a" / "img00.jpg", outside], device="cpu", workers=1)
    assert (info.added, info.count) == (2, 17)
    assert str(outside.resolve()) in _paths(idx)
    assert Index.open(idx, device="cpu").search(outside, k=1).paths == [str(outside.resolve())]
    with pytest.raises(DataError, match="file not found"):
        add_files(idx, [photos / "missing.png"], device="cpu")


def test_update_interrupted_midway_then_finished(
    photos: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_photo: Any
) -> None:
    idx = tmp_path / "idx"
    _build(photos, idx, run_dir)
    query = photos / "a" / "img10.jpg"
    before = Index.open(idx, device="cpu").search(query, k=5)
    for i in range(7):
        new_photo(photos / "new" / f"n{i}.png", seed=400 + i, fmt="PNG")
    (photos / "a" / "img00.jpg").unlink()
    counter = CountingEncode(monkeypatch, fail_after=2)
    with pytest.raises(Killed):
        update_index(idx, device="cpu", workers=1, batch_size=3)
    assert counter.images == 6  # two batches checkpointed, then killed
    counter.fail_after = None
    old = Index.open(idx, device="cpu")  # the previous index is intact and searchable
    assert len(old) == 20
    again = old.search(query, k=5)
    np.testing.assert_array_equal(again.ids, before.ids)
    np.testing.assert_allclose(again.distances, before.distances, rtol=1e-6)
    counter.images = 0
    info = update_index(idx, device="cpu", workers=1, batch_size=3)
    assert (info.added, info.removed, info.count, info.resumed) == (7, 1, 26, 6)
    assert counter.images == 1  # only the one file the killed job had not encoded
    assert not (idx / "staging").exists()


def test_interrupted_first_build_is_finished_by_update(photos: Path, run_dir: Path,
                                                       tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    idx = tmp_path / "idx"
    counter = CountingEncode(monkeypatch, fail_after=1)
    with pytest.raises(Killed):
        _build(photos, idx, run_dir, batch_size=8)
    with pytest.raises(DataError, match="unfinished build"):
        Index.open(idx)
    counter.fail_after = None
    info = update_index(idx, device="cpu", workers=1, batch_size=8)
    assert (info.count, info.resumed) == (20, 8) and counter.images == 20


def test_kill_between_generation_and_manifest(
    photos: Path, run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_photo: Any
) -> None:
    idx = tmp_path / "idx"
    _build(photos, idx, run_dir)
    new_photo(photos / "n.png", seed=500, fmt="PNG")
    import neuralcodes.index.store as store

    def die(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(store, "atomic_write_json", die)
    with pytest.raises(Killed):
        update_index(idx, device="cpu", workers=1)
    monkeypatch.undo()
    assert len(Index.open(idx, device="cpu")) == 20
    info = update_index(idx, device="cpu", workers=1)
    assert (info.count, info.resumed) == (21, 1)
    assert len([p for p in idx.iterdir() if p.name.startswith("gen-")]) == 2


def test_a_different_model_is_refused(photos: Path, run_dir: Path, other_run: Path,
                                      tmp_path: Path) -> None:
    _build(photos, tmp_path / "idx", run_dir)
    with pytest.raises(ArtifactMismatchError, match="model_hash: artifact has '[0-9a-f]+', "
                       "expected '[0-9a-f]+'.*rebuild"):
        Index.open(tmp_path / "idx", run_dir=other_run)
    with pytest.raises(ArtifactMismatchError, match="model_hash"):
        update_index(tmp_path / "idx", run_dir=other_run)


def test_a_retrained_model_in_the_same_run_is_refused(
    photos: Path, tmp_path: Path, new_run: Any
) -> None:
    run = new_run(tmp_path / "run", seed=3)
    _build(photos, tmp_path / "idx", run)
    new_run(run, seed=4)  # model.pt replaced by other weights
    with pytest.raises(ArtifactMismatchError, match="model_hash"):
        Index.open(tmp_path / "idx")
    shutil.rmtree(run)
    with pytest.raises(DataError, match="--model RUN_DIR"):
        Index.open(tmp_path / "idx")


def test_out_must_not_be_the_photo_folder(photos: Path, run_dir: Path) -> None:
    from neuralcodes.errors import ConfigError

    with pytest.raises(ConfigError, match="folder of its own"):
        _build(photos, photos, run_dir)


def test_build_with_no_images(tmp_path: Path, run_dir: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "x.jpg").write_text("nope")
    with pytest.raises(DataError, match="no readable images"):
        _build(tmp_path / "empty", tmp_path / "idx", run_dir)


def test_hnsw_backend_records_recall(photos: Path, run_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("faiss")
    rec = Recorder()
    info = _build(photos, tmp_path / "idx", run_dir, backend="hnsw", progress=rec)
    assert info.recall_at_10 == 1.0 and info.backend == "hnsw"
    m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert m["backend"]["recall_at_10"] == 1.0 and m["backend"]["recall_queries"] == 20
    assert any("recall@10" in msg for msg in rec.messages)
    assert "recall@10" in (tmp_path / "idx" / "progress.log").read_text()
    exact = _build(photos, tmp_path / "exact", run_dir)
    assert exact.count == info.count
    q = photos / "b" / "img08.webp"
    a = Index.open(tmp_path / "idx", device="cpu").search(q, k=5)
    b = Index.open(tmp_path / "exact", device="cpu").search(q, k=5)
    np.testing.assert_array_equal(a.ids, b.ids)


def test_update_does_not_reread_unchanged_bad_files(
    photos: Path, run_dir: Path, tmp_path: Path, new_photo: Any
) -> None:
    idx = tmp_path / "idx"
    bad = photos / "bad.jpg"
    bad.write_text("not a jpeg")
    _build(photos, idx, run_dir)
    gen = read_manifest(idx)["generation"]
    st = bad.stat()
    assert read_manifest(idx)["skipped"][0][::2] == ["bad.jpg", st.st_size]
    assert read_manifest(idx)["skipped"][0][3] == st.st_mtime_ns
    info = update_index(idx, device="cpu", workers=1)  # nothing changed: nothing read or written
    assert (info.generation, info.skipped) == (None, ())
    assert read_manifest(idx)["generation"] == gen
    assert (idx / "progress.log").read_text().count("skipped bad.jpg") == 1
    bad.write_text("still not a jpeg")  # changed: read again
    info = update_index(idx, device="cpu", workers=1)
    assert [p for p, _ in info.skipped] == ["bad.jpg"] and info.count == 20
    assert [s[0] for s in read_manifest(idx)["skipped"]] == ["bad.jpg"]
    assert update_index(idx, device="cpu", workers=1).generation is None
    new_photo(bad, seed=77, fmt="JPEG")  # repaired: indexed
    info = update_index(idx, device="cpu", workers=1)
    assert (info.added, info.count, read_manifest(idx)["skipped"]) == (1, 21, [])


def test_a_deleted_bad_file_leaves_the_skipped_list(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    idx = tmp_path / "idx"
    (photos / "bad.png").write_bytes(b"\x89PNG broken")
    _build(photos, idx, run_dir)
    (photos / "bad.png").unlink()
    info = update_index(idx, device="cpu", workers=1)
    assert info.generation is not None and read_manifest(idx)["skipped"] == []
    assert update_index(idx, device="cpu", workers=1).generation is None


def test_ivfpq_below_the_minimum_says_it_built_a_flat_index(
    photos: Path, run_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("faiss")
    info = _build(photos, tmp_path / "idx", run_dir, backend="ivfpq")
    assert (info.backend, info.structure, info.recall_at_10) == ("ivfpq", "Flat", 1.0)
    backend = read_manifest(tmp_path / "idx")["backend"]
    assert (backend["kind"], backend["structure"]) == ("ivfpq", "Flat")
    assert "ivfpq backend: Flat index (flat (fewer than 1000 vectors))" in (
        tmp_path / "idx" / "progress.log").read_text()
