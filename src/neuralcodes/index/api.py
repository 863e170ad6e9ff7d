"""Searching an index from Python::

    from neuralcodes.index import Index

    index = Index.open("my-index")             # checks the model against the index
    result = index.search("query.jpg", k=10)   # a path, PIL image, array or bytes
    for path, distance in zip(result.paths, result.distances):
        print(f"{distance:.3f}  {path}")

Ids are stable: an image keeps its id across updates until it is removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.index.backends import Backend, load_backend
from neuralcodes.index.builder import check_model
from neuralcodes.index.encoder import Encoder
from neuralcodes.index.images import DEFAULT_MAX_PIXELS, ImageLike, load_image
from neuralcodes.index.manifest import check_codes
from neuralcodes.index.pca_step import pca_from_bytes, projector
from neuralcodes.index.plan import abs_path
from neuralcodes.index.store import (
    ANN_FILE,
    PCA_FILE,
    Entry,
    generation_dir,
    read_entries,
    read_manifest,
    read_vectors,
)
from neuralcodes.runs import RunDir


@dataclass(frozen=True)
class SearchResult:
    """The nearest images of one query, nearest first."""

    distances: np.ndarray  # (k,) float32, Euclidean
    ids: np.ndarray  # (k,) int64, stable image ids
    paths: list[str]  # (k,) absolute file paths

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready rows: rank, id, path, distance."""
        return [{"rank": r + 1, "id": int(i), "path": p, "distance": float(d)}
                for r, (i, p, d) in enumerate(zip(self.ids, self.paths, self.distances,
                                                  strict=True))]


class Index:
    """An opened index: its entries, vectors, search backend and the encoder of its model."""

    def __init__(self, index_dir: Path, manifest: dict[str, Any], entries: list[Entry],
                 vectors: np.ndarray, backend: Backend, encoder: Encoder, pca: Any) -> None:
        self.index_dir, self.manifest, self.entries = index_dir, manifest, entries
        self.vectors, self.backend, self.encoder = vectors, backend, encoder
        self._project = projector(pca)
        self._has_pca = pca is not None
        self._ids = np.array([e.id for e in entries], dtype=np.int64)  # row -> id
        self._row = {e.id: i for i, e in enumerate(entries)}  # id -> row
        self.root = Path(manifest["photos_root"])

    @classmethod
    def open(cls, index_dir: str | Path, *, run_dir: str | Path | None = None,
             device: str = "auto", batch_size: int = 64, nprobe: int | None = None,
             ef_search: int | None = None) -> Index:
        """Open ``index_dir`` with its model (default: the run folder that built it); a model
        that differs from the one that built the index is refused, saying what differs.
        ``nprobe`` / ``ef_search``: search settings of an IVF / HNSW index (default: saved)."""
        root = Path(index_dir).resolve()
        manifest = read_manifest(root)
        gen = generation_dir(root, manifest)
        entries = read_entries(gen)
        kind = manifest["backend"]["kind"]
        vectors = read_vectors(gen, len(entries), mmap=kind in ("ivfpq", "faiss"))
        check_codes(vectors, manifest, gen / "codes.npy")
        run = Path(run_dir) if run_dir is not None else Path(manifest["run_dir"])
        if not RunDir(run).model.is_file():
            raise DataError(run, "no model.pt: the run folder that built this index is gone; "
                            "name the same model with --model RUN_DIR")
        encoder = Encoder.from_run(run, layer=manifest["layer"], device=device,
                                   batch_size=batch_size)
        check_model(manifest, encoder, root)
        blob = (gen / ANN_FILE).read_bytes() if (gen / ANN_FILE).is_file() else None
        backend = load_backend(kind, vectors, blob, manifest["backend"].get("params", {}),
                               nprobe=nprobe, ef_search=ef_search)
        if manifest.get("pca") and not (gen / PCA_FILE).is_file():
            raise DataError(gen / PCA_FILE, "missing: the index records a PCA; rebuild it")
        pca = pca_from_bytes((gen / PCA_FILE).read_bytes()) if manifest.get("pca") else None
        return cls(root, manifest, entries, vectors, backend, encoder, pca)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @property
    def image_size(self) -> int:
        return self.encoder.image_size

    def info(self) -> dict[str, Any]:
        """What the index holds and what built it (the manifest, summarised)."""
        m = self.manifest
        keys = ("model_hash", "model_name", "layer", "image_size", "code_dim", "run_dir",
                "photos_root", "pca", "backend", "generation", "created", "updated",
                "neuralcodes_version")
        return {"index_dir": str(self.index_dir), "count": len(self), "dim": self.dim,
                **{k: m.get(k) for k in keys}, "skipped": len(m.get("skipped", [])),
                "excluded": len(m.get("excluded", []))}

    def path_of(self, image_id: int) -> str:
        """The file of an indexed image id."""
        return str(abs_path(self.root, self.entries[self._row_of(image_id)].path))

    def _row_of(self, image_id: int) -> int:
        try:
            return self._row[int(image_id)]
        except (KeyError, ValueError, TypeError):
            raise ConfigError(f"no image with id {image_id!r} in {self.index_dir}") from None

    def load(self, query: ImageLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
        """Any image -> the network's input (S, S, 3) uint8 (DataError if it is not one)."""
        return load_image(query, self.image_size, max_pixels=max_pixels)

    def embed(self, images: np.ndarray) -> np.ndarray:
        """(Q, S, S, 3) uint8 images -> (Q, D) stored-form vectors (PCA applied if any)."""
        return self._project(self.encoder.encode(images))

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
        elif q.ndim == 2 and self._has_pca and q.shape[1] == self.encoder.dim:
            vectors = self._project(q)
        else:
            raise ConfigError(f"queries must be uint8 images (Q, {self.image_size}, "
                              f"{self.image_size}, 3) or codes (Q, {self.dim}); got "
                              f"{q.dtype} {q.shape}")
        return self.search_vectors(vectors, k, qe=qe, qe_alpha=qe_alpha)

    def search(self, query: ImageLike, k: int = 10, *, max_pixels: int = DEFAULT_MAX_PIXELS,
               qe: int = 0, qe_alpha: float = 0.0) -> SearchResult:
        """The ``k`` images most similar to ``query`` (path, PIL image, array or bytes); an
        image of more than ``max_pixels`` pixels is refused (DataError) before it is decoded.
        ``qe``: query expansion with that many first results (see ``search_vectors``)."""
        dist, ids = self.search_many(self.load(query, max_pixels=max_pixels)[None], k, qe=qe,
                                     qe_alpha=qe_alpha)
        return self._result(dist[0], ids[0])

    def search_by_id(self, image_id: int, k: int = 10) -> SearchResult:
        """The ``k`` images most similar to an indexed image, the image itself left out."""
        row = self._row_of(image_id)
        query = np.asarray(self.vectors[row : row + 1], np.float32)  # (1, D)
        dist, ids = self.search_vectors(query, min(k + 1, len(self)))
        keep = ids[0] != int(image_id)
        return self._result(dist[0][keep][:k], ids[0][keep][:k])

    def _result(self, dist: np.ndarray, ids: np.ndarray) -> SearchResult:
        ok = ids >= 0
        dist, ids = dist[ok], ids[ok]
        return SearchResult(dist, ids, [self.path_of(int(i)) for i in ids])
