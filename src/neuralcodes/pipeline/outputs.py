"""Steps 6 and 7: the figures (training curves, retrieval examples, PCA curve) and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuralcodes.artifacts import read_json
from neuralcodes.figures import plot_curves, plot_history, plot_retrieval
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
    cfg = load_config(run).retrieval
    made: list[str] = []
    if run.history.exists():
        history = read_json(run.history)
        history = history["epochs"] if isinstance(history, dict) else history
        plot_history(history, run.figure(FIGURES["history"]))
        made.append("history")
    if run.codes_manifest.exists():
        data = data or open_run_data(run)
        sets, labels = load_code_sets(run)
        queries = np.arange(min(cfg.figure_queries, len(labels)))
        neighbours = {layer: knn(np.asarray(sets[f"ood_{layer}"])[queries],
                                 np.asarray(sets[f"ood_{layer}"]), cfg.figure_neighbours,
                                 exclude=queries)[1] for layer in cfg.layers}
        plot_retrieval(data.cache.images[data.split.ood], labels, data.class_names, list(queries),
                       neighbours, run.figure(FIGURES["retrieval_examples"]))
        made.append("retrieval_examples")
    metrics = read_metrics(run)
    pca = {k: PcaCurve.from_dict(c).map_at for k, c in metrics.get("pca", {}).items() if c}
    if pca:  # no empty curves
        retrieval = scores_from_dict(metrics.get("retrieval", {}))
        plot_curves(pca, run.figure(FIGURES["pca"]), xlabel="PCA dimensions",
                    title="mAP of PCA-compressed codes (dashed: uncompressed)",
                    reference={k: retrieval[k].map for k in pca if k in retrieval})
        made.append("pca")
    return {name: run.relative(run.figure(FIGURES[name])) for name in made}


def report_step(run_dir: str | Path) -> tuple[Path, Path]:
    """report.md and report.html from metrics.json and the figures on disk."""
    run = RunDir(Path(run_dir))
    load_config(run)  # refuses a folder that is not a run
    figures = {name: run.relative(run.figure(file)) for name, file in FIGURES.items()
               if run.figure(file).exists()}
    return write_report(run, read_metrics(run), figures)
