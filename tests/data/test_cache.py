from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.artifacts import read_json
from neuralcodes.data import cache as cache_module
from neuralcodes.data.cache import default_cache_dir, open_cache, open_or_build_cache
from neuralcodes.data.decode import decode_files
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.errors import ArtifactMismatchError
from neuralcodes.progress import Recorder

from ..images.helpers import png_declaring
from .helpers import encode, pattern, zip_folder


@pytest.fixture()
def dataset(tiny_dataset: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_dataset, tmp_path / "tiny-imagenet-200"))


def _built(rec: Recorder) -> bool:
    return any(m.startswith("decoding") for m in rec.messages)


def test_build_then_reopen_without_decoding(dataset: Path, tmp_path: Path) -> None:
    index = read_tiny_imagenet(dataset)
    rec = Recorder()
    cache = open_or_build_cache(index, tmp_path / "c", workers=2, progress=rec)
    assert _built(rec)
    assert cache.images.shape == (200, 64, 64, 3) and isinstance(cache.images, np.memmap)
    np.testing.assert_array_equal(cache.labels, index.labels)
    assert cache.files == index.files and cache.class_names == index.class_names
    assert cache.wnids == index.wnids and cache.skipped == ()
    expected = decode_files(index.root, index.members, workers=1).images
    np.testing.assert_array_equal(np.asarray(cache.images), expected)
    manifest = read_json(tmp_path / "c/manifest.json")
    assert manifest["artifact"] == "pixel-cache" and manifest["source"] == str(dataset)
    assert manifest["n_files"] == 200 and manifest["fingerprint"] == index.fingerprint
    assert manifest["image_size"] == 64
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == [
        "images.npy",
        "labels.npy",
        "manifest.json",
    ]
    rec2 = Recorder()
    again = open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "c", progress=rec2)
    assert not _built(rec2)  # reopened, not decoded again (its speed: benchmarks/bench_load.py)
    np.testing.assert_array_equal(np.asarray(again.images), expected)


def test_rebuild_when_a_file_changes(dataset: Path, tmp_path: Path) -> None:
    open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "c", workers=1)
    changed = dataset / read_tiny_imagenet(dataset).files[5]
    changed.write_bytes(encode(pattern(seed=3), quality=95))
    rec = Recorder()
    cache = open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "c", progress=rec)
    assert _built(rec) and any("rebuilding" in m and "fingerprint" in m for m in rec.messages)
    assert np.abs(cache.images[5].astype(int) - pattern(seed=3)).mean() < 3


def test_corrupt_image_is_excluded_and_listed(dataset: Path, tmp_path: Path) -> None:
    index = read_tiny_imagenet(dataset)
    bad = index.files[7]
    (dataset / bad).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    index = read_tiny_imagenet(dataset)
    cache = open_or_build_cache(index, tmp_path / "c", workers=2)
    assert len(cache) == 199 and cache.images.shape[0] == 199
    assert bad not in cache.files and cache.files == index.files[:7] + index.files[8:]
    np.testing.assert_array_equal(cache.labels, np.delete(index.labels, 7))
    assert len(cache.skipped) == 1 and cache.skipped[0][0] == bad
    assert cache.skipped[0][1].startswith("unreadable image")
    full = decode_files(index.root, index.members, workers=1).images
    np.testing.assert_array_equal(np.asarray(cache.images), np.delete(full, 7, axis=0))


def test_damaged_or_mismatched_cache(dataset: Path, tmp_path: Path) -> None:
    index = read_tiny_imagenet(dataset)
    open_or_build_cache(index, tmp_path / "c", workers=1)
    with pytest.raises(ArtifactMismatchError, match="image_size: artifact has 64, expected 32"):
        open_cache(tmp_path / "c", expected={"image_size": 32})
    (tmp_path / "c/images.npy").unlink()
    rec = Recorder()
    cache = open_or_build_cache(index, tmp_path / "c", workers=1, progress=rec)
    assert any("damaged" in m and "images.npy" in m for m in rec.messages)
    assert cache.images.shape == (200, 64, 64, 3)
    small = open_or_build_cache(index, tmp_path / "c", size=32, workers=1)
    assert small.images.shape == (200, 32, 32, 3)


