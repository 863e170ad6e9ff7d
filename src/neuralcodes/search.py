"""Exact k-nearest-neighbour search by Euclidean distance, in blocks of queries.

Distances come from ``||q||^2 + ||x||^2 - 2 q.x`` with one float32 matrix product per block of
queries, so memory stays ``O(block * N)`` however many queries there are. Ties are broken by
database id (the smaller id first), which makes every result deterministic: each candidate is
packed into one ``int64`` sort key, the float32 distance key in the high 32 bits (in an
order-preserving integer form) and the id in the low 32 bits, so that an integer sort orders by
distance, then id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuralcodes.errors import ConfigError

DEFAULT_BLOCK = 1024
_MAX_IDS = 1 << 31  # ids live in the low 32 bits of the packed keys (times 2 in metrics)


def as_codes(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as a C-contiguous (N, D) float32 array, or a ConfigError naming ``name``."""
    arr = np.ascontiguousarray(x, dtype=np.float32)
    if arr.ndim != 2:
        raise ConfigError(f"{name}: expected an (N, D) array of codes, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name}: contains NaN or infinite values")
    return arr


def sortable_int(keys: np.ndarray) -> np.ndarray:
    """float32 keys -> int64 values in the same order (IEEE-754 bits, negatives flipped).

    ``-0.0`` is first turned into ``+0.0`` so that equal floats give equal integers.
    """
    bits = (keys.astype(np.float32, copy=False) + np.float32(0.0)).view(np.int32)  # (..)
    flipped = np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits)
    return flipped.astype(np.int64)


def float_from_sortable(values: np.ndarray) -> np.ndarray:
    """Inverse of :func:`sortable_int` (int64 holding int32 range -> float32)."""
    bits = values.astype(np.int32)
    return np.where(bits < 0, bits ^ np.int32(0x7FFFFFFF), bits).view(np.float32)


def half_norms(x: np.ndarray, chunk: int = 256) -> tuple[np.ndarray, float]:
    """``||x||^2 / 2`` of each row (N,) minus their median, as float32, and that median.

    Ranking by ``half_norm - q.x`` ranks by distance (``||q||^2`` is common to a query's row and
    a common shift changes nothing). Norms are summed in float64 and the shift removed before the
    cast, so that for L2-normalised codes (norms all ~1) the float32 keys keep the full precision
    of the dot products instead of rounding at the scale of 0.5.
    """
    out = squared_norms(x, chunk) / 2.0  # (N,) float64
    shift = float(np.median(out)) if out.size else 0.0
    return (out - shift).astype(np.float32), shift


def squared_norms(x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """``||x||^2`` of each row (N,), summed in float64 a chunk of rows at a time."""
    out = np.empty(x.shape[0], dtype=np.float64)
    for s in range(0, x.shape[0], chunk):
        part = x[s : s + chunk].astype(np.float64)  # (chunk, D)
        out[s : s + chunk] = np.einsum("ij,ij->i", part, part)
    return out


def pack(keys: np.ndarray, low: np.ndarray) -> np.ndarray:
    """One int64 per entry ordering by ``keys`` (float32), then by ``low`` (0 <= low < 2^32)."""
    return (sortable_int(keys) << 32) | low.astype(np.int64)


@dataclass(frozen=True, eq=False)
class Database:
    """Database rows checked once, with their half norms: reuse it for many ``knn`` calls
    (a served index) instead of re-checking and re-norming all N rows at every query."""

    x: np.ndarray  # (N, D) float32, C-contiguous, finite
    half_x: np.ndarray  # (N,) float32, see half_norms
    shift: float

    @classmethod
    def of(cls, database: np.ndarray) -> Database:
        x = as_codes(database, "database")  # (N, D)
        half_x, shift = half_norms(x)
        return cls(x, half_x, shift)


def knn(
    queries: np.ndarray,
    database: np.ndarray | Database,
    k: int,
    *,
    exclude: np.ndarray | None = None,
    block: int = DEFAULT_BLOCK,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest database rows of every query, nearest first, ties by smaller id.

    ``exclude``: optional (Q,) database ids, one per query, left out of that query's results (the
    query itself in leave-one-out retrieval). Returns ``(distances (Q, k) float32, ids (Q, k)
    int64)``; distances are Euclidean (from float32 arithmetic, clipped at 0).
    """
    q = as_codes(queries, "queries")  # (Q, D)
    db = database if isinstance(database, Database) else Database.of(database)
    x = db.x  # (N, D)
    n_q, n = q.shape[0], x.shape[0]
    if q.shape[1] != x.shape[1]:
        raise ConfigError(f"queries have {q.shape[1]} dims but the database has {x.shape[1]}")
    if n >= _MAX_IDS:
        raise ConfigError(f"database too large for exact search: {n} rows (max {_MAX_IDS - 1})")
    excl = _check_exclude(exclude, n_q, n)
    available = n - (1 if excl is not None else 0)
    if not 1 <= k <= available:
        raise ConfigError(f"k={k} is not possible: choose 1 <= k <= {available}")
    if block < 1:
        raise ConfigError(f"block must be >= 1, got {block}")
    half_x, shift = db.half_x, db.shift  # (N,) float32, float
    sq_q = squared_norms(q)  # (Q,) float64
    ids_row = np.arange(n, dtype=np.int64)  # (N,)
    dists = np.empty((n_q, k), dtype=np.float32)
    ids = np.empty((n_q, k), dtype=np.int64)
    for start in range(0, n_q, block):
        stop = min(start + block, n_q)
        keys = half_x[None, :] - q[start:stop] @ x.T  # (b, N) = ||x||^2/2 - shift - q.x
        if excl is not None:
            keys[np.arange(stop - start), excl[start:stop]] = np.inf
        d2, found = _smallest(pack(keys, ids_row[None, :]), k)  # (b, k), (b, k)
        d2 = 2.0 * (d2.astype(np.float64) + shift) + sq_q[start:stop, None]  # (b, k)
        dists[start:stop] = np.sqrt(np.maximum(d2, 0.0))
        ids[start:stop] = found
    return dists, ids


def _smallest(packed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k smallest packed keys of each row, sorted: (float32 keys (b, k), ids (b, k))."""
    if k < packed.shape[1]:
        part = np.argpartition(packed, k - 1, axis=1)[:, :k]  # (b, k), unordered
        packed = np.take_along_axis(packed, part, axis=1)
    top = np.sort(packed, axis=1)[:, :k]  # (b, k)
    return float_from_sortable(top >> 32), top & 0xFFFFFFFF


def _check_exclude(exclude: np.ndarray | None, n_q: int, n: int) -> np.ndarray | None:
    if exclude is None:
        return None
    excl = np.asarray(exclude)
    if excl.shape != (n_q,) or not np.issubdtype(excl.dtype, np.integer):
        raise ConfigError(f"exclude: expected ({n_q},) integer ids, got {excl.dtype} {excl.shape}")
    if excl.size and (excl.min() < 0 or excl.max() >= n):
        raise ConfigError(f"exclude: ids must lie in 0..{n - 1}")
    return excl.astype(np.int64)
