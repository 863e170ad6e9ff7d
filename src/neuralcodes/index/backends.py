"""Search backends: exact (brute force, the default) and approximate (FAISS IVF-PQ, HNSW).

Every backend answers ``search(queries (Q, D), k) -> (distances (Q, k), rows (Q, k))`` with
Euclidean distances, nearest first, rows indexing the stored vectors. The approximate ones:

- ``ivfpq``: an inverted file of ``nlist`` k-means cells, vectors compressed by product
  quantisation; the ``rerank`` x k best candidates are re-ranked with the exact vectors, so
  the distances reported are exact.
- ``hnsw``: a hierarchical navigable small-world graph over the uncompressed vectors.

FAISS (``pip install 'neuralcodes[index]'``) is imported only when an approximate backend is used.
With fewer than ``MIN_ANN_VECTORS`` vectors an approximate backend is an exact flat index
(clustering a handful of vectors is meaningless); its parameters say so.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

import numpy as np

from neuralcodes.errors import ConfigError

BACKENDS = ("exact", "ivfpq", "hnsw")
MIN_ANN_VECTORS = 1000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
IVF_RERANK = 10
SMALL_BUILD = 20_000  # vectors: below this FAISS builds on one thread


class Backend(Protocol):
    kind: str
    params: dict[str, Any]

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


def require_faiss() -> Any:
    """The ``faiss`` module, or a ConfigError that says how to install it."""
    try:
        import faiss
    except ImportError:
        raise ConfigError(
            "the approximate backends need FAISS: pip install 'neuralcodes[index]' "
            "(or use --backend exact)"
        ) from None
    return faiss


def check_backend(kind: str) -> str:
    if kind not in BACKENDS:
        raise ConfigError(f"unknown backend {kind!r}; choose one of {list(BACKENDS)}")
    return kind


class ExactBackend:
    """Brute-force Euclidean search over all vectors."""

    kind = "exact"

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors  # (N, D) float32
        self.params: dict[str, Any] = {}
        self._db: Any = None  # search.Database, prepared at the first search

    def _database(self) -> Any:
        if self._db is None:
            from neuralcodes.search import Database

            self._db = Database.of(self.vectors)
        return self._db

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        from neuralcodes.search import knn

        k = min(k, len(self.vectors))
        if k == 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        dist, rows = knn(np.asarray(queries, np.float32), self._database(), k)
        return np.asarray(dist, np.float32), np.asarray(rows, np.int64)


class FaissBackend:
    """A FAISS index over the rows of ``vectors``; IVF-PQ candidates are re-ranked exactly."""

    def __init__(self, kind: str, index: Any, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.kind, self.index, self.vectors, self.params = kind, index, vectors, params

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)  # (Q, D)
        k = min(k, len(self.vectors))
        wanted = min(len(self.vectors), k * int(self.params.get("rerank", 1)))
        sq, rows = self.index.search(q, wanted)  # (Q, wanted) squared L2, -1 when missing
        if wanted == k:
            return np.sqrt(np.maximum(sq, 0)).astype(np.float32), rows.astype(np.int64)
        return _rerank(q, self.vectors, rows.astype(np.int64), k)

    def serialize(self) -> bytes:
        return bytes(require_faiss().serialize_index(self.index))


def _rerank(
    q: np.ndarray, vectors: np.ndarray, cand: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact distances of candidate rows (Q, C) -> the k nearest (Q, k) of each query."""
    safe = np.where(cand < 0, 0, cand)
    cvec = np.asarray(vectors[safe.ravel()]).reshape(*cand.shape, -1)  # (Q, C, D)
    dist = np.linalg.norm(cvec - q[:, None, :], axis=2)  # (Q, C)
    dist[cand < 0] = np.inf
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]  # (Q, k)
    return (np.take_along_axis(dist, order, 1).astype(np.float32),
            np.take_along_axis(cand, order, 1))


def build_backend(kind: str, vectors: np.ndarray, *, seed: int = 0) -> Backend:
    """Build a backend over ``vectors`` (N, D) float32 (exact: nothing to build)."""
    check_backend(kind)
    if kind == "exact":
        return ExactBackend(vectors)
    faiss = require_faiss()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = x.shape
    threads = faiss.omp_get_max_threads()
    if n < SMALL_BUILD:
        faiss.omp_set_num_threads(1)  # thread start-up costs more than it saves here
    try:
        if n < MIN_ANN_VECTORS:
            index = faiss.IndexFlatL2(d)
            params: dict[str, Any] = {"structure": f"flat (fewer than {MIN_ANN_VECTORS} vectors)"}
        elif kind == "hnsw":
            index, params = _hnsw(faiss, d)
        else:
            index, params = _ivfpq(faiss, x, seed)
        index.add(x)
    finally:
        faiss.omp_set_num_threads(threads)
    return FaissBackend(kind, index, vectors, params)


def _hnsw(faiss: Any, d: int) -> tuple[Any, dict[str, Any]]:
    index = faiss.IndexHNSWFlat(d, HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index, {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION, "efSearch": HNSW_EF_SEARCH}


def _ivfpq(faiss: Any, x: np.ndarray, seed: int) -> tuple[Any, dict[str, Any]]:
    n, d = x.shape
    nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))
    m = max(s for s in range(1, min(64, max(1, d // 8)) + 1) if d % s == 0)  # >= 8 dims each
    nbits = int(min(8, max(4, math.floor(math.log2(max(n // 39, 2))))))
    index = faiss.IndexIVFPQ(faiss.IndexFlatL2(d), d, nlist, m, nbits)
    index.cp.seed = seed
    index.pq.cp.seed = seed
    rng = np.random.default_rng(seed)
    train = x[rng.choice(n, min(n, max(64 * nlist, 10_000), 50_000), replace=False)]
    index.train(train)
    index.nprobe = min(nlist, max(16, nlist // 8))
    params = {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": index.nprobe,
              "rerank": IVF_RERANK, "trained_on": len(train)}
    return index, params


def load_backend(kind: str, vectors: np.ndarray, blob: bytes | None,
                 params: dict[str, Any]) -> Backend:
    """A backend saved with ``FaissBackend.serialize`` (or exact search over ``vectors``)."""
    check_backend(kind)
    if kind == "exact":
        return ExactBackend(vectors)
    faiss = require_faiss()
    if blob is None:
        raise ConfigError(f"the {kind} backend's index file is missing: rebuild the index")
    index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
    if "nprobe" in params:
        index.nprobe = int(params["nprobe"])
    if "efSearch" in params:
        index.hnsw.efSearch = int(params["efSearch"])
    return FaissBackend(kind, index, vectors, params)


def measure_recall(backend: Backend, vectors: np.ndarray, *, k: int = 10,
                   n_queries: int = 1000, seed: int = 0) -> float:
    """Recall@k of ``backend`` against exact search, for a sample of stored vectors as queries:
    the mean fraction of the exact k nearest neighbours that the backend also returns."""
    n = len(vectors)
    if n == 0:
        return 1.0
    k = min(k, n)
    rows = np.random.default_rng(seed).choice(n, min(n, n_queries), replace=False)
    queries = np.asarray(vectors[np.sort(rows)], np.float32)  # (Q, D)
    _, exact = ExactBackend(vectors).search(queries, k)
    _, approx = backend.search(queries, k)
    hits = [len(set(e.tolist()) & set(a.tolist())) for e, a in zip(exact, approx, strict=True)]
    return float(np.mean(hits) / k)
