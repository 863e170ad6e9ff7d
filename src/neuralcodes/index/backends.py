"""Search backends: exact (brute force, the default) and approximate (FAISS).

Every backend answers ``search(queries (Q, D), k) -> (distances (Q, k), rows (Q, k))`` with
Euclidean distances, nearest first, rows indexing the stored vectors. The approximate ones:

- ``ivfpq``: an inverted file of ``nlist`` k-means cells, vectors compressed by product
  quantisation; ``nprobe`` cells are visited per query;
- ``hnsw``: a hierarchical navigable small-world graph (``M``, ``efConstruction``,
  ``efSearch``) over the uncompressed vectors;
- ``faiss``: any ``faiss.index_factory`` string ("IVF256,PQ32", "HNSW32", "OPQ16,IVF64,PQ16").

``build_backend`` is the one factory: it trains on a seeded sample of the vectors and fills the
index block by block, so the vectors may be a memory map larger than memory. The candidates of
``ivfpq`` and ``faiss`` indexes are re-ranked with the exact vectors, so reported distances are
exact. With fewer than ``MIN_ANN_VECTORS`` vectors ``ivfpq`` and ``hnsw`` build an exact
``Flat`` index (clustering a handful of vectors is meaningless): ``structure`` says so.
FAISS (``pip install 'neuralcodes[index]'``) is imported only when an approximate backend is used.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np

from neuralcodes.errors import ConfigError
from neuralcodes.index.ann_params import BACKENDS, AnnParams, faiss_errors, require_faiss

__all__ = ["BACKENDS", "AnnParams", "Backend", "ExactBackend", "FaissBackend", "build_backend",
           "load_backend", "measure_recall", "require_faiss"]

MIN_ANN_VECTORS = 1000
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 128
IVF_RERANK = 10
SMALL_BUILD = 20_000  # vectors: below this FAISS builds on one thread
FILL_BLOCK = 65_536  # rows added to a FAISS index at a time
TRAIN_MIN, TRAIN_MAX = 10_000, 50_000  # the training sample: 64 per list, within these bounds


class Backend(Protocol):
    kind: str
    params: dict[str, Any]

    @property
    def structure(self) -> str: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


class ExactBackend:
    """Brute-force Euclidean search over all vectors."""

    kind = "exact"
    structure = "exact"

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
    """A FAISS index over the rows of ``vectors``; candidates re-ranked exactly when
    ``params["rerank"]`` > 1."""

    def __init__(self, kind: str, index: Any, vectors: np.ndarray, params: dict[str, Any]) -> None:
        self.kind, self.index, self.vectors, self.params = kind, index, vectors, params

    @property
    def structure(self) -> str:
        """The index actually built, in ``faiss.index_factory`` notation."""
        p = self.params
        if "structure" in p:
            return "Flat"  # the small-collection fallback
        if self.kind == "faiss":
            return str(p["factory"])
        if self.kind == "hnsw":
            return f"HNSW{p['M']}"
        return f"IVF{p['nlist']},PQ{p['m']}x{p['nbits']}"

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)  # (Q, D)
        k = min(k, len(self.vectors))
        wanted = min(len(self.vectors), k * int(self.params.get("rerank", 1)))
        sq, rows = self.index.search(q, wanted)  # (Q, wanted) squared L2, -1 when missing
        if wanted == k:
            return np.sqrt(np.maximum(sq, 0)).astype(np.float32), rows.astype(np.int64)
        return _rerank(q, self.vectors, rows.astype(np.int64), k)

    def tune(self, *, nprobe: int | None = None, ef_search: int | None = None) -> FaissBackend:
        """Set the search-time knobs (``nprobe`` of IVF indexes, ``efSearch`` of HNSW ones)."""
        AnnParams(nprobe=nprobe, ef_search=ef_search)  # positive integers, or refused
        space = require_faiss().ParameterSpace()
        for name, value in (("nprobe", nprobe), ("efSearch", ef_search)):
            if value is None:
                continue
            try:
                space.set_index_parameter(self.index, name, value)
            except RuntimeError:
                raise ConfigError(f"{name} does not apply to this {self.kind} index: it is "
                                  f"{self.structure}") from None
            self.params[name] = value
        return self

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


def build_backend(kind: str, vectors: np.ndarray, *, params: AnnParams | None = None,
                  blocks: list[tuple[int, int]] | None = None, seed: int = 0) -> Backend:
    """A backend over ``vectors`` (N, D) float32, in memory or memory-mapped: trained on a
    seeded sample, then filled with the row ranges ``blocks`` (default: blocks of
    ``FILL_BLOCK`` rows) in order; ``params``: the knobs asked for (others automatic)."""
    params = (params or AnnParams()).check_for(kind)
    if kind == "exact":
        return ExactBackend(vectors)
    faiss = require_faiss()
    n, d = vectors.shape
    with _threads(faiss, n), faiss_errors(kind, params):
        if n < MIN_ANN_VECTORS and kind != "faiss":
            index = faiss.IndexFlatL2(d)
            built: dict[str, Any] = {"structure": f"flat (fewer than {MIN_ANN_VECTORS} vectors)"}
        elif kind == "hnsw":
            index, built = _hnsw(faiss, d, params)
        elif kind == "ivfpq":
            index, built = _ivfpq(faiss, vectors, seed, params)
        else:
            index, built = _factory(faiss, vectors, seed, params)
        if blocks is None:
            blocks = [(a, min(a + FILL_BLOCK, n)) for a in range(0, n, FILL_BLOCK)]
        for a, b in blocks:
            if b > a:
                index.add(np.ascontiguousarray(vectors[a:b], dtype=np.float32))  # (b - a, D)
    backend = FaissBackend(kind, index, vectors, built)
    if kind == "faiss":
        backend.tune(nprobe=params.nprobe, ef_search=params.ef_search)
    return backend


@contextlib.contextmanager
def _threads(faiss: Any, n: int) -> Iterator[None]:
    threads = faiss.omp_get_max_threads()
    if n < SMALL_BUILD:
        faiss.omp_set_num_threads(1)  # thread start-up costs more than it saves here
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


def _sample(vectors: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A seeded sample of ``size`` rows (row order kept: a memory map is read forwards)."""
    n = len(vectors)
    rows = np.sort(np.random.default_rng(seed).choice(n, min(n, size), replace=False))
    return np.ascontiguousarray(vectors[rows], dtype=np.float32)  # (size, D)


