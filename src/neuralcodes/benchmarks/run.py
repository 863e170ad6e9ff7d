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

from neuralcodes.artifacts import atomic_folder
from neuralcodes.benchmarks.catalog import read_benchmark
from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import Dataset
from neuralcodes.benchmarks.encode import Codes, ImageEncoder, compress, encode_dataset
from neuralcodes.benchmarks.figure import benchmark_figure
from neuralcodes.benchmarks.paper import figures_for
from neuralcodes.benchmarks.report import result_text
from neuralcodes.benchmarks.results import check_out, summarise, write_result
from neuralcodes.benchmarks.scores import NS_DEPTH, SetupScores, score
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import scan_images
from neuralcodes.progress import Progress
from neuralcodes.search import knn
from neuralcodes.stats import max_pca_dims

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BenchmarkResult:
    out: Path
    rows: list[dict[str, Any]]  # one per setup: value, ci95, n_queries (, precision_at)
    text: str  # results.md
    scores: dict[str, SetupScores]


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
    with atomic_folder(out) as tmp:
        write_result(tmp, config, encoder, dataset, codes, scores, rows, text, paper)
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
    limit = max_pca_dims(n_fit, int(encoder.dim))
    if config.pca > limit:
        raise ConfigError(f"--pca {config.pca} is impossible with {n_fit} fit images of "
                          f"{encoder.dim}-dim codes: at most min(N - 1, D) = {limit}")


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
