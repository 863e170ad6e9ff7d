"""Training recipes side by side: the same experiment (same data, split and seed) once per
recipe, and one table of test accuracy and out-of-domain mAP, each recipe paired against the
first (the notebook's, by default) on the same queries.

Each recipe runs in ``OUT/<recipe>/`` as a normal run folder; a folder that already holds the
finished run of the same configuration is reused, not retrained, so an interrupted comparison
continues where it stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.config import RunConfig
from neuralcodes.config import replace as cfg_replace
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.pipeline.experiment import run_experiment
from neuralcodes.presets import DEMO, resolve
from neuralcodes.progress import Progress, ensure
from neuralcodes.results import CodeSetScore, PairedComparison, SplitEvaluation
from neuralcodes.runs import RunDir, check_same_config, load_code_sets, read_metrics
from neuralcodes.scoring import compare_scores, score_codes
from neuralcodes.tables import diff_text, map_text


def recipe_config(base: RunConfig, recipe: str) -> RunConfig:
    """``base`` with the recipe applied, as ``neuralcodes demo --recipe`` resolves it."""
    return resolve(cfg_replace(base, **{"train.recipe": recipe}))


def _finished(run: RunDir, cfg: RunConfig) -> bool:
    if not (run.model.exists() and run.codes_manifest.exists()):
        return False
    try:
        check_same_config(run, cfg)
    except (ArtifactMismatchError, DataError):
        return False
    return "evaluation" in read_metrics(run)


@dataclass(frozen=True)
class RecipeRow:
    """One recipe's run: test accuracy, each layer's OOD retrieval score, and (for every recipe
    but the reference) each layer's paired difference to the reference."""

    epochs: int | None
    test_accuracy: float
    test_top5: float
    map: dict[str, CodeSetScore]  # layer -> score
    vs: dict[str, PairedComparison] | None = None  # layer -> this recipe minus the reference

    def to_dict(self) -> dict[str, Any]:
        out = {"epochs": self.epochs, "test_accuracy": self.test_accuracy,
               "test_top5": self.test_top5, "map": {k: s.to_dict() for k, s in self.map.items()}}
        return out if self.vs is None else {**out, "vs": {k: c.to_dict()
                                                          for k, c in self.vs.items()}}


@dataclass(frozen=True)
class RecipesResult:
    reference: str  # the recipe the others are paired against
    layers: tuple[str, ...]
    recipes: dict[str, RecipeRow]

    def to_dict(self) -> dict[str, Any]:
        return {"reference": self.reference, "layers": list(self.layers),
                "recipes": {k: r.to_dict() for k, r in self.recipes.items()}}


def run_recipes(
    out_dir: str | Path,
    recipes: Sequence[str] = ("notebook", "improved"),
    *,
    base: RunConfig = DEMO,
    layers: Sequence[str] = ("L5", "L6", "L7"),
    n_bootstrap: int = 1000,
    progress: Progress | None = None,
) -> RecipesResult:
    """Run (or reuse) each recipe's experiment, then pair each recipe against the first."""
    out = Path(out_dir)
    configs = {recipe: recipe_config(base, recipe) for recipe in recipes}  # all checked first
    aps: dict[str, dict[str, np.ndarray]] = {}
    rows: dict[str, RecipeRow] = {}
    for recipe, cfg in configs.items():
        run = RunDir(out / recipe)
        if _finished(run, cfg):
            ensure(progress).log(f"{recipe}: reusing the finished run in {run.root}")
        else:
            ensure(progress).log(f"{recipe}: running the experiment in {run.root}")
            run_experiment(run.root, cfg, progress=progress)
        rows[recipe], aps[recipe] = _recipe_row(run, layers, n_bootstrap)
    first = recipes[0]
    for recipe in recipes[1:]:
        vs = {layer: compare_scores(aps[recipe][layer], aps[first][layer],
                                    n_resamples=n_bootstrap) for layer in layers}
        rows[recipe] = replace(rows[recipe], vs=vs)
    return RecipesResult(first, tuple(layers), rows)


def _recipe_row(run: RunDir, layers: Sequence[str],
                n_bootstrap: int) -> tuple[RecipeRow, dict[str, np.ndarray]]:
    metrics = read_metrics(run)
    sets, labels = load_code_sets(run)
    scored = {layer: score_codes(np.asarray(sets[f"ood_{layer}"]), labels,
                                 n_bootstrap=n_bootstrap) for layer in layers}
    test = SplitEvaluation.from_dict(metrics["evaluation"]["test"])
    row = RecipeRow(metrics.get("training", {}).get("epochs"), test.accuracy, test.top5,
                    {k: s.score for k, s in scored.items()})
    return row, {k: s.ap for k, s in scored.items()}


def recipes_table(result: RecipesResult) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows): accuracy, mAP [CI] per layer, and the difference to the reference."""
    layers, ref = result.layers, result.reference
    header = ("recipe", "epochs", "test accuracy", "test top-5",
              *(f"{layer} mAP [95 % CI]" for layer in layers),
              *(f"{layer} vs {ref} (diff [95 % CI], p)" for layer in layers))
    body = []
    for name, r in result.recipes.items():
        maps = [map_text(r.map[layer]) for layer in layers]
        vs = [diff_text(r.vs[layer]) if r.vs else "–" for layer in layers]
        body.append((name, str(r.epochs), f"{r.test_accuracy:.3f}", f"{r.test_top5:.3f}",
                     *maps, *vs))
    return header, body
