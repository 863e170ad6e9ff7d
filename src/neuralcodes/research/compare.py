"""Two models' codes on the same retrieval task, with a paired test: is B better than A by more
than the noise?

The task is RUN_A's out-of-domain images (each queries all the others), or a labelled folder.
Both models encode the same images; per-query APs are compared with a paired bootstrap interval
of the mean difference (B minus A) and a sign-flip permutation p-value (``neuralcodes.stats``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.codesets import extract_specs, parse_specs
from neuralcodes.config import Estimator
from neuralcodes.errors import ConfigError
from neuralcodes.pipeline.prepare import open_run_data
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.folders import read_labelled_folder
from neuralcodes.research.networks import run_model
from neuralcodes.results import CodeSetScore, PairedComparison
from neuralcodes.runs import RunDir
from neuralcodes.scoring import compare_scores, score_codes
from neuralcodes.tables import ci_text, map_text, p_value_text, yes_no


@dataclass(frozen=True)
class CompareRow:
    """One code spec scored with both models, and B minus A."""

    codes: str  # "L6", "conv5-mac"
    a: CodeSetScore
    b: CodeSetScore
    b_minus_a: PairedComparison

    def to_dict(self) -> dict[str, Any]:
        return {"codes": self.codes, "a": self.a.to_dict(), "b": self.b.to_dict(),
                "b_minus_a": self.b_minus_a.to_dict()}


@dataclass(frozen=True)
class Comparison:
    """Two models (their descriptions) on one retrieval task, one row per code spec."""

    task: str
    a: str
    b: str
    estimator: Estimator
    rows: tuple[CompareRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "a": self.a, "b": self.b, "estimator": self.estimator,
                "rows": [r.to_dict() for r in self.rows]}


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    codes: Sequence[str] = ("L6",),
    data: str | Path | None = None,
    estimator: Estimator = "spec",
    n_bootstrap: int = 1000,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> Comparison:
    """Both runs' models on RUN_A's out-of-domain task (or the labelled folder ``data``)."""
    a, b = run_model(run_a), run_model(run_b)
    if a.image_size != b.image_size:
        raise ConfigError(f"the two models take different image sizes ({a.image_size} and "
                          f"{b.image_size}); compare models of the same input size")
    images, labels, task = _task(run_a, data, a.image_size, progress)
    specs = parse_specs(codes)
    encoded = [extract_specs(net.model, images, specs, batch_size=batch_size, progress=progress)
               for net in (a, b)]
    rows = []
    for spec in specs:
        sa, sb = (score_codes(c[spec.name], labels, estimator=estimator, n_bootstrap=n_bootstrap)
                  for c in encoded)
        diff = compare_scores(sb.ap, sa.ap, n_resamples=n_bootstrap)
        rows.append(CompareRow(spec.name, sa.score, sb.score, diff))
        ensure(progress).log(f"{spec.name}: A {sa.score.map:.4f}  B {sb.score.map:.4f}  "
                             f"B - A {diff.mean_diff:+.4f}")
    return Comparison(task, a.description, b.description, estimator, tuple(rows))


def _task(run_a: str | Path, data: str | Path | None, size: int,
          progress: Progress | None) -> tuple[np.ndarray, np.ndarray, str]:
    """The images (N, S, S, 3), labels (N,) and a description of the retrieval task."""
    if data is not None:
        folder = read_labelled_folder(data, size, progress=progress)
        return folder.images, folder.labels, f"labelled folder {data} ({len(folder)} images)"
    run_data = open_run_data(RunDir(Path(run_a)), progress=progress)
    ood = run_data.split.ood
    images = np.asarray(run_data.cache.images[ood])
    labels = np.asarray(run_data.cache.labels)[ood].astype(np.int64)
    return images, labels, f"out-of-domain images of {run_a} ({len(ood)} images)"


COMPARISON_HEADER = ("codes", "A mAP [95 % CI]", "B mAP [95 % CI]", "B - A", "95 % CI",
                     "p-value", "larger than the noise")


def comparison_rows(result: Comparison) -> list[tuple[str, ...]]:
    """Table rows: codes, A mAP [CI], B mAP [CI], B - A, its CI, p-value, beyond the noise."""
    return [(r.codes, map_text(r.a), map_text(r.b), f"{r.b_minus_a.mean_diff:+.4f}",
             ci_text(r.b_minus_a.ci95, signed=True), p_value_text(r.b_minus_a.p_value),
             yes_no(r.b_minus_a.significant)) for r in result.rows]
