"""Steps 6 and 7: the figures (training curves, retrieval examples, PCA curve) and the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import read_json
from neuralcodes.config import to_dict
from neuralcodes.figures import Series, plot_curves, plot_history, plot_retrieval
from neuralcodes.pipeline.prepare import RunData, open_run_data
from neuralcodes.report import write_report
from neuralcodes.results import PcaCurve, scores_from_dict
from neuralcodes.runs import RunDir, load_code_sets, load_config, read_metrics
from neuralcodes.search import knn

# report figure name -> the file's name under figures/
FIGURES = {"history": "history", "retrieval_examples": "retrieval", "pca": "pca"}


def figures_step(run_dir: str | Path, *, data: RunData | None = None) -> dict[str, str]:
    """Draw every figure the run has the inputs for; returns name -> path relative to the run."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    made: list[str] = []
    if run.history.exists():
        history = read_json(run.history)
        if isinstance(history, list):  # the history of older runs: the epochs only
            history = {"epochs": history}
        plot_history(history["epochs"], run.figure(FIGURES["history"]),
                     best_epoch=history.get("best_epoch") or None,
                     stopped_early=bool(history.get("stopped_early")),
                     restored_best=cfg.train.restore_best)
        made.append("history")
    if run.codes_manifest.exists():
        _retrieval_figure(run, data or open_run_data(run))
        made.append("retrieval_examples")
    pca = pca_series(read_metrics(run))
    if pca:
        plot_curves(pca, run.figure(FIGURES["pca"]), xlabel="PCA dimensions",
                    title="mAP of PCA-compressed codes, with 95 % intervals")
        made.append("pca")
    return {name: run.relative(run.figure(FIGURES[name])) for name in made}


def _retrieval_figure(run: RunDir, data: RunData) -> None:
    """The first ``figure_queries`` out-of-domain images and their nearest images by layer."""
    cfg = load_config(run).retrieval
    sets, labels = load_code_sets(run)
    queries = np.arange(min(cfg.figure_queries, len(labels)))
    found = {layer: knn(np.asarray(sets[f"ood_{layer}"])[queries], np.asarray(sets[f"ood_{layer}"]),
                        cfg.figure_neighbours, exclude=queries) for layer in cfg.layers}
    plot_retrieval(data.cache.images[data.split.ood], labels, data.class_names, list(queries),
                   {layer: ids for layer, (_, ids) in found.items()},
                   run.figure(FIGURES["retrieval_examples"]),
                   distances={layer: dists for layer, (dists, _) in found.items()})


def pca_series(metrics: dict[str, Any]) -> list[Series]:
    """metrics.json's PCA curves (no empty ones), with their intervals and the uncompressed mAP."""
    retrieval = scores_from_dict(metrics.get("retrieval", {}))
    intervals = metrics.get("pca_ci95", {})
    curves = {k: PcaCurve.from_dict(c, intervals.get(k)) for k, c in metrics.get("pca", {}).items()
              if c}
    return [Series(k, c.map_at, c.ci95, reference=retrieval[k].map if k in retrieval else None)
            for k, c in curves.items()]


def report_step(run_dir: str | Path) -> tuple[Path, Path]:
    """report.md and report.html from config.json, metrics.json and the figures on disk."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run)  # refuses a folder that is not a run
    figures = {name: run.relative(run.figure(file)) for name, file in FIGURES.items()
               if run.figure(file).exists()}
    return write_report(run, read_metrics(run), figures, config=to_dict(cfg))
