"""Steps 6 and 7: the figures (training curves, retrieval examples, PCA curve) and the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from neuralcodes.artifacts import read_json
from neuralcodes.figures import plot_curves, plot_history, plot_retrieval
from neuralcodes.pipeline.prepare import RunData, open_run_data
from neuralcodes.report import write_report
from neuralcodes.runs import RunDir, load_code_sets, load_config, read_metrics
from neuralcodes.search import knn


def figures_step(run_dir: str | Path, *, data: RunData | None = None) -> dict[str, str]:
    """Draw every figure the run has the inputs for; returns name -> path relative to the run."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run).retrieval
    made: dict[str, str] = {}
    if run.history.exists():
        history = read_json(run.history)
        history = history["epochs"] if isinstance(history, dict) else history
        plot_history(history, run.figures / "history.png")
        made["history"] = "figures/history.png"
    if (run.codes / "manifest.json").exists():
        data = data or open_run_data(run)
        sets, labels = load_code_sets(run)
        queries = np.arange(min(cfg.figure_queries, len(labels)))
        neighbours = {layer: knn(np.asarray(sets[f"ood_{layer}"])[queries],
                                 np.asarray(sets[f"ood_{layer}"]), cfg.figure_neighbours,
                                 exclude=queries)[1] for layer in cfg.layers}
        plot_retrieval(data.cache.images[data.split.ood], labels, data.class_names, list(queries),
                       neighbours, run.figures / "retrieval.png")
        made["retrieval_examples"] = "figures/retrieval.png"
    pca = {k: c for k, c in read_metrics(run).get("pca", {}).items() if c}  # no empty curves
    if pca:
        retrieval = read_metrics(run).get("retrieval", {})
        plot_curves({k: {int(d): v for d, v in c.items()} for k, c in pca.items()},
                    run.figures / "pca.png", xlabel="PCA dimensions",
                    title="mAP of PCA-compressed codes (dashed: uncompressed)",
                    reference={k: retrieval[k]["map"] for k in pca if k in retrieval})
        made["pca"] = "figures/pca.png"
    return made


def report_step(run_dir: str | Path) -> tuple[Path, Path]:
    """report.md and report.html from metrics.json and the figures on disk."""
    run = RunDir(Path(run_dir))
    names = {"history": "history.png", "retrieval_examples": "retrieval.png", "pca": "pca.png"}
    figures = {k: f"figures/{v}" for k, v in names.items() if (run.figures / v).exists()}
    return write_report(run.root, read_metrics(run), figures)
