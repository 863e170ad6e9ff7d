"""The decoded-pixel cache: ``images.npy`` (memory-mapped), ``labels.npy`` and ``manifest.json``.

Decoding 100,000 JPEGs takes seconds; reopening the cache takes milliseconds, because ``images.npy``
is opened with ``mmap_mode="r"`` and only the pages that are read come into memory. The manifest
records where the pixels came from (source, file count, a fingerprint of every file name with its
size and modification time, image size) and the files that were skipped with the reason. When the
fingerprint or the image size differs from the dataset's, the cache is rebuilt.

Writes are atomic: the manifest is removed first, the arrays are written under temporary names and
renamed, and the manifest is written last, so a cache with a manifest is always complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import (
    atomic_save_npy,
    atomic_write_json,
    check_provenance,
    provenance,
    read_json,
)
from neuralcodes.data.decode import decode_files
from neuralcodes.data.tinyimagenet import DatasetIndex
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.progress import Progress, ensure

KIND = "pixel-cache"
MANIFEST = "manifest.json"
log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PixelCache:
    """Decoded training images of a dataset, skipped files excluded."""

    path: Path  # the cache folder
    images: np.ndarray  # (N, S, S, 3) uint8, read-only memmap
    labels: np.ndarray  # (N,) int64
    files: tuple[str, ...]  # (N,) relative to the dataset folder
    class_names: tuple[str, ...]  # (C,)
    wnids: tuple[str, ...]  # (C,)
    skipped: tuple[tuple[str, str], ...]  # (file, problem) of files left out
    manifest: dict[str, Any]

    def __len__(self) -> int:
        return len(self.files)


def default_cache_dir(index: DatasetIndex) -> Path:
    """``<dataset folder>/.neuralcodes-cache`` if writable, else ``~/.cache/neuralcodes/<hash>``
    (``$XDG_CACHE_HOME`` when set), which is then logged at INFO.

    For a zip, the folder beside it (``.neuralcodes-cache/<zip name>``).
    """
    root = index.root
    beside = (
        root.parent / ".neuralcodes-cache" / root.name
        if index.is_zip
        else root / ".neuralcodes-cache"
    )
    with contextlib.suppress(OSError):
        beside.mkdir(parents=True, exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    digest = hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:16]
    fallback = base / "neuralcodes" / digest
    log.info("cannot write the pixel cache in %s: it goes to %s", beside, fallback)
    return fallback


def open_or_build_cache(
    index: DatasetIndex,
    cache_dir: str | Path | None = None,
    *,
    size: int = 64,
    workers: int | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> PixelCache:
    """Open the cache of ``index`` if it matches the dataset, else decode every image into it."""
    progress = ensure(progress)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir(index)
    expected = _expected(index, size)
    if not rebuild and (folder / MANIFEST).exists():
        try:
            return open_cache(folder, expected=expected)
        except ArtifactMismatchError as e:
            progress.log(f"rebuilding the pixel cache: {e}")
        except DataError as e:
            progress.log(f"rebuilding the pixel cache, it is damaged: {e}", logging.WARNING)
    _build(index, folder, size, workers, progress)
    return open_cache(folder, expected=expected)


def open_cache(folder: str | Path, *, expected: dict[str, Any] | None = None) -> PixelCache:
    """Open a built cache; ``expected`` manifest fields must match (``ArtifactMismatchError``)."""
    folder = Path(folder)
    manifest = read_json(folder / MANIFEST)
    check_provenance(manifest, {"artifact": KIND, **(expected or {})}, where=folder / MANIFEST)
    images = _load(folder / "images.npy", mmap=True)
    labels = _load(folder / "labels.npy", mmap=False)
    n, s = int(manifest["n_images"]), int(manifest["image_size"])
    if images.shape != (n, s, s, 3) or images.dtype != np.uint8:
        raise DataError(
            folder / "images.npy", f"shape {images.shape}, manifest says {(n, s, s, 3)}"
        )
    if labels.shape != (n,):
        raise DataError(folder / "labels.npy", f"shape {labels.shape}, manifest says {(n,)}")
    return PixelCache(
        path=folder,
        images=images,
        labels=labels.astype(np.int64, copy=False),
        files=tuple(manifest["files"]),
        class_names=tuple(manifest["class_names"]),
        wnids=tuple(manifest["wnids"]),
        skipped=tuple((f, p) for f, p in manifest["skipped"]),
        manifest=manifest,
    )


def _expected(index: DatasetIndex, size: int) -> dict[str, Any]:
    return {"fingerprint": index.fingerprint, "n_files": len(index), "image_size": size}


def _load(path: Path, *, mmap: bool) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(path, "missing from the pixel cache") from None
    except (OSError, ValueError) as e:
        raise DataError(path, f"unreadable ({e})") from None


def _build(
    index: DatasetIndex, folder: Path, size: int, workers: int | None, progress: Progress
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (folder / MANIFEST).unlink()  # a cache without a manifest is never used
    progress.log(f"decoding {len(index)} images of {index.root} into {folder}")
    with tempfile.TemporaryDirectory(prefix=".build.", dir=folder) as tmp:
        raw = Path(tmp) / "all.npy"
        decoded = decode_files(
            index.root, index.members, size=size, out=raw, workers=workers, progress=progress
        )
        keep = decoded.ok  # (N,) bool
        problems = [(index.files[p.index], p.problem, p.skipped) for p in decoded.problems]
        if not keep.all():
            _copy_rows(decoded.images, keep, Path(tmp) / "kept.npy")
            os.replace(Path(tmp) / "kept.npy", raw)
        del decoded  # close the memmap before renaming its file
        atomic_save_npy(folder / "labels.npy", index.labels[keep])
        os.replace(raw, folder / "images.npy")
    _write_manifest(index, folder, size, keep, problems)


def _write_manifest(
    index: DatasetIndex,
    folder: Path,
    size: int,
    keep: np.ndarray,
    problems: list[tuple[str, str, bool]],
) -> None:
    manifest = provenance(
        KIND,
        source=str(index.root),
        **_expected(index, size),
        n_images=int(keep.sum()),
        n_classes=len(index.wnids),
        wnids=list(index.wnids),
        class_names=list(index.class_names),
        skipped=[[f, p] for f, p, skipped in problems if skipped],
        warnings=[[f, p] for f, p, skipped in problems if not skipped],
        files=[f for f, k in zip(index.files, keep, strict=True) if k],
    )
    atomic_write_json(folder / MANIFEST, manifest)


def _copy_rows(src: np.ndarray, keep: np.ndarray, dest: Path, chunk: int = 8192) -> None:
    """Write ``src[keep]`` (M, ...) to the ``.npy`` at ``dest`` in chunks (no second full copy)."""
    idx = np.flatnonzero(keep)  # (M,)
    out = np.lib.format.open_memmap(dest, "w+", src.dtype, (len(idx), *src.shape[1:]))
    for i in range(0, len(idx), chunk):
        out[i : i + chunk] = src[idx[i : i + chunk]]
    del out
