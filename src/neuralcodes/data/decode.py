"""Parallel decoding of a dataset's files to uint8 RGB ``(N, S, S, 3)``; bad files skipped.

Each file is decoded by the "tiny-cache" image policy (``neuralcodes.images``: JPEGs through
simplejpeg straight into their row, anything else through Pillow; an image that is not S x S is
stretched and reported). A file that cannot be decoded (any ``ImageError``: unreadable, not a
regular file, too large, a decompression bomb, damaged...) is reported with its path and problem
and its row is left at zero with ``ok[i] = False``: never fatal.

Why worker processes writing into a memory-mapped ``.npy``: decoding is CPU-bound Python + C, and
the output (1.2 GB for Tiny ImageNet) must never be held twice or sent through pipes. Each worker
(``neuralcodes.images.ordered_map``) opens the output file ``r+`` and writes its chunk's rows in
place; only the (rare) problems come back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from neuralcodes.images import (
    MAX_FILE_BYTES,
    ImageError,
    decode_into,
    ordered_map,
    read_image_file,
    usable_cores,
)
from neuralcodes.images.files import too_large
from neuralcodes.names import shown
from neuralcodes.progress import Progress, ensure

_LOGGED_PER_KIND = 10  # problems logged one by one; the rest only counted


@dataclass(frozen=True)
class DecodeProblem:
    """A file that was skipped (``skipped=True``) or decoded with a warning (``skipped=False``)."""

    index: int  # position in the input list
    path: str
    problem: str
    skipped: bool


@dataclass(frozen=True, eq=False)
class Decoded:
    images: np.ndarray  # (N, S, S, 3) uint8, a read-only memmap when written to a file
    ok: np.ndarray  # (N,) bool; False rows are zero and their files are in ``skipped``
    problems: tuple[DecodeProblem, ...]

    @property
    def skipped(self) -> tuple[DecodeProblem, ...]:
        return tuple(p for p in self.problems if p.skipped)

    @property
    def warnings(self) -> tuple[DecodeProblem, ...]:
        return tuple(p for p in self.problems if not p.skipped)


def decode_files(
    source: str | Path | None,
    names: Sequence[str],
    *,
    size: int = 64,
    out: str | Path | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
    chunk: int = 1000,
) -> Decoded:
    """Decode ``names``: relative to the folder or ``.zip`` ``source``, or paths if it is None.

    ``out``: write a ``.npy`` there (memory-mapped, opened read-only afterwards); ``None``: return
    an in-memory array. ``workers``: processes (default: usable cores); 1 decodes in this process.
    """
    progress = ensure(progress)
    n = len(names)
    if n == 0:
        return Decoded(np.zeros((0, size, size, 3), np.uint8), np.zeros(0, bool), ())
    workers = min(workers or usable_cores(), max(1, -(-n // chunk)))
    with contextlib.ExitStack() as stack:
        if out is None:  # decoded into a temporary file, copied into memory before it goes
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="neuralcodes-decode-"))
            target = Path(tmp) / "images.npy"
        else:
            target = Path(out)
        np.lib.format.open_memmap(target, "w+", np.uint8, (n, size, size, 3)).flush()
        src = None if source is None else str(source)
        is_zip = src is not None and os.path.isfile(src)
        tasks = [_Task(src, is_zip, list(names[i : i + chunk]), i, str(target))
                 for i in range(0, n, chunk)]  # fmt: skip
        done = ordered_map(_decode_chunk, tasks, workers=workers)
        found = [p for batch in progress.track(done, len(tasks), "decode images") for p in batch]
        images = np.load(target, mmap_mode="r")  # read-only from now on
        if out is None:
            images = np.array(images)
    problems = tuple(sorted(found, key=lambda p: p.index))
    ok = np.ones(n, bool)
    ok[[p.index for p in problems if p.skipped]] = False
    _log_problems(problems, progress)
    return Decoded(images, ok, problems)


@dataclass(frozen=True)
class _Task:
    source: str | None  # a folder, a .zip, or None (names are paths)
    is_zip: bool
    names: list[str]
    start: int  # index of names[0] in the whole list
    out_path: str  # the (N, S, S, 3) ``.npy`` that every task writes its rows of


def _decode_chunk(task: _Task) -> list[DecodeProblem]:
    """Worker: decode one chunk into rows ``start..start+len`` of the ``.npy`` at ``out_path``;
    return the problems found."""
    # No msync: the rows reach the shared page cache at once, which is all the parent needs, and
    # forcing them to disk per chunk would stall the workers.
    images = np.load(task.out_path, mmap_mode="r+")  # (N, S, S, 3)
    rows = images[task.start : task.start + len(task.names)]  # (len(names), S, S, 3)
    problems: list[DecodeProblem] = []
    try:
        for j, name in enumerate(task.names):
            where = _where(task, name)
            try:
                warning = decode_into(_read(task, name, where), rows[j], where)
            except ImageError as e:
                rows[j] = 0
                problems.append(DecodeProblem(task.start + j, where, _problem(e), True))
            else:
                if warning:
                    problems.append(DecodeProblem(task.start + j, where, warning, False))
    finally:
        del rows, images
    return problems


def _read(task: _Task, name: str, where: str) -> bytes:
    """The bytes of one file or zip member (regular files only, the byte-size cap first)."""
    if not task.is_zip:
        return read_image_file(where).data
    assert task.source is not None
    try:
        zf = _open_zip(os.getpid(), task.source)
        info = zf.getinfo(name)
        if info.file_size > MAX_FILE_BYTES:
            raise too_large(where, info.file_size, MAX_FILE_BYTES)
        return zf.read(info)
    except ImageError:
        raise
    except (OSError, KeyError, EOFError, zipfile.BadZipFile, ValueError, RuntimeError) as e:
        raise ImageError(where, f"cannot read the zip member ({e})", "unreadable") from None


@cache
def _open_zip(pid: int, path: str) -> zipfile.ZipFile:
    """The archive open in process ``pid``: a forked child must not share its parent's offset."""
    return zipfile.ZipFile(path)


def _problem(e: ImageError) -> str:
    # a missing file is worded as the OS words it, as this reader always did
    problem = "No such file or directory" if e.kind == "missing" else e.problem
    return f"unreadable image: {problem}"


def _where(task: _Task, name: str) -> str:
    if task.source is None:
        return name
    return f"{task.source}:{name}" if task.is_zip else os.path.join(task.source, name)


def _log_problems(problems: Sequence[DecodeProblem], progress: Progress) -> None:
    for skipped, kind in ((True, "skipped"), (False, "with a warning")):
        group = [p for p in problems if p.skipped == skipped]
        for p in group[:_LOGGED_PER_KIND]:
            progress.log(f"skipped: {shown(p.path)}: {p.problem}" if skipped else
                         f"{shown(p.path)}: {p.problem}", logging.WARNING)
        if len(group) > _LOGGED_PER_KIND:
            progress.log(f"... {len(group) - _LOGGED_PER_KIND} more files {kind} (see the list)",
                         logging.WARNING)
