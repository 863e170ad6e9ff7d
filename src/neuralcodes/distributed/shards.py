"""Code shards: the output of a distributed extraction, one pair of files per shard.

Layout of a shard folder (shared storage when workers run on other machines)::

    SHARD_DIR/
      shards.json          provenance: encoder fingerprint, photo root, file-list hash, shard size
      shard-000000.npy     (n_ok, D) float32 codes (L2-normalised) of the shard's readable files
      shard-000000.json    the shard's files in order: entries (path, sha256, size, mtime_ns) of
                           the rows of the .npy, and the files that could not be read (path,
                           problem, size, mtime_ns); written after the .npy: it marks the shard
                           complete

Shard ``k`` holds the files ``k * shard_size .. (k + 1) * shard_size - 1`` of the job's file list
(paths as the index stores them: relative to the photo folder). Both files are written atomically;
a shard whose ``.json`` is missing, unreadable or does not match its ``.npy`` is simply done again,
so a rerun skips exactly the shards that were completely written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
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
from neuralcodes.errors import ArtifactMismatchError, DataError

ARTIFACT = "code-shards"
FORMAT = 1
MANIFEST = "shards.json"
DEFAULT_SHARD_SIZE = 1024


@dataclass(frozen=True)
class ShardPlan:
    """The files of one job (stored paths, in order) cut into shards of ``shard_size``."""

    files: tuple[str, ...]
    shard_size: int = DEFAULT_SHARD_SIZE

    def __post_init__(self) -> None:
        if self.shard_size < 1:
            raise ValueError(f"shard_size must be at least 1, got {self.shard_size}")

    @property
    def n_shards(self) -> int:
        return -(-len(self.files) // self.shard_size)

    def shard_files(self, k: int) -> list[str]:
        """The stored paths of shard ``k``."""
        return list(self.files[k * self.shard_size : (k + 1) * self.shard_size])

    def files_hash(self) -> str:
        h = hashlib.sha256()
        for name in self.files:
            h.update(name.encode("utf-8") + b"\0")
        return h.hexdigest()[:16]


@dataclass
class Shard:
    """One shard's content: ``entries`` (path, sha256, size, mtime_ns) row by row with
    ``codes`` (n_ok, D) float32, and ``bad`` (path, problem, size, mtime_ns) for unreadable
    files."""

    index: int
    entries: list[dict[str, Any]] = field(default_factory=list)
    bad: list[dict[str, Any]] = field(default_factory=list)
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))


def shard_stem(k: int) -> str:
    return f"shard-{k:06d}"


def open_shard_dir(shard_dir: str | Path, plan: ShardPlan, job: dict[str, Any]) -> None:
    """Create ``shard_dir`` for ``plan`` or reopen it, refusing shards of another job.

    ``job`` holds what the codes depend on (encoder fingerprint, photo root).
    """
    root = Path(shard_dir)
    expected = {"format": FORMAT, "shard_size": plan.shard_size, "n_files": len(plan.files),
                "files_hash": plan.files_hash(), **job}
    path = root / MANIFEST
    if path.is_file():
        header = read_json(path)
        if not isinstance(header, dict) or header.get("artifact") != ARTIFACT:
            raise DataError(path, "not a neuralcodes shard manifest")
        try:
            check_provenance(header, expected, where=path)
        except ArtifactMismatchError as e:
            raise ArtifactMismatchError(f"{e}; these shards belong to another job (other files, "
                                        f"model or layer): delete {root} or use another folder"
                                        ) from None
        return
    root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, provenance(ARTIFACT, **expected))


def write_shard(shard_dir: str | Path, shard: Shard) -> None:
    """Write the codes, then the file list that marks the shard complete (both atomic)."""
    root = Path(shard_dir)
    stem = shard_stem(shard.index)
    codes = np.ascontiguousarray(shard.codes, dtype=np.float32)  # (n_ok, D)
    if len(codes) != len(shard.entries):
        raise ValueError(f"shard {shard.index}: {len(codes)} codes for {len(shard.entries)} rows")
    atomic_save_npy(root / f"{stem}.npy", codes)
    atomic_write_json(root / f"{stem}.json", {"shard": shard.index, "rows": len(codes),
                                             "dim": int(codes.shape[1]) if codes.ndim == 2 else 0,
                                             "entries": shard.entries, "bad": shard.bad})


def read_shard(shard_dir: str | Path, k: int, *, mmap: bool = True) -> Shard:
    """Shard ``k`` (codes memory-mapped by default); ``DataError`` if it is incomplete."""
    root = Path(shard_dir)
    stem = shard_stem(k)
    meta = read_json(root / f"{stem}.json")
    try:
        codes = np.load(root / f"{stem}.npy", mmap_mode="r" if mmap else None,
                        allow_pickle=False)
    except (OSError, ValueError) as e:
        raise DataError(root / f"{stem}.npy", f"cannot read the shard's codes ({e})") from None
    if codes.ndim != 2 or codes.dtype != np.float32 or len(codes) != meta.get("rows"):
        raise DataError(root / f"{stem}.npy", f"expected ({meta.get('rows')}, D) float32 codes, "
                        f"got {codes.dtype} {codes.shape}")
    return Shard(k, list(meta["entries"]), list(meta["bad"]), codes)


def complete_shard(shard_dir: str | Path, plan: ShardPlan, k: int) -> Shard | None:
    """Shard ``k`` if it was completely written for exactly the files the plan gives it."""
    try:
        shard = read_shard(shard_dir, k)
    except (DataError, KeyError, TypeError):
        return None
    written = sorted([e["path"] for e in shard.entries] + [b["path"] for b in shard.bad])
    return shard if written == sorted(plan.shard_files(k)) else None


def pending_shards(shard_dir: str | Path, plan: ShardPlan) -> list[int]:
    """The shards of ``plan`` still to be computed."""
    return [k for k in range(plan.n_shards) if complete_shard(shard_dir, plan, k) is None]


def iter_shards(shard_dir: str | Path, plan: ShardPlan) -> Iterator[Shard]:
    """Every shard of ``plan`` in order (codes memory-mapped); refuses a missing one."""
    for k in range(plan.n_shards):
        shard = complete_shard(shard_dir, plan, k)
        if shard is None:
            raise DataError(Path(shard_dir) / shard_stem(k), "shard missing or incomplete: run "
                            "the extraction again (it skips the shards already written)")
        yield shard


def concat_codes(shards: Iterable[Shard], out_path: str | Path, n: int, dim: int) -> np.ndarray:
    """Copy the codes of ``shards`` one after the other into an (n, dim) ``.npy`` memory map."""
    out = np.lib.format.open_memmap(out_path, mode="w+", dtype=np.float32, shape=(n, dim))
    row = 0
    for shard in shards:
        out[row : row + len(shard.codes)] = shard.codes
        row += len(shard.codes)
    if row != n:
        raise DataError(out_path, f"the shards hold {row} codes, expected {n}")
    out.flush()
    return out
