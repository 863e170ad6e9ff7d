"""Decoding files in a process pool and encoding them in batches, checkpointing every batch.

The checkpoint of an unfinished build or update is ``INDEX_DIR/staging/`` (``CodeCache``): every
encoded batch is saved at once (``batch-NNNNNN.npz``: keys, content hashes, raw codes), so a job
killed midway loses at most one batch; the next build or update of the same index finds the
codes of unchanged files here and does not decode nor encode them again. A file's key is its
path, size and mtime, so a file edited in between is encoded afresh. ``job.json`` records the
encoder's fingerprint (codes of another model or layer are never reused) and the settings of the
job, so ``update_index`` can finish a first build that was killed before it wrote anything.

Bad files are reported through ``progress.log`` and returned with their problem; they never stop
the job.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.allocator import tune_once
from neuralcodes.artifacts import atomic_write_bytes, atomic_write_json, read_json
from neuralcodes.encoder import Encoder
from neuralcodes.errors import DataError
from neuralcodes.images import DecodedFile, read_files
from neuralcodes.index.plan import abs_path, bad_record
from neuralcodes.index.store import STAGING
from neuralcodes.names import shown
from neuralcodes.progress import Progress, ensure


def file_key(path: str, size: int, mtime_ns: int) -> str:
    """What identifies one version of a file without reading it."""
    return f"{path}\0{size}\0{mtime_ns}"


def read_job(index_dir: str | Path) -> dict[str, Any] | None:
    """The settings of an unfinished job in ``index_dir``, or None."""
    try:
        job = read_json(Path(index_dir) / STAGING / "job.json")
    except (DataError, OSError):
        return None
    return job if isinstance(job, dict) else None


class CodeCache:
    """Raw codes of already-encoded files, keyed by ``file_key``, persisted batch by batch."""

    def __init__(self, index_dir: str | Path, job: dict[str, Any]) -> None:
        self.dir = Path(index_dir) / STAGING
        old = read_job(index_dir)
        if old is None or old.get("fingerprint") != job.get("fingerprint"):
            shutil.rmtree(self.dir, ignore_errors=True)  # codes of another model: useless
        self.dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.dir / "job.json", job)
        self._codes: dict[str, tuple[str, np.ndarray]] = {}
        self._next = 0
        for path in sorted(self.dir.glob("batch-*.npz")):
            self._next = max(self._next, int(path.stem[6:]) + 1)
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as z:
                keys, shas, codes = z["keys"], z["sha256"], z["codes"]  # codes: (B, D)
        except (OSError, ValueError, KeyError):
            return  # an unreadable checkpoint only costs re-encoding its files
        for key, sha, code in zip(keys, shas, codes, strict=True):
            self._codes[str(key)] = (str(sha), code)

    def __len__(self) -> int:
        return len(self._codes)

    def get(self, key: str) -> tuple[str, np.ndarray] | None:
        """(sha256, raw code (D,)) of a file version encoded before, or None."""
        return self._codes.get(key)

    def put(self, keys: list[str], shas: list[str], codes: np.ndarray) -> None:
        """Save one encoded batch (codes: (B, D) float32) atomically."""
        if not keys:
            return
        buf = io.BytesIO()
        np.savez(buf, keys=np.array(keys), sha256=np.array(shas),
                 codes=np.asarray(codes, np.float32))
        atomic_write_bytes(self.dir / f"batch-{self._next:06d}.npz", buf.getvalue())
        self._next += 1
        for key, sha, code in zip(keys, shas, codes, strict=True):
            self._codes[key] = (sha, code)

    def clear(self) -> None:
        """Forget the job: called once its result is committed."""
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass(frozen=True)
class Encoded:
    """One file's raw code (D,) float32 with the content hash, size and mtime it was read with."""

    sha256: str
    size: int
    mtime_ns: int
    code: np.ndarray


@dataclass
class EncodeResult:
    encoded: dict[str, Encoded] = field(default_factory=dict)  # stored path -> code
    bad: list[list[Any]] = field(default_factory=list)  # ``bad_record``s of unreadable files
    n_resumed: int = 0  # taken from the checkpoint of an interrupted job
    n_encoded: int = 0  # decoded and encoded now
    seconds: float = 0.0


def encode_paths(
    root: Path,
    paths: list[str],
    encoder: Encoder,
    cache: CodeCache,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> EncodeResult:
    """Raw codes of the files ``paths`` (stored form, relative to ``root``)."""
    tune_once()  # bulk extraction: the allocator of `neuralcodes index` (neuralcodes.allocator)
    progress = ensure(progress)
    start = time.perf_counter()
    result = EncodeResult()
    todo = _take_cached(root, paths, cache, result)
    if result.n_resumed:
        progress.log(f"resuming: {result.n_resumed} files were encoded by an interrupted job")
    decoded = read_files([abs_path(root, p) for p in todo], encoder.image_policy,
                         workers=workers)
    batch: list[tuple[str, DecodedFile]] = []
    for stored, item in zip(todo, progress.track(decoded, total=len(todo), desc="encoding"),
                            strict=True):
        if item.pixels is None:
            result.bad.append(bad_record(root, stored, item.problem or "unreadable", item.size,
                                         item.mtime_ns))
            progress.log(f"skipped {shown(stored)}: {item.problem}", logging.WARNING)
            continue
        batch.append((stored, item))
        if len(batch) >= encoder.batch_size:
            _flush(batch, encoder, cache, result)
            progress.update(encoded=result.n_encoded, skipped=len(result.bad))
    _flush(batch, encoder, cache, result)
    result.seconds = time.perf_counter() - start
    return result


def _take_cached(root: Path, paths: list[str], cache: CodeCache, result: EncodeResult) -> list[str]:
    """Fill ``result`` with the files the cache has; return the others."""
    todo = []
    for stored in paths:
        try:
            st = os.stat(abs_path(root, stored))
        except OSError:
            todo.append(stored)  # read_file reports the problem
            continue
        hit = cache.get(file_key(stored, st.st_size, st.st_mtime_ns))
        if hit is None:
            todo.append(stored)
        else:
            result.encoded[stored] = Encoded(hit[0], st.st_size, st.st_mtime_ns, hit[1])
            result.n_resumed += 1
    return todo


def _flush(batch: list[tuple[str, DecodedFile]], encoder: Encoder, cache: CodeCache,
           result: EncodeResult) -> None:
    """Encode one batch, checkpoint it, and add it to ``result``; empties ``batch``."""
    if not batch:
        return
    pixels = np.stack([item.pixels for _, item in batch if item.pixels is not None])  # (B,S,S,3)
    codes = encoder.encode(pixels)  # (B, D)
    keys = [file_key(stored, item.size, item.mtime_ns) for stored, item in batch]
    shas = [item.sha256 or "" for _, item in batch]
    cache.put(keys, shas, codes)
    for (stored, item), code in zip(batch, codes, strict=True):
        result.encoded[stored] = Encoded(item.sha256 or "", item.size, item.mtime_ns, code)
    result.n_encoded += len(batch)
    batch.clear()
