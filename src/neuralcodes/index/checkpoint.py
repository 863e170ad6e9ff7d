"""The checkpoint of an unfinished build or update: ``INDEX_DIR/staging/``.

Every encoded batch is saved at once (``batch-NNNNNN.npz``: keys, content hashes, raw codes),
so a job killed midway loses at most one batch; the next build or update of the same index finds
the codes of unchanged files here and does not encode them again. A file's key is its path,
size and mtime, so a file edited in between is encoded afresh. ``job.json`` records the encoder's
fingerprint (codes of another model or layer are never reused) and the settings of the job, so
``update_index`` can finish a first build that was killed before it wrote anything.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import atomic_write_bytes, atomic_write_json, read_json
from neuralcodes.errors import DataError
from neuralcodes.index.store import STAGING


def file_key(path: str, size: int, mtime_ns: int) -> str:
    """What identifies one version of a file without reading it."""
    return f"{path}\0{size}\0{mtime_ns}"


def read_job(index_dir: str | Path) -> dict[str, Any] | None:
    """The settings of an unfinished job in ``index_dir``, or None."""
    path = Path(index_dir) / STAGING / "job.json"
    if not path.is_file():
        return None
    try:
        job = read_json(path)
    except DataError:
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
