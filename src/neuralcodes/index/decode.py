"""Reading, hashing and decoding image files in a process pool, in order, with bounded memory.

Each file is read once: its bytes give both the SHA-256 content hash (which the index stores to
tell a changed file from a touched one) and the pixels. A file that cannot be decoded comes back
with ``pixels=None`` and the problem in words, so the caller lists it and goes on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralcodes.artifacts import sha256_bytes
from neuralcodes.errors import DataError
from neuralcodes.index.images import DEFAULT_MAX_PIXELS, load_image

CHUNK = 16  # files per task sent to a worker


@dataclass(frozen=True)
class DecodedFile:
    """One file: its pixels (or the problem), content hash, size in bytes and mtime."""

    path: str
    pixels: np.ndarray | None  # (S, S, 3) uint8, or None when the file is bad
    sha256: str | None
    size: int
    mtime_ns: int
    problem: str | None = None


def read_file(path: str, image_size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedFile:
    """Read, hash and decode one file; never raises for a bad file."""
    try:
        st = os.stat(path)
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return DecodedFile(path, None, None, 0, 0, f"cannot read the file ({e.strerror or e})")
    digest = sha256_bytes(data)
    try:
        pixels = load_image(data, image_size, max_pixels=max_pixels)
    except DataError as e:
        return DecodedFile(path, None, digest, st.st_size, st.st_mtime_ns, e.problem)
    return DecodedFile(path, pixels, digest, st.st_size, st.st_mtime_ns)


def _read_chunk(paths: list[str], image_size: int, max_pixels: int) -> list[DecodedFile]:
    return [read_file(p, image_size, max_pixels) for p in paths]


def default_workers() -> int:
    """All the cores this process may use, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def decode_files(
    paths: Sequence[str | Path],
    image_size: int,
    *,
    workers: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[DecodedFile]:
    """``read_file`` over ``paths`` in their order; ``workers`` > 1 uses a process pool.

    At most ``4 * workers`` chunks are in flight, so memory stays bounded however many files.
    """
    names = [str(p) for p in paths]
    workers = default_workers() if workers is None else workers
    if workers <= 1 or len(names) <= CHUNK:
        for name in names:
            yield read_file(name, image_size, max_pixels)
        return
    chunks = [names[i : i + CHUNK] for i in range(0, len(names), CHUNK)]
    pool = ProcessPoolExecutor(workers, mp_context=_context())
    try:
        pending: deque[Future[list[DecodedFile]]] = deque()
        todo = iter(chunks)
        for chunk in todo:
            pending.append(pool.submit(_read_chunk, chunk, image_size, max_pixels))
            if len(pending) >= 4 * workers:
                break
        while pending:
            done = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(pool.submit(_read_chunk, nxt, image_size, max_pixels))
            yield from done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an abandoned scan stops its workers


def _context() -> multiprocessing.context.BaseContext:
    """forkserver where there is one: safe beside PyTorch's threads, unlike a bare fork."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
