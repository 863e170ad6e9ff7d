"""Reading, hashing and decoding image files for the index: each file read once, never fatal.

A file's bytes give both its SHA-256 content hash (which the index stores to tell a changed file
from a touched one) and its pixels. A file that cannot be read or decoded comes back with
``pixels=None`` and the problem in words, so the caller lists it as skipped and goes on.
``read_files`` does this for many files on the worker pool, in order, with bounded memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from neuralcodes.artifacts import sha256_bytes
from neuralcodes.images.errors import ImageError
from neuralcodes.images.files import read_image_file
from neuralcodes.images.limits import MAX_PIXELS
from neuralcodes.images.load import load_image
from neuralcodes.images.policy import ImagePolicy, as_policy
from neuralcodes.images.pool import ordered_map, usable_cores

CHUNK = 16  # files per task sent to a worker
MAX_WORKERS = 8  # default: all usable cores, at most this many


@dataclass(frozen=True)
class DecodedFile:
    """One file: its pixels (or the problem), content hash, size in bytes and mtime."""

    path: str
    pixels: np.ndarray | None  # (S, S, 3) uint8, or None when the file is bad
    sha256: str | None  # None when the file could not be read
    size: int
    mtime_ns: int
    problem: str | None = None


def read_file(
    path: str | os.PathLike[str], policy: ImagePolicy | int, max_pixels: int = MAX_PIXELS
) -> DecodedFile:
    """Read, hash and decode one file by ``policy`` (an int S: the photo policy); never raises
    for a bad file."""
    name = os.fspath(path)
    try:
        got = read_image_file(name)
    except ImageError as e:
        return DecodedFile(name, None, None, 0, 0, e.problem)
    digest = sha256_bytes(got.data)
    try:
        pixels = load_image(got.data, policy, max_pixels=max_pixels, name=name)
    except ImageError as e:
        return DecodedFile(name, None, digest, got.size, got.mtime_ns, e.problem)
    return DecodedFile(name, pixels, digest, got.size, got.mtime_ns)


def default_workers() -> int:
    """All the cores this process may use, at most ``MAX_WORKERS``."""
    return max(1, min(usable_cores(), MAX_WORKERS))


def read_files(
    paths: Sequence[str | os.PathLike[str]],
    policy: ImagePolicy | int,
    *,
    workers: int | None = None,
    max_pixels: int = MAX_PIXELS,
) -> Iterator[DecodedFile]:
    """``read_file`` over ``paths`` in their order; ``workers`` > 1 uses the worker pool."""
    names = [os.fspath(p) for p in paths]
    workers = default_workers() if workers is None else workers
    if len(names) <= CHUNK:
        workers = 1
    chunks = [(names[i : i + CHUNK], as_policy(policy), max_pixels)
              for i in range(0, len(names), CHUNK)]
    for done in ordered_map(_read_chunk, chunks, workers=workers):
        yield from done


def _read_chunk(task: tuple[list[str], ImagePolicy, int]) -> list[DecodedFile]:
    paths, policy, max_pixels = task
    return [read_file(p, policy, max_pixels) for p in paths]
