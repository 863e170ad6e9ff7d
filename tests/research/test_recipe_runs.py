"""Recipes side by side: one run per recipe, reused when finished, paired against the first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from neuralcodes.config import RunConfig
from neuralcodes.research.recipes import recipe_config, recipes_table, run_recipes


@pytest.mark.slow
def test_two_recipes_table_and_reuse(tiny_dataset: Path, tmp_path: Path,
                                     make_config: Callable[..., RunConfig]) -> None:
    base = make_config(tiny_dataset, **{"retrieval.qe": 0, "retrieval.pooled": ()})
    result = run_recipes(tmp_path, ["notebook", "wd"], base=base, n_bootstrap=50)
    assert recipe_config(base, "wd").train.weight_decay > 0
    rows = result.recipes
    assert set(rows) == {"notebook", "wd"} and rows["notebook"].vs is None
    diff = rows["wd"].vs["L6"]
    assert diff.mean_diff == pytest.approx(rows["wd"].map["L6"].map
                                           - rows["notebook"].map["L6"].map, abs=1e-12)
    header, body = recipes_table(result)
    assert header[:4] == ("recipe", "epochs", "test accuracy", "test top-5")
    assert body[0][-1] == "–" and body[1][0] == "wd"
    stamp = (tmp_path / "wd" / "model.pt").stat().st_mtime_ns
    again = run_recipes(tmp_path, ["notebook", "wd"], base=base, n_bootstrap=50)
    assert (tmp_path / "wd" / "model.pt").stat().st_mtime_ns == stamp  # reused, not retrained
    assert again.recipes["wd"].map == rows["wd"].map