def _hnsw(faiss: Any, d: int, params: AnnParams) -> tuple[Any, dict[str, Any]]:
    m = params.hnsw_m or HNSW_M
    index = faiss.IndexHNSWFlat(d, m)
    index.hnsw.efConstruction = params.ef_construction or HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = params.ef_search or HNSW_EF_SEARCH
    return index, {"M": m, "efConstruction": index.hnsw.efConstruction,
                   "efSearch": index.hnsw.efSearch}


def _ivfpq(faiss: Any, x: np.ndarray, seed: int, params: AnnParams) -> tuple[Any, dict[str, Any]]:
    n, d = x.shape
    nlist = params.nlist or max(1, min(int(4 * math.sqrt(n)), n // 39))
    if nlist > n:
        raise ConfigError(f"nlist {nlist}: an IVF index needs at least as many vectors as lists "
                          f"to train, and there are {n}")
    m = max(s for s in range(1, min(64, max(1, d // 8)) + 1) if d % s == 0)  # >= 8 dims each
    nbits = int(min(8, max(4, math.floor(math.log2(max(n // 39, 2))))))
    index = faiss.IndexIVFPQ(faiss.IndexFlatL2(d), d, nlist, m, nbits)
    index.cp.seed = seed
    index.pq.cp.seed = seed
    train = _sample(x, min(max(64 * nlist, TRAIN_MIN), TRAIN_MAX), seed)
    index.train(train)
    index.nprobe = params.nprobe or min(nlist, max(16, nlist // 8))
    return index, {"nlist": nlist, "m": m, "nbits": nbits, "nprobe": index.nprobe,
                   "rerank": IVF_RERANK, "trained_on": len(train)}


def _factory(faiss: Any, x: np.ndarray, seed: int,
             params: AnnParams) -> tuple[Any, dict[str, Any]]:
    index = faiss.index_factory(x.shape[1], params.factory)
    trained_on = 0
    if not index.is_trained:
        train = _sample(x, TRAIN_MAX, seed)
        index.train(train)
        trained_on = len(train)
    return index, {"factory": params.factory, "rerank": IVF_RERANK, "trained_on": trained_on}


def load_backend(kind: str, vectors: np.ndarray, blob: bytes | None, params: dict[str, Any],
                 *, nprobe: int | None = None, ef_search: int | None = None) -> Backend:
    """A backend saved with ``FaissBackend.serialize`` (or exact search over ``vectors``), with
    its saved search settings, overridden by ``nprobe`` / ``ef_search`` when given."""
    if kind == "exact":
        if nprobe is not None or ef_search is not None:
            raise ConfigError("nprobe and efSearch apply to approximate indexes; this index is "
                              "exact (rebuild it with --backend ivfpq, hnsw or faiss)")
        return ExactBackend(vectors)
    faiss = require_faiss()
    if blob is None:
        raise ConfigError(f"the {kind} backend's index file is missing: rebuild the index")
    index = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
    backend = FaissBackend(kind, index, vectors, dict(params))
    return backend.tune(nprobe=params.get("nprobe") if nprobe is None else nprobe,
                        ef_search=params.get("efSearch") if ef_search is None else ef_search)


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
