"""Atomic writes, hashing, JSON values and self-describing artifact headers.

Every file that neuralcodes writes goes through a temporary file in the same folder, then
``os.replace``: a crash leaves either the old file or the new one, never half of one. A folder
written as a whole (``atomic_folder``) is built beside its place and renamed there the same way.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from neuralcodes import __version__
from neuralcodes.errors import ArtifactMismatchError, DataError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "wb") -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, mode) as f:
            yield f  # type: ignore[misc]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """``obj`` (``jsonable``: NaN and infinities kept, as Python reads them back) as JSON."""
    text = json.dumps(jsonable(obj, keep_nan=True), indent=2)
    atomic_write_text(path, text + "\n")


def atomic_write_csv(
    path: str | Path,
    rows: Iterable[Mapping[str, Any]],
    fieldnames: Sequence[str],
    *,
    lineterminator: str = "\r\n",
) -> None:
    """A header of ``fieldnames``, then one line per row (keys not in ``fieldnames`` left out,
    None as an empty cell)."""
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=fieldnames, extrasaction="ignore", lineterminator=lineterminator
    )
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def atomic_save_npy(path: str | Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as f:
        np.save(f, array, allow_pickle=False)


def atomic_torch_save(path: str | Path, obj: Any) -> None:
    import torch

    with atomic_open(path, "wb") as f:
        torch.save(obj, f)


@contextlib.contextmanager
def atomic_folder(out: Path, staging: Path | None = None) -> Iterator[Path]:
    """A folder to write ``out`` in, renamed to ``out`` (replacing a previous one whole) when the
    block ends without error, removed when it fails. ``staging``: where that folder is (what a
    crash left there is removed first), else a new temporary folder beside ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if staging is None:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    else:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
    try:
        yield staging
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read_json(path: str | Path) -> Any:
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except json.JSONDecodeError as e:
        raise DataError(path, f"not valid JSON ({e})") from None
    except UnicodeDecodeError as e:
        raise DataError(path, f"not valid JSON: not UTF-8 text ({e.reason} at byte {e.start})"
                        ) from None


def jsonable(
    value: Any, *, keep_nan: bool = False, text: Callable[[str], str] | None = None
) -> Any:
    """``value`` as JSON values: ``to_dict()`` when it has one, dataclasses and mappings as
    objects, sequences and arrays as lists, paths as strings, NumPy scalars as numbers, NaN and
    infinities as null (kept with ``keep_nan``). ``text``, when given, is applied to every string
    and path (``names.display``: valid Unicode whatever the file name)."""

    def convert(v: Any) -> Any:
        if isinstance(v, Path):
            v = str(v)
        if isinstance(v, str):
            return v if text is None else text(v)
        if v is None or isinstance(v, int):  # bool is an int
            return v
        if isinstance(v, float):
            return float(v) if keep_nan or math.isfinite(v) else None
        if hasattr(v, "to_dict") and not isinstance(v, type):
            return convert(v.to_dict())
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {f.name: convert(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, Mapping):
            return {str(k): convert(x) for k, x in v.items()}
        if isinstance(v, np.ndarray | np.generic):
            return convert(v.tolist())
        if isinstance(v, list | tuple | set | frozenset):
            return [convert(x) for x in v]
        return v

    return convert(value)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_dict_hash(state_dict: Mapping[str, Any]) -> str:
    """A hash of a model's weights, whatever their serialisation (first 16 hex digits)."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        if t.dtype.is_floating_point:
            t = t.float()
        h.update(name.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()[:16]


def provenance(kind: str, **fields: Any) -> dict[str, Any]:
    """The header stored in every artifact: what it is, which version wrote it, what made it."""
    return {"artifact": kind, "neuralcodes_version": __version__, **fields}


def check_provenance(
    header: Mapping[str, Any], expected: Mapping[str, Any], *, where: str | Path
) -> None:
    """Refuse an artifact whose header differs from ``expected`` on any given key.

    The message lists every key that differs, with both values, and names the artifact.
    """
    diffs = [
        f"{key}: artifact has {header.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if header.get(key) != value
    ]
    if diffs:
        raise ArtifactMismatchError(f"{where} does not match: " + "; ".join(diffs))
