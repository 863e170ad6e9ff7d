"""One benchmark run: read and validate, encode, compress, rank, score, write the result folder.

Everything that can be checked is checked before the first image is encoded (the benchmark's
folder and ground truth, the PCA fit folder, the output folder, the PCA size), and the result
folder is written to a temporary folder renamed at the end: a failure leaves nothing behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import atomic_write_json, provenance
from neuralcodes.benchmarks.catalog import read_benchmark
from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import Dataset
from neuralcodes.benchmarks.encode import encode_sources
from neuralcodes.benchmarks.encoder import ImageEncoder
from neuralcodes.benchmarks.figure import benchmark_figure
from neuralcodes.benchmarks.paper import figures_for
from neuralcodes.benchmarks.report import result_text
from neuralcodes.benchmarks.results import (
    RESULT_ARTIFACT,
    check_out,
    per_query_rows,
    staged,
    summarise,
    write_codes,
    write_tables,
)
from neuralcodes.benchmarks.scores import NS_DEPTH, SetupScores, score
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import scan_images
from neuralcodes.progress import Progress
from neuralcodes.search import knn

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkResult:
    out: Path
    rows: list[dict[str, Any]]  # one per setup: value, ci95, n_queries (, precision_at)
    text: str  # results.md
    scores: dict[str, SetupScores]


@dataclass(frozen=True)
class Codes:
    database: np.ndarray  # (N, D) float32
    queries: np.ndarray  # (Q, D) float32
    valid: np.ndarray  # (N,) bool: readable database images
    skipped: list[str]  # names of the unreadable ones
    pca: dict[str, Any] | None = None


def run_benchmark(config: BenchmarkConfig, encoder: ImageEncoder, out: str | Path, *,
                  progress: Progress | None = None) -> BenchmarkResult:
    """Run the benchmark of ``config`` with ``encoder`` and write its result folder ``out``."""
    dataset = read_benchmark(config.name, config.data, rotated=config.rotated)
    fit_files = pca_fit_files(config, dataset)
    out = check_out(out)
    _check_pca_size(config, encoder, len(fit_files) if fit_files else len(dataset.files))
    logger.info("%s: %d images, %d queries; encoding with %s", config.name, len(dataset.files),
                len(dataset.queries), encoder.layer)
    codes = encode_dataset(dataset, encoder, config, progress)
    if config.pca is not None:
        codes = compress(codes, config, encoder, fit_files, progress)
    ids, dists = rank(codes, dataset, config.figure_k)  # (Q, n), (Q, n)
    scores = score(dataset, ids)
    rows = summarise(scores, dataset.metric, config.n_bootstrap, config.seed)
    paper = figures_for(config.name, encoder.layer, config.pca)
    text = result_text(config.name, encoder.layer, codes.database.shape[1], dataset.summary(),
                       rows, codes.pca, paper, codes.skipped)
    with staged(out) as tmp:
        _write(tmp, config, encoder, dataset, codes, scores, rows, text, paper)
        if config.figure_queries:
            benchmark_figure(dataset, ids, dists, tmp / "figures" / "queries.png",
                             n_queries=config.figure_queries, k=config.figure_k,
                             title=f"{config.name}: {encoder.layer}, "
                             f"{codes.database.shape[1]} dims")
    logger.info("%s: written to %s", config.name, out)
    return BenchmarkResult(out, rows, text, scores)


def pca_fit_files(config: BenchmarkConfig, dataset: Dataset) -> list[Path]:
    """The images PCA is fitted on ([] without PCA or with ``self``); never the database's."""
    if config.pca is None or config.pca_on_self:
        return []
    assert config.pca_fit_on is not None
    files = scan_images(config.pca_fit_on)
    if not files:
        raise DataError(config.pca_fit_on, "no images here to fit PCA on")
    own = {(f.name, f.stat().st_size) for f in dataset.files}
    same = [f for f in files if (f.name, f.stat().st_size) in own]
    if same:
        raise ConfigError(f"{len(same)} of the {len(files)} PCA fit images in "
                          f"{config.pca_fit_on} are images of the {config.name} database (e.g. "
                          f"{same[0].name}): fit PCA on another dataset, or ask for it with "
                          "--pca-fit-on self")
    return files


def _check_pca_size(config: BenchmarkConfig, encoder: ImageEncoder, n_fit: int) -> None:
    if config.pca is None:
        return
    limit = min(n_fit - 1, int(encoder.dim))
    if config.pca > limit:
        raise ConfigError(f"--pca {config.pca} is impossible with {n_fit} fit images of "
                          f"{encoder.dim}-dim codes: at most min(N - 1, D) = {limit}")


