"""Searching an index from Python::

    from neuralcodes.index import Index

    index = Index.open("my-index")             # checks the network against the index
    index = Index.build("~/Pictures", "my-index", model="hf:facebook/dinov2-small")
    result = index.search("query.jpg", k=10)   # a path, PIL image, array or bytes
    for path, distance in zip(result.paths, result.distances):
        print(f"{distance:.3f}  {path}")
    D, I = index.search(["a.jpg", "b.jpg"], k=10)   # many queries: (n_queries, k) each

Ids are stable: an image keeps its id across updates until it is removed. An ``Index`` is one
generation of the index folder, and safe to search from several threads; ``reopen()`` gives the
generation that the folder's manifest names now (a server calls it between requests).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from neuralcodes.encoder import Encoder, open_encoder, open_index_encoder
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import MAX_PIXELS, ImageLike, ImagePolicy, load_image
from neuralcodes.index.backends import Backend, load_backend
from neuralcodes.index.builder import build_index
from neuralcodes.index.leases import Lease
from neuralcodes.index.pca_step import generation_pca, projector
from neuralcodes.index.plan import abs_path
from neuralcodes.index.result import SearchResult
from neuralcodes.index.store import (
    ANN_FILE,
    Entry,
    Generation,
    current_generation,
    read_generation,
    read_manifest,
)
from neuralcodes.models.fingerprint import check_model
from neuralcodes.models.spec import Spec, model_argument

__all__ = ["Index", "SearchResult"]
log = logging.getLogger("neuralcodes.index.api")
OPEN_ATTEMPTS = 5  # a generation pruned while it is opened: read the manifest again


class Index:
    """One generation of an index: its entries, vectors, search backend and encoder."""

    def __init__(self, gen: Generation, backend: Backend, encoder: Encoder, *,
                 lease: Lease | None = None, encode_lock: threading.Lock | None = None,
                 tuning: dict[str, int | None] | None = None) -> None:
        self.index_dir, self.manifest, self.entries = gen.index_dir, gen.manifest, gen.entries
        self.vectors, self.backend, self.encoder = gen.vectors, backend, encoder
        self.generation = str(gen.manifest.get("generation", ""))
        self._pca = generation_pca(gen)
        self._project = projector(self._pca)
        self._ids = np.array([e.id for e in gen.entries], dtype=np.int64)  # row -> id
        self._row = {e.id: i for i, e in enumerate(gen.entries)}  # id -> row
        self.root = gen.root
        self._encode_lock = encode_lock or threading.Lock()  # one forward pass at a time
        self._close = weakref.finalize(self, lease.release) if lease else None
        self._tuning = tuning or {}  # search-time FAISS settings (nprobe, ...)

    @classmethod
    def open(cls, index_dir: str | Path, model: Spec | None = None, *, device: str = "auto",
             batch_size: int | None = None, encoder: Encoder | None = None,
             nprobe: int | None = None, ef_search: int | None = None,
             run_dir: Spec | None = None) -> Index:
        """Open ``index_dir`` with its network: the SPEC ``model`` (default: the one the index
        records; ``run_dir`` is its older name), or ``encoder``, one already loaded. A network,
        revision, layer or preprocessing that differs from the one that built the index is
        refused, saying what differs. ``nprobe`` / ``ef_search``: search settings of an IVF /
        HNSW index (default: the saved ones)."""
        root = Path(index_dir).expanduser().resolve()
        if encoder is None:
            encoder = open_index_encoder(read_manifest(root), model_argument(model, run_dir),
                                         device=device, batch_size=batch_size)
        tuning = {"nprobe": nprobe, "ef_search": ef_search}
        return cls._open_current(root, encoder, threading.Lock(), tuning)

    @classmethod
    def build(cls, photos_dir: str | Path, out_dir: str | Path, *, model: Spec | None = None,
              layer: str | None = None, device: str = "auto", **kwargs: Any) -> Index:
        """``build_index(photos_dir, out_dir, model=SPEC, layer=..., **kwargs)``, then the
        index opened with the same (already loaded) network."""
        spec = model_argument(model, kwargs.pop("run_dir", None))
        encoder = kwargs.pop("encoder", None) or open_encoder(
            spec, layer=layer, device=device, batch_size=kwargs.pop("batch_size", None))
        info = build_index(photos_dir, out_dir, encoder=encoder, **kwargs)
        return cls.open(info.index_dir, encoder=encoder)

    @classmethod
    def _open_current(cls, root: Path, encoder: Encoder, lock: threading.Lock,
                      tuning: dict[str, int | None]) -> Index:
        """The generation the manifest names, leased while this object lives; a generation
        pruned while it is being read sends us back to the manifest."""
        for attempt in range(OPEN_ATTEMPTS):
            manifest = read_manifest(root)
            lease = Lease.take(root, str(manifest.get("generation")))
            try:
                check_model(manifest, encoder, root)
                kind = manifest["backend"]["kind"]
                gen = read_generation(root, manifest, mmap=kind in ("ivfpq", "faiss"))
                ann = gen.dir / ANN_FILE
                blob = ann.read_bytes() if ann.is_file() else None
                params = manifest["backend"].get("params", {})
                backend = load_backend(kind, gen.vectors, blob, params, **tuning)
                return cls(gen, backend, encoder, lease=lease, encode_lock=lock, tuning=tuning)
            except BaseException as e:
                if lease:
                    lease.release()
                moved = current_generation(root) != manifest.get("generation")
                if not (isinstance(e, DataError | OSError) and moved) or \
                        attempt == OPEN_ATTEMPTS - 1:
                    raise
                log.debug("%s moved on from %s while it was opened", root, manifest["generation"])
        raise DataError(root, "the index changed at every attempt to open it")  # not reached

    def reopen(self) -> Index:
        """The index as its manifest names it now: ``self`` if the generation is the same,
        else the new generation, with this index's model (checked against it again)."""
        if current_generation(self.index_dir) == self.generation:
            return self
        return self._open_current(self.index_dir, self.encoder, self._encode_lock, self._tuning)

    def close(self) -> None:
        """Give up the lease on this generation (a writer may then prune it)."""
        if self._close:
            self._close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.entries)

    def __repr__(self) -> str:
        m = self.manifest
        pca = f", PCA {self.dim}-d" if self._pca is not None else ""
        return (f"Index({str(self.index_dir)!r}: {len(self):,} images, {self.generation}, "
                f"{m.get('model_name')} {m.get('layer')} ({self.dim}-d{pca}), "
                f"{m['backend']['kind']} search, photos {str(self.root)!r})")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def image_size(self) -> int:
        return self.encoder.image_size

    @property
    def image_policy(self) -> ImagePolicy:
        """How a query image is brought to the network's input (the index's own policy)."""
        return self.encoder.image_policy

    def info(self) -> dict[str, Any]:
        """What the index holds and what built it (the manifest, summarised)."""
        m = self.manifest
        keys = ("model", "kind", "model_hash", "model_name", "hub_id", "revision",
                "weights_sha256", "layer", "image_size", "code_dim", "preprocess", "run_dir",
                "photos_root", "pca", "backend", "generation", "created", "updated",
                "neuralcodes_version")
        return {"index_dir": str(self.index_dir), "count": len(self), "dim": self.dim,
                **{k: m.get(k) for k in keys}, "model": m.get("model") or m.get("run_dir"),
                "skipped": len(m.get("skipped", [])), "excluded": len(m.get("excluded", []))}

    def entry_of(self, image_id: int) -> Entry:
        """The entry (path, content hash, size, mtime) of an indexed image id."""
        return self.entries[self._row_of(image_id)]

    def path_of(self, image_id: int) -> str:
        """The file of an indexed image id."""
        return str(abs_path(self.root, self.entry_of(image_id).path))

    def paths_of(self, ids: np.ndarray) -> list[list[str]]:
        """(Q, k) ids, as ``search`` of many queries returns them -> their files ("" for -1)."""
        return [[self.path_of(int(i)) if i >= 0 else "" for i in row] for row in np.atleast_2d(ids)]

    def _row_of(self, image_id: int) -> int:
        try:
            return self._row[int(image_id)]
        except (KeyError, ValueError, TypeError):
            raise ConfigError(f"no image with id {image_id!r} in {self.index_dir}") from None

    def load(self, query: ImageLike, *, max_pixels: int = MAX_PIXELS) -> np.ndarray:
        """Any image -> the network's input (S, S, 3) uint8 (DataError if it is not one)."""
        return load_image(query, self.image_policy, max_pixels=max_pixels)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(Q, S, S, 3) uint8 images -> (Q, D) stored-form vectors (PCA applied if any)."""
        with self._encode_lock:
            codes = self.encoder.encode(images)  # (Q, code_dim)
        return self._project(codes)

    def search_vectors(self, vectors: np.ndarray, k: int, *, qe: int = 0,
                       qe_alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) vectors -> (distances (Q, k'), ids (Q, k')), k' = min(k, len(self)).

        ``qe`` > 0: average query expansion with the ``qe`` first results (alpha-QE with
        ``qe_alpha`` > 0), then a second search with the expanded queries."""
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        if len(self) == 0:
            return np.zeros((len(vectors), 0), np.float32), np.zeros((len(vectors), 0), np.int64)
        vectors = np.asarray(vectors, np.float32)  # (Q, D)
        if qe > 0:
            from neuralcodes.postprocess.query_expansion import expand_queries

            n = min(qe, len(self))
            _, first = self.backend.search(vectors, n)  # (Q, n) rows
            vectors = expand_queries(vectors, np.asarray(self.vectors), first, n=n,
                                     alpha=qe_alpha)
        dist, rows = self.backend.search(vectors, min(k, len(self)))
        ids = np.where(rows >= 0, self._ids[np.maximum(rows, 0)], -1)
        return dist, ids

    def search_many(self, queries: np.ndarray, k: int = 10, *, qe: int = 0,
                    qe_alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Images (Q, S, S, 3) uint8, or codes (Q, D) (raw or compressed) -> (distances, ids)."""
        q = np.asarray(queries)
        if q.ndim == 4 and q.dtype == np.uint8:
            vectors = self.embed(q)
        elif q.ndim == 2 and q.shape[1] == self.dim:
            vectors = q.astype(np.float32)
        elif q.ndim == 2 and self._pca is not None and q.shape[1] == self.encoder.dim:
            vectors = self._project(q)
        else:
            raise ConfigError(f"queries must be uint8 images (Q, {self.image_size}, "
                              f"{self.image_size}, 3) or codes (Q, {self.dim}); got "
                              f"{q.dtype} {q.shape}")
        return self.search_vectors(vectors, k, qe=qe, qe_alpha=qe_alpha)

    @overload
    def search(self, query: ImageLike, k: int = 10, *, max_pixels: int = ...,
               qe: int = ..., qe_alpha: float = ...) -> SearchResult: ...

    @overload
    def search(self, query: list[ImageLike] | tuple[ImageLike, ...], k: int = 10, *,
               max_pixels: int = ..., qe: int = ...,
               qe_alpha: float = ...) -> tuple[np.ndarray, np.ndarray]: ...

    def search(self, query: ImageLike | list[ImageLike] | tuple[ImageLike, ...], k: int = 10, *,
               max_pixels: int = MAX_PIXELS, qe: int = 0,
               qe_alpha: float = 0.0) -> SearchResult | tuple[np.ndarray, np.ndarray]:
        """The ``k`` images most similar to ``query`` (a path, PIL image, array or bytes) as a
        ``SearchResult``; for a list (or tuple) of queries, encoded as one batch,
        ``(distances, ids)`` each (n_queries, k) as FAISS gives them (``paths_of(ids)`` names
        the files). An image of more than ``max_pixels`` pixels is refused (DataError) before
        it is decoded. ``qe``: query expansion with that many first results."""
        if isinstance(query, list | tuple):
            return self._search_batch(query, k, max_pixels=max_pixels, qe=qe, qe_alpha=qe_alpha)
        t0 = time.perf_counter()
        pixels = self.load(query, max_pixels=max_pixels)  # (S, S, 3) uint8
        t1 = time.perf_counter()
        vectors = self.embed(pixels[None])  # (1, D)
        t2 = time.perf_counter()
        dist, ids = self.search_vectors(vectors, k, qe=qe, qe_alpha=qe_alpha)  # (1, k) each
        t3 = time.perf_counter()
        return self._result(dist[0], ids[0], decode_ms=(t1 - t0) * 1e3,
                            encode_ms=(t2 - t1) * 1e3, search_ms=(t3 - t2) * 1e3)

    def _search_batch(self, queries: Sequence[ImageLike], k: int, *, max_pixels: int, qe: int,
                      qe_alpha: float) -> tuple[np.ndarray, np.ndarray]:
        if not queries:
            shape = (0, min(max(k, 1), len(self)))
            return np.zeros(shape, np.float32), np.zeros(shape, np.int64)
        images = np.stack([self.load(q, max_pixels=max_pixels) for q in queries])  # (Q, S, S, 3)
        return self.search_many(images, k, qe=qe, qe_alpha=qe_alpha)

    def search_by_id(self, image_id: int, k: int = 10) -> SearchResult:
        """The ``k`` images most similar to an indexed image, the image itself left out."""
        row = self._row_of(image_id)
        t0 = time.perf_counter()
        query = np.asarray(self.vectors[row : row + 1], np.float32)  # (1, D)
        dist, ids = self.search_vectors(query, min(k + 1, len(self)))
        keep = ids[0] != int(image_id)
        ms = (time.perf_counter() - t0) * 1e3
        return self._result(dist[0][keep][:k], ids[0][keep][:k], search_ms=ms)

    def _result(self, dist: np.ndarray, ids: np.ndarray, **timings: float) -> SearchResult:
        ok = ids >= 0
        dist, ids = dist[ok], ids[ok]
        return SearchResult(dist, ids, [self.path_of(int(i)) for i in ids], root=str(self.root),
                            generation=self.generation, timings=timings)
