"""Each query's ranking of the database: exact Euclidean search, ties by smaller database id."""

from __future__ import annotations

import numpy as np

from neuralcodes.search import knn


def rank(
    queries: np.ndarray,  # (Q, D) float32
    database: np.ndarray,  # (N, D) float32
    *,
    valid: np.ndarray | None = None,  # (N,) bool: rows that take part (unreadable images do not)
    exclude: np.ndarray | None = None,  # (Q,) database id left out of each ranking, or None
    depth: int | None = None,  # how many results (None: the whole ranking)
) -> tuple[np.ndarray, np.ndarray]:
    """``(ids (Q, k) int64, distances (Q, k) float32)``, nearest first, ids into ``database``."""
    rows = np.flatnonzero(valid) if valid is not None else np.arange(len(database))  # (N',)
    excl = None
    if exclude is not None:
        where = np.full(len(database), -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        excl = where[np.asarray(exclude, dtype=np.int64)]  # (Q,) into the valid rows
        if (excl < 0).any():
            raise ValueError("an excluded image is not among the valid database rows")
    available = len(rows) - (1 if excl is not None else 0)
    k = available if depth is None else min(depth, available)
    dists, found = knn(queries, database[rows], k, exclude=excl)  # (Q, k), (Q, k)
    return rows[found], dists
