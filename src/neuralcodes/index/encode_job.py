"""Decoding files in a process pool and encoding them in batches, checkpointing every batch.

Files already in the job's ``CodeCache`` (an interrupted build or update of the same index)
are not decoded nor encoded again. Bad files are reported through ``progress.log`` and returned
with their problem; they never stop the job.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from neuralcodes.allocator import tune_once
from neuralcodes.images import MAX_PIXELS, DecodedFile, read_files
from neuralcodes.index.checkpoint import CodeCache, file_key
from neuralcodes.index.encoder import Encoder
from neuralcodes.index.plan import abs_path
from neuralcodes.names import shown
from neuralcodes.progress import Progress, ensure


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
    failures: list[tuple[str, str]] = field(default_factory=list)  # (stored path, problem)
    failed_stat: dict[str, tuple[int, int]] = field(default_factory=dict)  # (size, mtime_ns)
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
    max_pixels: int = MAX_PIXELS,
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
                         workers=workers, max_pixels=max_pixels)
    batch: list[tuple[str, DecodedFile]] = []
    for stored, item in zip(todo, progress.track(decoded, total=len(todo), desc="encoding"),
                            strict=True):
        if item.pixels is None:
            result.failures.append((stored, item.problem or "unreadable"))
            result.failed_stat[stored] = (item.size, item.mtime_ns)
            progress.log(f"skipped {shown(stored)}: {item.problem}", logging.WARNING)
            continue
        batch.append((stored, item))
        if len(batch) >= encoder.batch_size:
            _flush(batch, encoder, cache, result)
            progress.update(encoded=result.n_encoded, skipped=len(result.failures))
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