def test_zip_source(dataset: Path, tmp_path: Path) -> None:
    z = zip_folder(dataset, tmp_path / "tiny.zip", "tiny-imagenet-200/")
    index = read_tiny_imagenet(z)
    cache = open_or_build_cache(index, workers=2)
    assert cache.path == tmp_path / ".neuralcodes-cache" / "tiny.zip"
    folder_cache = open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "f", workers=1)
    np.testing.assert_array_equal(np.asarray(cache.images), np.asarray(folder_cache.images))


def test_default_cache_dir(dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = read_tiny_imagenet(dataset)
    assert default_cache_dir(index) == dataset / ".neuralcodes-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache_module.os, "access", lambda *a, **k: False)
    fallback = default_cache_dir(index)
    assert fallback.parent == tmp_path / "xdg" / "neuralcodes" and len(fallback.name) == 16
    assert os.access is not None


def test_non_utf8_names_round_trip_through_the_manifest(dataset: Path, tmp_path: Path) -> None:
    wnid = read_tiny_imagenet(dataset).wnids[0]
    folder = os.fsencode(dataset / "train" / wnid / "images")
    with open(folder + b"/\xff\xfe-photo.JPEG", "wb") as f:
        f.write(encode(pattern(seed=9), quality=95))
    index = read_tiny_imagenet(dataset)
    cache = open_or_build_cache(index, tmp_path / "c", workers=1)
    assert cache.files == index.files and len(cache) == 201
    name = next(f for f in cache.files if f.endswith("-photo.JPEG"))
    assert os.fsencode(name).endswith(b"/\xff\xfe-photo.JPEG")
    raw = (tmp_path / "c/manifest.json").read_bytes()
    assert b"\\udcff\\udcfe-photo.JPEG" in raw  # JSON escapes: the manifest stays valid UTF-8
    rec = Recorder()
    again = open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "c", progress=rec)
    assert not _built(rec) and again.files == index.files


def test_bombs_link_loops_and_fifos_are_skipped_and_listed(dataset: Path, tmp_path: Path) -> None:
    """Each ended `neuralcodes run` with a traceback (or hung it)."""
    folder = dataset / "train" / read_tiny_imagenet(dataset).wnids[1] / "images"
    (folder / "bomb.JPEG").write_bytes(png_declaring(30000, 30000))
    (folder / "bomb2.JPEG").write_bytes(png_declaring(10000, 10000))
    (folder / "loop.JPEG").symlink_to(folder / "loop.JPEG")
    os.mkfifo(folder / "pipe.JPEG")
    rec = Recorder()
    cache = open_or_build_cache(read_tiny_imagenet(dataset), tmp_path / "c", workers=2,
                                progress=rec)
    assert len(cache) == 200
    skipped = {Path(f).name: p for f, p in cache.skipped}
    assert sorted(skipped) == ["bomb.JPEG", "bomb2.JPEG", "loop.JPEG", "pipe.JPEG"]
    assert "decompression bomb" in skipped["bomb.JPEG"]
    assert "decompression bomb" in skipped["bomb2.JPEG"]
    assert skipped["loop.JPEG"] == (
        "unreadable image: cannot open the file (Too many levels of symbolic links)")
    assert skipped["pipe.JPEG"] == (
        "unreadable image: not a regular file (FIFO): only regular files are read")
    assert sum(m.startswith("skipped: ") for m in rec.messages) == 4


def test_the_fallback_cache_folder_is_logged(dataset: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             caplog: pytest.LogCaptureFixture) -> None:
    index = read_tiny_imagenet(dataset)
    with caplog.at_level(logging.INFO, "neuralcodes"):
        default_cache_dir(index)
    assert caplog.records == []  # beside the dataset: nothing to say
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache_module.os, "access", lambda *a, **k: False)
    with caplog.at_level(logging.INFO, "neuralcodes"):
        fallback = default_cache_dir(index)
    [record] = caplog.records
    assert (record.name, record.levelno) == ("neuralcodes.data.cache", logging.INFO)
    assert record.getMessage() == (f"cannot write the pixel cache in {dataset}/.neuralcodes-cache:"
                                   f" it goes to {fallback}")
