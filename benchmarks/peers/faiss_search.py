"""The peer: FAISS exact search (``IndexFlatIP``) on L2-normalised codes.

For unit-length rows, ``||q - x||^2 = 2 - 2 q.x``: ranking by inner product, largest first, is
ranking by Euclidean distance, nearest first. FAISS is imported inside the functions (an optional
dependency, the ``index`` extra).
"""

from __future__ import annotations

import numpy as np


def faiss_knn(queries: np.ndarray, database: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(distances (Q, k) float32, ids (Q, k) int64)`` by exact inner-product search."""
    import faiss

    index = faiss.IndexFlatIP(database.shape[1])
    index.add(np.ascontiguousarray(database, dtype=np.float32))
    sims, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)  # (Q, k)
    return np.sqrt(np.maximum(2.0 - 2.0 * sims, 0.0)).astype(np.float32), ids.astype(np.int64)


def faiss_map(codes: np.ndarray, labels: np.ndarray, block: int = 1000) -> float:
    """Leave-one-out mAP (docs/protocol.md) with FAISS ranking every other item, by blocks."""
    import faiss

    n = len(codes)
    x = np.ascontiguousarray(codes, dtype=np.float32)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    lab = np.asarray(labels)
    total = 0.0
    for start in range(0, n, block):
        _, ids = index.search(x[start : start + block], n)  # (b, n): the query itself first
        own = np.arange(start, min(start + block, n))[:, None]  # (b, 1)
        keep = ids != own  # drop the query (wherever a tie put it)
        ranked = ids[keep].reshape(len(ids), n - 1)  # (b, n - 1)
        rel = lab[ranked] == lab[own]  # (b, n - 1)
        hits = np.cumsum(rel, axis=1)  # (b, n - 1)
        prec = hits / np.arange(1, n, dtype=np.float64)
        total += float((np.where(rel, prec, 0.0).sum(axis=1) / rel.sum(axis=1)).sum())
    return total / n
