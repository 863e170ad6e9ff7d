"""Committing an index generation whose vectors are memory-mapped: the approximate backend is
trained on a sample and filled block by block (one block per shard), never from one array in RAM.

The structure and training of each backend are those of ``neuralcodes.index.backends`` (same
parameters, same seeded training sample), so the IVF-PQ index equals the one the single-process
build makes; HNSW graphs depend on insertion threading and are equivalent, not identical.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from neuralcodes import __version__
from neuralcodes.index import backends as bk
from neuralcodes.index.commit import RECALL_QUERIES
from neuralcodes.index.store import ANN_FILE, PCA_FILE, Entry, write_generation
from neuralcodes.progress import Progress, ensure


def fill_backend(kind: str, vectors: np.ndarray, bounds: list[tuple[int, int]],
                 *, seed: int = 0) -> bk.FaissBackend:
    """An approximate backend over ``vectors`` (N, D), trained on a sample, filled per block."""
    faiss = bk.require_faiss()
    n, d = vectors.shape
    threads = faiss.omp_get_max_threads()
    if n < bk.SMALL_BUILD:
        faiss.omp_set_num_threads(1)
    try:
        if n < bk.MIN_ANN_VECTORS:
            index = faiss.IndexFlatL2(d)
            params: dict[str, Any] = {"structure": f"flat (fewer than {bk.MIN_ANN_VECTORS} "
                                                   "vectors)"}
        elif kind == "hnsw":
            index, params = bk._hnsw(faiss, d)
        else:
            index, params = bk._ivfpq(faiss, vectors, seed)  # samples rows of the memory map
        for a, b in bounds:
            if b > a:
                index.add(np.ascontiguousarray(vectors[a:b], dtype=np.float32))  # (n_k, D)
    finally:
        faiss.omp_set_num_threads(threads)
    return bk.FaissBackend(kind, index, vectors, params)


def commit_streamed(
    index_dir: Any, manifest: dict[str, Any], entries: list[Entry], vectors: np.ndarray,
    bounds: list[tuple[int, int]], pca_blob: bytes | None, progress: Progress | None = None,
) -> tuple[str, float | None]:
    """``index.commit.commit`` for memory-mapped vectors; returns (generation, recall@10)."""
    progress = ensure(progress)
    files: dict[str, bytes] = {PCA_FILE: pca_blob} if pca_blob is not None else {}
    backend = manifest["backend"]
    kind, recall = backend["kind"], None
    if kind != "exact":
        start = time.perf_counter()
        built = fill_backend(kind, vectors, bounds)
        seconds = time.perf_counter() - start
        recall = bk.measure_recall(built, vectors, k=10, n_queries=RECALL_QUERIES)
        files[ANN_FILE] = built.serialize()
        n_q = min(len(vectors), RECALL_QUERIES)
        backend.update(params=built.params, recall_at_10=recall, recall_queries=n_q,
                       build_seconds=round(seconds, 3))
        progress.log(f"{kind} index over {len(vectors)} vectors trained on a sample and filled "
                     f"in {len(bounds)} shards in {seconds:.1f} s; recall@10 against exact "
                     f"search: {recall:.4f} ({n_q} queries)")
    manifest["counts"] = {"entries": len(entries), "skipped": len(manifest.get("skipped", []))}
    manifest["dim"] = int(vectors.shape[1])
    manifest["neuralcodes_version"] = __version__
    manifest["updated"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return write_generation(index_dir, manifest, entries, vectors, files), recall
