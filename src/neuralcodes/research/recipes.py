"""Training recipes side by side: the same experiment (same data, split and seed) once per
recipe, and one table of test accuracy and out-of-domain mAP, each recipe paired against the
first (the notebook's, by default) on the same queries.

Each recipe runs in ``OUT/<recipe>/`` as a normal run folder; a folder that already holds the
finished run of the same configuration is reused, not retrained, so an interrupted comparison
continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.config import RunConfig, replace
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.pipeline.experiment import run_experiment
from neuralcodes.presets import DEMO, resolve
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import RunDir, check_same_config, load_code_sets, read_metrics
from neuralcodes.scoring import compare_scores, score_codes


def recipe_config(base: RunConfig, recipe: str) -> RunConfig:
    """``base`` with the recipe applied, as ``neuralcodes demo --recipe`` resolves it."""
    return resolve(replace(base, **{"train.recipe": recipe}))


def _finished(run: RunDir, cfg: RunConfig) -> bool:
    if not (run.model.exists() and (run.codes / "manifest.json").exists()):
        return False
    try:
        check_same_config(run, cfg)
    except (ArtifactMismatchError, DataError):
        return False
    return "evaluation" in read_metrics(run)


def run_recipes(
    out_dir: str | Path,
    recipes: Sequence[str] = ("notebook", "improved"),
    *,
    base: RunConfig = DEMO,
    layers: Sequence[str] = ("L5", "L6", "L7"),
    n_bootstrap: int = 1000,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run (or reuse) each recipe's experiment; returns ``{"recipes": {name: row}}``."""
    out = Path(out_dir)
    aps: dict[str, dict[str, np.ndarray]] = {}
    rows: dict[str, dict[str, Any]] = {}
    for recipe in recipes:
        run, cfg = RunDir(out / recipe), recipe_config(base, recipe)
        if _finished(run, cfg):
            ensure(progress).log(f"{recipe}: reusing the finished run in {run.root}")
        else:
            ensure(progress).log(f"{recipe}: running the experiment in {run.root}")
            run_experiment(run.root, cfg, progress=progress)
        rows[recipe], aps[recipe] = _recipe_row(run, layers, n_bootstrap)
    first = recipes[0]
    for recipe in recipes[1:]:
        rows[recipe]["vs"] = {layer: compare_scores(aps[recipe][layer], aps[first][layer],
                                                    n_resamples=n_bootstrap)
                              for layer in layers}
    return {"reference": first, "layers": list(layers), "recipes": rows}


def _recipe_row(run: RunDir, layers: Sequence[str],
                n_bootstrap: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    metrics = read_metrics(run)
    sets, labels = load_code_sets(run)
    scored = {layer: score_codes(np.asarray(sets[f"ood_{layer}"]), labels,
                                 n_bootstrap=n_bootstrap) for layer in layers}
    row = {"epochs": metrics.get("training", {}).get("epochs"),
           "test_accuracy": metrics["evaluation"]["test"]["accuracy"],
           "test_top5": metrics["evaluation"]["test"]["top5"],
           "map": {k: {"map": s.summary["map"], "ci95": s.summary.get("ci95")}
                   for k, s in scored.items()}}
    return row, {k: s.ap for k, s in scored.items()}


def recipes_table(result: dict[str, Any]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows): accuracy, mAP [CI] per layer, and the difference to the reference."""
    layers, ref = result["layers"], result["reference"]
    header = ("recipe", "epochs", "test accuracy", "test top-5",
              *(f"{layer} mAP [95 % CI]" for layer in layers),
              *(f"{layer} vs {ref} (diff [95 % CI], p)" for layer in layers))
    body = []
    for name, r in result["recipes"].items():
        maps = [_with_ci(r["map"][layer]) for layer in layers]
        vs = [_diff(r["vs"][layer]) if "vs" in r else "–" for layer in layers]
        body.append((name, str(r["epochs"]), f"{r['test_accuracy']:.3f}",
                     f"{r['test_top5']:.3f}", *maps, *vs))
    return header, body


def _with_ci(m: dict[str, Any]) -> str:
    ci = m.get("ci95")
    return f"{m['map']:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")


def _diff(d: dict[str, Any]) -> str:
    return (f"{d['mean_diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}], "
            f"p={d['p_value']:.3f}")
