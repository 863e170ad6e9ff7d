"""Sweeps: layer x pooling x PCA dimensions x whitening x query expansion, on one run's codes.

Every combination is scored on the run's out-of-domain retrieval task (each image queries all
the others) with its 95 % bootstrap interval; PCA is fitted on the run's held-out fit set (never
the database unless the run asked for it) and scored by the retrieval step's ``pca_curve``, so
both give the same numbers. Codes are extracted once per spec and cached
(``research.codecache``), so a second sweep costs only the scoring. Bytes per image are those of
float32 codes: 4 x dimensions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from neuralcodes.codesets import parse_specs
from neuralcodes.config import Estimator
from neuralcodes.errors import ConfigError
from neuralcodes.pipeline.retrieval_steps import pca_curve
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.codecache import RunCodes, run_codes
from neuralcodes.runs import RunDir, load_config
from neuralcodes.scoring import score_codes
from neuralcodes.stats import max_pca_dims

NO_CI = (float("nan"), float("nan"))  # the interval of a row scored without a bootstrap


@dataclass(frozen=True)
class SweepRow:
    codes: str  # "L6", "conv5-spoc"
    dims: int
    pca: bool  # False: the full code
    whiten: bool
    qe: int  # query expansion with the top qe results (0: none)
    map: float
    ci_low: float
    ci_high: float

    @property
    def bytes_per_image(self) -> int:
        return 4 * self.dims  # float32

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "bytes_per_image": self.bytes_per_image}


def sweep(
    run_dir: str | Path,
    *,
    codes: Sequence[str] = ("L5", "L6", "L7"),
    dims: Sequence[int] | None = None,
    whiten: Sequence[bool] = (False,),
    qe: Sequence[int] = (0,),
    qe_alpha: float = 0.0,
    estimator: Estimator = "spec",
    n_bootstrap: int = 1000,
    progress: Progress | None = None,
) -> list[SweepRow]:
    """Score every combination; ``codes`` are specs ("L6", "conv5:spoc", "conv4:gem"), ``dims``
    the PCA sizes (default: the run's, ``retrieval.pca_dims``)."""
    if dims is None:
        dims = load_config(RunDir(Path(run_dir))).retrieval.pca_dims
    if any(n < 0 for n in qe) or any(d < 1 for d in dims):
        raise ConfigError(f"dims must be >= 1 and qe >= 0; got dims {list(dims)}, qe {list(qe)}")
    found = run_codes(run_dir, parse_specs(codes), progress=progress)
    jobs = [(name, n) for name in found.ood for n in qe]
    rows = []
    for name, n in ensure(progress).track(jobs, len(jobs), desc="sweep"):
        rows += _rows(found, name, sorted(set(dims)), whiten, n, qe_alpha=qe_alpha,
                      estimator=estimator, n_bootstrap=n_bootstrap)
    return rows


def _rows(found: RunCodes, name: str, dims: Sequence[int], whiten: Sequence[bool], qe: int, *,
          qe_alpha: float, estimator: Estimator, n_bootstrap: int) -> list[SweepRow]:
    """One code set with query expansion ``qe``: the full code, then each PCA size that the fit
    set allows and that compresses (below D), with each whitening."""
    ood, fit = found.ood[name], found.fit[name]
    full = score_codes(ood, found.labels, precision_at=(), recall_at=(), estimator=estimator,
                       qe=qe, qe_alpha=qe_alpha, n_bootstrap=n_bootstrap).score
    rows = [SweepRow(name, ood.shape[1], False, False, qe, full.map, *(full.ci95 or NO_CI))]
    sizes = [d for d in dims if d <= max_pca_dims(*fit.shape) and d < ood.shape[1]]
    curves = [pca_curve(fit, ood, found.labels, sizes, whiten=bool(w), estimator=estimator,
                        qe=qe, qe_alpha=qe_alpha, n_bootstrap=n_bootstrap) for w in whiten]
    for d in sizes:
        rows += [SweepRow(name, d, True, bool(w), qe, curve.map_at[d], *curve.ci95.get(d, NO_CI))
                 for w, curve in zip(whiten, curves, strict=True)]
    return rows
