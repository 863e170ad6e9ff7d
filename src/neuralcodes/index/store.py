"""The index on disk: immutable generations behind an atomically swapped manifest.

Layout (docs/index-format.md describes every field)::

    INDEX_DIR/
      .neuralcodes-index   marker: scans of a photo folder skip this folder
      manifest.json        provenance + the name of the current generation; replaced last
      gen-000007/          one complete, immutable version of the index
        entries.jsonl      one JSON object per row: id, path, sha256, size, mtime_ns
        codes.npy          (N, D) float32: row i is the searched vector of entries line i
        pca.npz            the PCA applied to the network's codes (when --pca was given)
        ann.faiss          the approximate index (ivfpq / hnsw backends)
      staging/             codes of an unfinished build or update, reused when it is resumed
      progress.log         what each build / update did: files skipped, recall@10, timings
      readers/             one locked lease file per process reading a generation (leases.py)
      .lock                held (locked) by the process that is writing

Crash safety: a new generation is written in full under a temporary name, renamed into place,
and only then does ``manifest.json`` (``os.replace``) point to it. A writer killed at any moment
leaves the manifest on the previous, complete generation; the next build/update reuses the codes
checkpointed in ``staging/`` and finishes the job. After the swap, every generation but the one
the manifest names and the one it named before is deleted (an orphan left by a writer killed
between the rename and the swap too), except those a running reader holds a lease on.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import (
    atomic_save_npy,
    atomic_write_bytes,
    atomic_write_json,
    read_json,
)
from neuralcodes.errors import DataError
from neuralcodes.images import INDEX_MARKER
from neuralcodes.index.leases import in_use, try_lock, unlock
from neuralcodes.index.manifest import GENERATION_NAME, check_codes, validate_manifest
from neuralcodes.names import shown

MANIFEST = "manifest.json"
ENTRIES = "entries.jsonl"
CODES = "codes.npy"
PCA_FILE = "pca.npz"
ANN_FILE = "ann.faiss"
STAGING = "staging"
LOG = "progress.log"


@dataclass(frozen=True)
class Entry:
    """One indexed image: a stable id, its path (relative to the photo folder, POSIX
    separators; absolute when outside it), content hash, size in bytes and mtime in ns."""

    id: int
    path: str
    sha256: str
    size: int
    mtime_ns: int


def read_manifest(index_dir: str | Path) -> dict[str, Any]:
    """The manifest of an index, refusing folders that are not (complete) indexes."""
    path = Path(index_dir) / MANIFEST
    if not path.is_file():
        hint = " (an unfinished build: run `neuralcodes index update` on it to finish it)" if (
            Path(index_dir) / STAGING / "job.json").is_file() else ""
        raise DataError(index_dir, f"not a neuralcodes index: no {MANIFEST}{hint}")
    return validate_manifest(read_json(path), path)


def generation_dir(index_dir: str | Path, manifest: dict[str, Any]) -> Path:
    gen = Path(index_dir) / str(manifest["generation"])
    if not gen.is_dir():
        raise DataError(gen, "the index's current generation folder is missing")
    return gen


@dataclass
class Generation:
    """One generation of an index as read from disk: its manifest, entries, (N, D) vectors and
    the bytes of its PCA (None: the index has none)."""

    index_dir: Path
    manifest: dict[str, Any]
    entries: list[Entry]
    vectors: np.ndarray
    pca_blob: bytes | None = None

    @property
    def root(self) -> Path:
        """The indexed photo folder."""
        return Path(self.manifest["photos_root"])

    @property
    def dir(self) -> Path:
        return self.index_dir / str(self.manifest["generation"])


def read_generation(index_dir: str | Path, manifest: dict[str, Any] | None = None, *,
                    mmap: bool = False) -> Generation:
    """The generation that ``manifest`` (default: the index's own) names, each file checked
    against it (``DataError`` naming the file); ``mmap``: the vectors memory-mapped."""
    root = Path(index_dir)
    manifest = read_manifest(root) if manifest is None else manifest
    gen = generation_dir(root, manifest)
    entries = read_entries(gen)
    vectors = read_vectors(gen, len(entries), mmap=mmap)
    check_codes(vectors, manifest, gen / CODES)
    pca_blob = None
    if manifest.get("pca"):
        if not (gen / PCA_FILE).is_file():
            raise DataError(gen / PCA_FILE, "missing: the index records a PCA; rebuild it")
        pca_blob = (gen / PCA_FILE).read_bytes()
    return Generation(root, manifest, entries, vectors, pca_blob)


def read_entries(gen_dir: Path) -> list[Entry]:
    """The entries of a generation, each checked (types, distinct ids): a damaged file is one
    ``DataError``, never an entry that fails later."""
    path = gen_dir / ENTRIES
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        entries = [_entry(json.loads(line), n) for n, line in enumerate(lines, 1) if line.strip()]
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (ValueError, TypeError) as e:
        raise DataError(path, f"corrupt entries file ({e})") from None
    if len({e.id for e in entries}) != len(entries):
        raise DataError(path, "corrupt entries file (an id is given to two entries)")
    return entries


_ENTRY_TYPES = {"id": int, "path": str, "sha256": str, "size": int, "mtime_ns": int}


def _entry(obj: Any, line: int) -> Entry:
    """One line of entries.jsonl as an ``Entry``; ``ValueError`` saying what is wrong."""
    if not isinstance(obj, dict) or set(obj) != set(_ENTRY_TYPES):
        raise ValueError(f"line {line} is not an object with the keys {list(_ENTRY_TYPES)}")
    for key, kind in _ENTRY_TYPES.items():
        if not isinstance(obj[key], kind) or isinstance(obj[key], bool):
            raise ValueError(f"line {line}: {key!r} must be {kind.__name__}, got {obj[key]!r}")
    if obj["id"] < 0 or not obj["path"]:
        raise ValueError(f"line {line}: a negative id or an empty path")
    return Entry(**obj)


def read_vectors(gen_dir: Path, n_entries: int, *, mmap: bool = False) -> np.ndarray:
    """The (N, D) float32 vectors of a generation, checked against the number of entries."""
    path = gen_dir / CODES
    try:
        vectors = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(path, f"cannot read the vectors ({e})") from None
    if vectors.ndim != 2 or vectors.shape[0] != n_entries or vectors.dtype != np.float32:
        raise DataError(path, f"expected ({n_entries}, D) float32 vectors, got "
                        f"{vectors.dtype} {vectors.shape}")
    return vectors


def write_generation(
    index_dir: str | Path,
    manifest: dict[str, Any],
    entries: list[Entry],
    vectors: np.ndarray,
    files: dict[str, bytes],
) -> str:
    """Write a complete generation (entries, vectors, extra ``files``), then swap the manifest.

    ``manifest`` gets its ``generation`` key set; returns the generation's name.
    """
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    (root / INDEX_MARKER).touch()
    name = _next_generation(root)
    tmp = root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    lines = "".join(json.dumps(asdict(e), separators=(",", ":")) + "\n" for e in entries)
    atomic_write_bytes(tmp / ENTRIES, lines.encode("utf-8"))
    atomic_save_npy(tmp / CODES, np.ascontiguousarray(vectors, dtype=np.float32))
    for fname, data in files.items():
        atomic_write_bytes(tmp / fname, data)
    os.rename(tmp, root / name)  # the generation is complete before anything points at it
    _fsync_dir(root)
    previous = current_generation(root)
    manifest["generation"] = name
    atomic_write_json(root / MANIFEST, manifest)
    prune(root, name, previous)
    return name


def current_generation(index_dir: str | Path) -> str | None:
    """The generation ``manifest.json`` names now (None: no readable manifest)."""
    try:
        manifest = read_json(Path(index_dir) / MANIFEST)
    except (DataError, OSError):
        return None
    name = manifest.get("generation") if isinstance(manifest, dict) else None
    return name if isinstance(name, str) else None


def _next_generation(root: Path) -> str:
    numbers = [int(p.name[4:]) for p in _generations(root)]
    return f"gen-{max(numbers, default=0) + 1:06d}"


def _generations(root: Path) -> list[Path]:
    """The generation folders of an index: ``gen-NNNNNN`` exactly (a user's ``gen-holiday``
    beside an index built with --force is not one, and is never deleted)."""
    return sorted(p for p in root.glob("gen-*") if GENERATION_NAME.fullmatch(p.name))


def prune(root: Path, current: str, previous: str | None = None) -> None:
    """Delete temporary folders and every generation but ``current`` and ``previous`` (the one
    the manifest named before), unless a running reader holds a lease on it."""
    for tmp in [*root.glob(".gen-*.tmp"), *root.glob(".gen-*.trash")]:
        if GENERATION_NAME.fullmatch(tmp.name[1:].rsplit(".", 1)[0]):
            shutil.rmtree(tmp, ignore_errors=True)
    for gen in _generations(root):
        if gen.name not in (current, previous) and gen.is_dir() and not in_use(root, gen.name):
            _remove_generation(root, gen.name)


def _remove_generation(root: Path, name: str) -> None:
    """Move a generation out of readers' way, then delete it; put it back if a reader leased it
    meanwhile (a reader that finds it gone reads the manifest again)."""
    trash = root / f".{name}.trash"
    try:
        os.rename(root / name, trash)
    except OSError:
        return
    if in_use(root, name):
        os.rename(trash, root / name)
        return
    shutil.rmtree(trash, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def writer_lock(index_dir: str | Path) -> Iterator[None]:
    """Exclusive lock of an index folder for one writer; released when the process dies."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "a+b") as f:
        if not try_lock(f):
            raise DataError(root, "another process is building or updating this index")
        try:
            yield
        finally:
            unlock(f)


def append_log(index_dir: str | Path, message: str) -> None:
    """Append one timestamped line to the index's progress.log (UTF-8; control characters and
    bytes of file names that are not UTF-8 escaped: one event, one line, ``names.shown``)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with open(Path(index_dir) / LOG, "a", encoding="utf-8", errors="backslashreplace") as f:
        f.write(f"{stamp} {shown(message)}\n")
