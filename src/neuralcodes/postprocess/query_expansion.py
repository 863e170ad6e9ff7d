"""Query expansion: search again with the query averaged with its first results.

* AQE (average query expansion, Chum et al., 2007): the query plus its top ``n`` results, summed
  with equal weights, L2-normalised.
* alpha-QE (Radenovic et al., 2018): the top results weighted by ``max(sim, 0) ** alpha``, ``sim``
  their dot product with the query (the cosine for L2-normalised codes); the query keeps weight 1.
  ``alpha = 0`` is AQE.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neuralcodes.errors import ConfigError
from neuralcodes.metrics import RetrievalScores, retrieval_scores
from neuralcodes.search import as_codes, knn


def expand_queries(
    queries: np.ndarray,
    database: np.ndarray,
    ids: np.ndarray,
    *,
    n: int = 5,
    alpha: float = 0.0,
) -> np.ndarray:
    """New queries (Q, D) float32 from ``queries`` (Q, D) and the first-round result ``ids``
    (Q, k >= n) into ``database`` (N, D), nearest first; see the module docstring."""
    q = as_codes(queries, "queries")  # (Q, D)
    x = as_codes(database, "database")  # (N, D)
    top = np.asarray(ids)
    if top.ndim != 2 or top.shape[0] != q.shape[0] or not np.issubdtype(top.dtype, np.integer):
        raise ConfigError(f"ids: expected ({q.shape[0]}, k) integers, got {top.dtype} {top.shape}")
    if not 0 <= n <= top.shape[1]:
        raise ConfigError(f"query expansion with n={n} needs 0 <= n <= k={top.shape[1]}")
    if alpha < 0:
        raise ConfigError(f"alpha must be >= 0, got {alpha}")
    top = top[:, :n].astype(np.int64)  # (Q, n)
    if top.size and (top.min() < 0 or top.max() >= x.shape[0]):
        raise ConfigError(f"ids must lie in 0..{x.shape[0] - 1} (no missing results)")
    neighbours = x[top].astype(np.float64)  # (Q, n, D)
    weights = np.ones(top.shape)  # (Q, n)
    if alpha > 0:
        sims = np.einsum("qd,qnd->qn", q.astype(np.float64), neighbours)
        weights = np.maximum(sims, 0.0) ** alpha
    expanded = q + np.einsum("qn,qnd->qd", weights, neighbours)  # (Q, D)
    norms = np.linalg.norm(expanded, axis=1, keepdims=True)
    return (expanded / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def qe_scores(
    codes: np.ndarray, labels: np.ndarray, *, n: int = 5, alpha: float = 0.0, **kw: Any
) -> RetrievalScores:
    """Leave-one-out retrieval scores with query expansion (``kw`` go to ``retrieval_scores``).

    Each code's first-round neighbours leave the code itself out, and so does the second search.
    """
    x = as_codes(codes, "codes")  # (N, D)
    if n == 0:
        return retrieval_scores(x, labels, **kw)
    block = kw.get("block")
    knn_kw = {"block": block} if block else {}
    self_ids = np.arange(x.shape[0])
    _, ids = knn(x, x, n, exclude=self_ids, **knn_kw)  # (N, n)
    expanded = expand_queries(x, x, ids, n=n, alpha=alpha)  # (N, D)
    return retrieval_scores(x, labels, queries=expanded, **kw)