def encode_dataset(dataset: Dataset, encoder: ImageEncoder, config: BenchmarkConfig,
                   progress: Progress | None = None) -> Codes:
    """Codes of the database and of the queries; an unreadable query is fatal."""
    db, failed = encode_sources(encoder, [(f, None) for f in dataset.files], config,
                                what="database", progress=progress)  # (N, D)
    own = [i for i, q in enumerate(dataset.queries) if q.bbox is None and q.db_index is not None]
    reused = set(own)  # queries that are database images: their codes are reused
    other = [i for i in range(len(dataset.queries)) if i not in reused]
    queries = np.zeros((len(dataset.queries), db.shape[1]), np.float32)  # (Q, D)
    for i in own:
        index = dataset.queries[i].db_index
        assert index is not None
        if index in failed:
            raise DataError(dataset.files[index], f"a query image cannot be read: {failed[index]}")
        queries[i] = db[index]
    sources = [(dataset.queries[i].file, dataset.queries[i].bbox) for i in other]
    encoded, q_failed = encode_sources(encoder, sources, config, what="queries",
                                       progress=progress)
    if q_failed:
        first = min(q_failed)
        raise DataError(sources[first][0], f"a query image cannot be read: {q_failed[first]}")
    queries[other] = encoded
    valid = np.ones(len(dataset.files), dtype=bool)
    valid[list(failed)] = False
    return Codes(db, queries, valid, [dataset.names[i] for i in sorted(failed)])


def compress(codes: Codes, config: BenchmarkConfig, encoder: ImageEncoder, fit_files: list[Path],
             progress: Progress | None = None) -> Codes:
    """PCA (fitted on ``fit_files``, or on the database itself with ``self``) applied to both."""
    from neuralcodes.postprocess.pca import apply_pca, fit_pca  # (the package imports torch)

    assert config.pca is not None
    if config.pca_on_self:
        fit = codes.database[codes.valid]  # (N', D)
    else:
        x, failed = encode_sources(encoder, [(f, None) for f in fit_files], config,
                                   what="PCA fit set", progress=progress)
        fit = np.delete(x, list(failed), axis=0)  # (n_fit, D)
    fitted_on = "self" if config.pca_on_self else str(config.pca_fit_on)
    pca = fit_pca(fit, config.pca, whiten=config.whiten,
                  fitted_on={"benchmark": config.name, "on": fitted_on, "n": len(fit)})
    info = {"dims": config.pca, "whiten": config.whiten, "fitted_on": fitted_on,
            "on_database": config.pca_on_self, "n_fit": len(fit), "model": pca}
    return Codes(apply_pca(pca, codes.database), apply_pca(pca, codes.queries), codes.valid,
                 codes.skipped, info)


def rank(codes: Codes, dataset: Dataset, figure_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each query's ranking of the readable database images by exact Euclidean search, ties by
    smaller database id, its own image left out where the benchmark says so, as deep as the
    scores and the figure need: ``(ids (Q, k) int64, distances (Q, k) float32)``, nearest first,
    ids into the database."""
    rows = np.flatnonzero(codes.valid)  # (N',)
    excl = None
    if dataset.leave_query_out:
        where = np.full(len(codes.valid), -1, dtype=np.int64)
        where[rows] = np.arange(len(rows))
        own = np.array([q.db_index for q in dataset.queries], dtype=np.int64)  # (Q,)
        excl = where[own]  # (Q,) into the valid rows (a query's image is always readable)
    available = len(rows) - (1 if excl is not None else 0)
    k = min(max(NS_DEPTH, figure_k), available) if dataset.metric == "ns" else available
    dists, found = knn(codes.queries, codes.database[rows], k, exclude=excl)  # (Q, k), (Q, k)
    return rows[found], dists


def encoder_record(encoder: ImageEncoder) -> dict[str, Any]:
    """The encoder's fingerprint with its kind (a fingerprint without one is a run folder's)
    and the model SPEC it was opened with, when it has one."""
    fp = encoder.fingerprint()
    spec = getattr(encoder, "spec", None)
    return {"kind": fp.get("kind", "run"), **fp, **({"spec": str(spec)} if spec else {})}


def _write(folder: Path, config: BenchmarkConfig, encoder: ImageEncoder, dataset: Dataset,
           codes: Codes, scores: dict[str, SetupScores], rows: list[dict[str, Any]], text: str,
           paper: list[Any]) -> None:
    pca = None if codes.pca is None else {k: v for k, v in codes.pca.items() if k != "model"}
    made_by = {"benchmark": config.name, "encoder": encoder_record(encoder),
               "layer": encoder.layer, "code_dim": int(encoder.dim),
               "dims": int(codes.database.shape[1]), "pca": pca}
    write_codes(folder, codes.database, codes.queries, {
        **provenance("benchmark-codes", **made_by), "database": list(dataset.names),
        "queries": [q.name for q in dataset.queries], "skipped": codes.skipped})
    if codes.pca is not None:
        from neuralcodes.postprocess.pca import save_pca

        save_pca(codes.pca["model"], folder / "codes" / "pca.npz")
    query_names = [q.name for q in dataset.queries]
    summary = {**made_by, "results": rows, "paper": [vars(f) for f in paper]}
    write_tables(folder, per_query_rows(query_names, scores, dataset.metric), summary, text)
    atomic_write_json(folder / "config.json", {
        **provenance(RESULT_ARTIFACT, **made_by), "config": config.to_dict(),
        "data": dataset.summary(), "skipped": codes.skipped})
