"""Parallel decoding of image files to uint8 RGB ``(N, S, S, 3)``; bad files reported and skipped.

JPEGs go through simplejpeg (libjpeg-turbo), decoded straight into their output row; anything it
refuses (other formats, JPEGs with recoverable errors) goes through Pillow. Grayscale and CMYK
become RGB; an image that is not ``S x S`` is resized (a warning); an image that is not a JPEG
decodes but is reported (a warning); a file that cannot be decoded is reported with its path and
problem and its row is left at zero with ``ok[i] = False``: never fatal.

Why a process pool writing into a memory-mapped ``.npy``: decoding is CPU-bound Python + C, and the
output (1.2 GB for Tiny ImageNet) must never be held twice or sent through pipes. Each worker opens
the output file ``r+`` and writes its chunk's rows in place; only the (rare) problems come back.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import sys
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
    workers = min(workers or _usable_cores(), max(1, -(-n // chunk)))
    with contextlib.ExitStack() as stack:
        if out is None and workers > 1:
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="neuralcodes-decode-"))
            target: Path | None = Path(tmp) / "images.npy"
        else:
            target = None if out is None else Path(out)
        if target is None:
            images = np.zeros((n, size, size, 3), np.uint8)  # (N, S, S, 3)
            tasks = _tasks(source, names, "", size, chunk)
            done = (_decode_range(t, images[t.start : t.start + len(t.names)]) for t in tasks)
            found = [
                p for batch in progress.track(done, len(tasks), "decode images") for p in batch
            ]
        else:
            np.lib.format.open_memmap(target, "w+", np.uint8, (n, size, size, 3)).flush()
            found = _run_pool(source, names, target, size, workers, chunk, progress)
            images = np.load(target, mmap_mode="r")
            if out is None:
                images = np.array(images)  # copy into memory before the temp folder goes
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
    out_path: str  # "" when decoding into an in-memory array
    size: int


def _run_pool(
    source: str | Path | None,
    names: Sequence[str],
    target: Path,
    size: int,
    workers: int,
    chunk: int,
    progress: Progress,
) -> list[DecodeProblem]:
    tasks = _tasks(source, names, str(target), size, chunk)
    if workers <= 1:
        done = (_decode_chunk(t) for t in tasks)
        return [p for batch in progress.track(done, len(tasks), "decode images") for p in batch]
    found: list[DecodeProblem] = []
    with ProcessPoolExecutor(workers, mp_context=_context()) as pool:
        futures = [pool.submit(_decode_chunk, t) for t in tasks]
        for fut in progress.track(as_completed(futures), len(futures), "decode images"):
            found.extend(fut.result())
    return found


def _tasks(
    source: str | Path | None, names: Sequence[str], out_path: str, size: int, chunk: int
) -> list[_Task]:
    src = None if source is None else str(source)
    is_zip = src is not None and os.path.isfile(src)
    return [
        _Task(src, is_zip, list(names[i : i + chunk]), i, out_path, size)
        for i in range(0, len(names), chunk)
    ]


def _decode_chunk(task: _Task) -> list[DecodeProblem]:
    """Worker: decode one chunk into rows ``start..start+len`` of the ``.npy`` at ``out_path``."""
    # No msync: the rows reach the shared page cache at once, which is all the parent needs, and
    # forcing them to disk per chunk would stall the workers.
    images = np.load(task.out_path, mmap_mode="r+")  # (N, S, S, 3)
    try:
        return _decode_range(task, images[task.start : task.start + len(task.names)])
    finally:
        del images


def _decode_range(task: _Task, rows: np.ndarray) -> list[DecodeProblem]:
    """Decode ``task.names`` into ``rows`` (len(names), S, S, 3); return the problems found."""
    problems: list[DecodeProblem] = []
    for j, name in enumerate(task.names):
        where = _where(task, name)
        try:
            warning = decode_into(_read(task, name), rows[j])
        except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError) as e:
            rows[j] = 0
            problems.append(DecodeProblem(task.start + j, where, _describe(e), True))
        else:
            if warning:
                problems.append(DecodeProblem(task.start + j, where, warning, False))
    return problems


def decode_into(data: bytes, row: np.ndarray) -> str | None:
    """Decode one encoded image into ``row`` (S, S, 3) uint8, in place.

    Returns a warning (not a JPEG, resized, recovered JPEG error) or None; raises ``ValueError`` or
    ``OSError`` when the data is not a readable image.
    """
    import simplejpeg

    size = row.shape[0]
    if data[:3] == b"\xff\xd8\xff":
        try:
            img = simplejpeg.decode_jpeg(data, colorspace="RGB", buffer=row)  # (h, w, 3)
        except ValueError as e:
            if "too small" in str(e):
                return _resize_into(simplejpeg.decode_jpeg(data, colorspace="RGB"), row)
            warning = _pillow_into(data, row)  # raises if Pillow cannot read it either
            return f"JPEG error ({e}), decoded by Pillow" + (f"; {warning}" if warning else "")
        if img.shape[:2] == (size, size):
            return None
        return _resize_into(img.copy(), row)
    return _pillow_into(data, row)


def _pillow_into(data: bytes, row: np.ndarray) -> str | None:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.load()  # raises OSError on truncated data
        fmt = im.format or "unknown"
        rgb = np.asarray(im.convert("RGB"))  # (h, w, 3); grayscale / CMYK / palette -> RGB
    notes = [] if fmt == "JPEG" else [f"{fmt} image, not JPEG"]
    if rgb.shape[:2] == row.shape[:2]:
        row[...] = rgb
    else:
        notes.append(_resize_into(rgb, row))
    return "; ".join(notes) or None


def _resize_into(img: np.ndarray, row: np.ndarray) -> str:
    from PIL import Image

    h, w = img.shape[:2]
    size = row.shape[0]
    row[...] = np.asarray(Image.fromarray(img).resize((size, size), Image.Resampling.BILINEAR))
    return f"resized from {w}x{h} to {size}x{size}"


# Open archives, per process: a forked child must not share its parent's file offset.
_ZIPS: dict[tuple[int, str], zipfile.ZipFile] = {}


def _read(task: _Task, name: str) -> bytes:
    if task.source is None:
        with open(name, "rb") as f:
            return f.read()
    if task.is_zip:
        key = (os.getpid(), task.source)
        zf = _ZIPS.get(key)
        if zf is None:
            zf = _ZIPS[key] = zipfile.ZipFile(task.source)
        return zf.read(name)
    with open(os.path.join(task.source, name), "rb") as f:
        return f.read()


def _where(task: _Task, name: str) -> str:
    if task.source is None:
        return name
    return f"{task.source}:{name}" if task.is_zip else os.path.join(task.source, name)


def _describe(e: BaseException) -> str:
    text = str(e) or type(e).__name__
    if isinstance(e, OSError) and e.strerror:
        text = e.strerror
    return f"unreadable image: {text}"


def _log_problems(problems: Sequence[DecodeProblem], progress: Progress) -> None:
    for skipped, kind in ((True, "skipped"), (False, "warning")):
        group = [p for p in problems if p.skipped == skipped]
        for p in group[:_LOGGED_PER_KIND]:
            progress.log(f"{kind}: {p.path}: {p.problem}")
        if len(group) > _LOGGED_PER_KIND:
            progress.log(f"... {len(group) - _LOGGED_PER_KIND} more files {kind} (see the list)")


def _usable_cores() -> int:
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _context() -> Any:
    """Fork (fast start) on Linux when this process has no other threads; spawn otherwise."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")
