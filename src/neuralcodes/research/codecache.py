"""Code sets of a run for research tools, extracted once and cached in the run's codes/ folder.

The codes step's sets (codes/manifest.json) are used as they are; any other spec (another layer,
a pooled conv map) is extracted once from the run's out-of-domain images and PCA-fit images and
saved beside them, listed in the run's extra code sets with the hash of the model they came from
(``neuralcodes.runs.save_extra_code_sets``; a changed model.pt makes them stale: re-extracted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralcodes.codesets import CodeSpec
from neuralcodes.model import load_model
from neuralcodes.pipeline.prepare import open_run_data
from neuralcodes.pipeline.retrieval_steps import extract_sets
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import (
    RunDir,
    extra_code_sets,
    load_code_set,
    load_code_sets,
    load_config,
    save_extra_code_sets,
)


@dataclass(frozen=True, eq=False)
class RunCodes:
    """Each spec's out-of-domain codes (N, D), its PCA-fit codes (M, D) and the labels (N,)."""

    ood: dict[str, np.ndarray]
    fit: dict[str, np.ndarray]
    labels: np.ndarray


def run_codes(run_dir: str | Path, specs: Sequence[CodeSpec], *,
              progress: Progress | None = None) -> RunCodes:
    """The codes of ``specs`` on a run's OOD images, from codes/ or extracted (and cached)."""
    run = RunDir(Path(run_dir))
    run_cfg = load_config(run)
    sets, labels = load_code_sets(run)
    loaded = load_model(run.model)
    model_hash = loaded.header["model_hash"]
    cached = extra_code_sets(run, model_hash)
    missing = [s for s in specs if f"ood_{s.name}" not in sets and s.name not in cached]
    if missing:
        new = extract_sets(loaded.model, open_run_data(run, progress=progress), missing, run_cfg,
                           progress)
        cached |= {s.name for s in missing}
        save_extra_code_sets(run, new, cached, model_hash)
        ensure(progress).log(f"cached codes of {', '.join(s.name for s in missing)} in "
                             f"{run.codes}")
    on_db = run_cfg.retrieval.pca_fit_on == "database"
    ood, fit = {}, {}
    for s in specs:
        ood[s.name] = np.asarray(load_code_set(run, f"ood_{s.name}", model_hash))
        fit[s.name] = ood[s.name] if on_db else np.asarray(
            load_code_set(run, f"test_{s.name}", model_hash))
    return RunCodes(ood, fit, labels)

