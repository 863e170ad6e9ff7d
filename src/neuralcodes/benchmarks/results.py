"""The result folder of a benchmark run, written to a temporary folder renamed at the end.

::

    OUT/config.json          the configuration, the encoder's fingerprint, the data, the PCA
    OUT/results.json, .md    the scores with 95 % bootstrap intervals, the paper's figures
    OUT/per_query.csv, .json every query's AP (or N-S hits, mP@k) per setup
    OUT/codes/database.npy   (N, D) float32 codes as scored (after PCA), queries.npy (Q, D)
    OUT/codes/manifest.json  which image each row is, and what made the codes
    OUT/figures/queries.png  a few queries and their first results

A folder that already holds a benchmark result is replaced as a whole; any other existing,
non-empty folder is refused before any work starts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import (
    atomic_save_npy,
    atomic_write_csv,
    atomic_write_json,
    atomic_write_text,
    provenance,
    read_json,
)
from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import Dataset
from neuralcodes.benchmarks.encode import Codes, ImageEncoder
from neuralcodes.benchmarks.paper import PaperFigure
from neuralcodes.benchmarks.scores import SetupScores
from neuralcodes.errors import ConfigError, NeuralCodesError
from neuralcodes.stats import bootstrap_ci

RESULT_ARTIFACT = "benchmark-result"


def check_out(out: str | Path) -> Path:
    """``out`` if a result may be written there (absent, empty, or a previous result)."""
    out = Path(out)
    if not out.exists():
        return out
    if not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder; choose another --out")
    if any(out.iterdir()) and not is_result(out):
        raise ConfigError(f"{out} exists and is not a benchmark result folder; choose another "
                          "--out (a previous result would be replaced, anything else is kept)")
    return out


def is_result(folder: Path) -> bool:
    try:
        return read_json(folder / "config.json").get("artifact") == RESULT_ARTIFACT
    except (NeuralCodesError, AttributeError):
        return False


def summarise(scores: Mapping[str, SetupScores], metric: str, n_bootstrap: int,
              seed: int) -> list[dict[str, Any]]:
    """One JSON-ready row per setup: the mean, its 95 % interval, mP@k (revisited)."""
    rows = []
    for setup, s in scores.items():
        row: dict[str, Any] = {"setup": setup, "metric": "N-S" if metric == "ns" else "mAP",
                               **_mean_ci(s.per_query, n_bootstrap, seed)}
        row["n_queries"] = int(np.isfinite(s.per_query).sum())
        row["n_excluded"] = int((~np.isfinite(s.per_query)).sum())
        if s.precision_at:
            row["precision_at"] = {str(k): _mean_ci(v, n_bootstrap, seed)
                                   for k, v in s.precision_at.items()}
        rows.append(row)
    return rows


def _mean_ci(values: np.ndarray, n_bootstrap: int, seed: int) -> dict[str, Any]:
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return {"value": None, "ci95": None}
    ci = list(bootstrap_ci(ok, n_resamples=n_bootstrap, seed=seed)) if n_bootstrap else None
    return {"value": float(ok.mean()), "ci95": ci}


def per_query_rows(query_names: Sequence[str],
                   scores: Mapping[str, SetupScores], metric: str) -> list[dict[str, Any]]:
    key = "ns_hits" if metric == "ns" else "ap"
    rows = []
    for setup, s in scores.items():
        for i, name in enumerate(query_names):
            row: dict[str, Any] = {"query": name, "setup": setup, key: _num(s.per_query[i])}
            row |= {f"p@{k}": _num(v[i]) for k, v in s.precision_at.items()}
            rows.append(row)
    return rows


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def encoder_record(encoder: ImageEncoder) -> dict[str, Any]:
    """The encoder's fingerprint with its kind (a fingerprint without one is a run folder's)
    and the model SPEC it was opened with, when it has one."""
    fp = encoder.fingerprint()
    spec = getattr(encoder, "spec", None)
    return {"kind": fp.get("kind", "run"), **fp, **({"spec": str(spec)} if spec else {})}


def write_result(folder: Path, config: BenchmarkConfig, encoder: ImageEncoder, dataset: Dataset,
                 codes: Codes, scores: Mapping[str, SetupScores], rows: list[dict[str, Any]],
                 text: str, paper: Sequence[PaperFigure]) -> None:
    """Every file of the result folder (see the module docstring) but the figure."""
    pca = None if codes.pca is None else {k: v for k, v in codes.pca.items() if k != "model"}
    made_by = {"benchmark": config.name, "encoder": encoder_record(encoder),
               "layer": encoder.layer, "code_dim": int(encoder.dim),
               "dims": int(codes.database.shape[1]), "pca": pca}
    for name, x in (("database", codes.database), ("queries", codes.queries)):
        atomic_save_npy(folder / "codes" / f"{name}.npy", np.ascontiguousarray(x, np.float32))
    query_names = [q.name for q in dataset.queries]
    atomic_write_json(folder / "codes" / "manifest.json", {
        **provenance("benchmark-codes", **made_by), "database": list(dataset.names),
        "queries": query_names, "skipped": codes.skipped})
    if codes.pca is not None:
        from neuralcodes.postprocess.pca import save_pca

        save_pca(codes.pca["model"], folder / "codes" / "pca.npz")
    per_query = per_query_rows(query_names, scores, dataset.metric)
    atomic_write_csv(folder / "per_query.csv", per_query, list(per_query[0]), lineterminator="\n")
    atomic_write_json(folder / "per_query.json", per_query)
    atomic_write_json(folder / "results.json",
                      {**made_by, "results": rows, "paper": [vars(f) for f in paper]})
    atomic_write_text(folder / "results.md", text)
    atomic_write_json(folder / "config.json", {
        **provenance(RESULT_ARTIFACT, **made_by), "config": config.to_dict(),
        "data": dataset.summary(), "skipped": codes.skipped})
