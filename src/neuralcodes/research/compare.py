"""Two models' codes on the same retrieval task, with a paired test: is B better than A by more
than the noise?

The task is RUN_A's out-of-domain images (each queries all the others), or a labelled folder.
Both models encode the same images; per-query APs are compared with a paired bootstrap interval
of the mean difference (B minus A) and a sign-flip permutation p-value (``neuralcodes.stats``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.codesets import extract_specs, parse_specs
from neuralcodes.errors import ConfigError
from neuralcodes.pipeline.prepare import open_run_data
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.folders import read_labelled_folder
from neuralcodes.research.networks import run_model
from neuralcodes.runs import RunDir
from neuralcodes.scoring import compare_scores, score_codes


def compare_runs(
    run_a: str | Path,
    run_b: str | Path,
    *,
    codes: Sequence[str] = ("L6",),
    data: str | Path | None = None,
    estimator: str = "spec",
    n_bootstrap: int = 1000,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``{"task": ..., "a": ..., "b": ..., "rows": [...]}``, one row per code spec."""
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
        scored = [score_codes(c[spec.name], labels, estimator=estimator, n_bootstrap=n_bootstrap)
                  for c in encoded]
        diff = compare_scores(scored[1].ap, scored[0].ap, n_resamples=n_bootstrap)
        rows.append({"codes": spec.name, "a": scored[0].summary, "b": scored[1].summary,
                     "b_minus_a": diff})
        ensure(progress).log(f"{spec.name}: A {scored[0].summary['map']:.4f}  "
                             f"B {scored[1].summary['map']:.4f}  B - A {diff['mean_diff']:+.4f}")
    return {"task": task, "a": a.description, "b": b.description, "estimator": estimator,
            "rows": rows}


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


def comparison_rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    """Table rows: codes, A mAP [CI], B mAP [CI], B - A, its CI, p-value, beyond the noise."""
    out: list[tuple[str, ...]] = []
    for r in result["rows"]:
        d = r["b_minus_a"]
        out.append((r["codes"], _map_text(r["a"]), _map_text(r["b"]), f"{d['mean_diff']:+.4f}",
                    f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]", f"{d['p_value']:.4f}",
                    "yes" if d["significant"] else "no"))
    return out


COMPARISON_HEADER = ("codes", "A mAP [95 % CI]", "B mAP [95 % CI]", "B - A", "95 % CI",
                     "p-value", "larger than the noise")


def _map_text(s: dict[str, Any]) -> str:
    ci = s.get("ci95")
    return f"{s['map']:.4f}" + (f" [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else "")
