"""Sweeps: layer x pooling x PCA dimensions x whitening x query expansion, on one run's codes.

Every combination is scored on the run's out-of-domain retrieval task (each image queries all
the others) with its 95 % bootstrap interval; PCA is fitted on the run's held-out fit set (never
the database unless the run asked for it). Codes are extracted once per spec and cached
(``research.codecache``), so a second sweep costs only the scoring. Bytes per image are those of
float32 codes: 4 x dimensions.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.codesets import parse_specs
from neuralcodes.config import Estimator
from neuralcodes.errors import ConfigError
from neuralcodes.postprocess.pca import apply_pca, fit_pca
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.codecache import RunCodes, run_codes
from neuralcodes.scoring import score_codes

DEFAULT_DIMS = (16, 32, 64, 128, 256, 512)


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
    dims: Sequence[int] = DEFAULT_DIMS,
    whiten: Sequence[bool] = (False,),
    qe: Sequence[int] = (0,),
    qe_alpha: float = 0.0,
    estimator: Estimator = "spec",
    n_bootstrap: int = 1000,
    progress: Progress | None = None,
) -> list[SweepRow]:
    """Score every combination; ``codes`` are specs ("L6", "conv5:spoc", "conv4:gem")."""
    if any(n < 0 for n in qe) or any(d < 1 for d in dims):
        raise ConfigError(f"dims must be >= 1 and qe >= 0; got dims {list(dims)}, qe {list(qe)}")
    found = run_codes(run_dir, parse_specs(codes), progress=progress)
    combos = list(_combinations(found, dims, whiten, qe))
    rows = []
    for name, d, w, n in ensure(progress).track(combos, len(combos), desc="sweep"):
        x = _compress(found, name, d, w)
        s = score_codes(x, found.labels, precision_at=(), recall_at=(), estimator=estimator,
                        qe=n, qe_alpha=qe_alpha, n_bootstrap=n_bootstrap).score
        low, high = s.ci95 or (float("nan"), float("nan"))
        rows.append(SweepRow(name, x.shape[1], d is not None, w, n, s.map, low, high))
    return rows


def _combinations(found: RunCodes, dims: Sequence[int], whiten: Sequence[bool],
                  qe: Sequence[int]) -> Iterator[tuple[str, int | None, bool, int]]:
    """(codes, PCA dims or None for the full code, whiten, qe) for every possible setting."""
    for name, ood in found.ood.items():
        fit = found.fit[name]
        limit = min(fit.shape[0] - 1, ood.shape[1])  # the most PCA components possible
        for n in qe:
            yield name, None, False, n
            for d in sorted(set(dims)):
                if d <= limit and d < ood.shape[1]:
                    for w in whiten:
                        yield name, d, bool(w), n


def _compress(found: RunCodes, name: str, dims: int | None, whiten: bool) -> np.ndarray:
    if dims is None:
        return found.ood[name]
    pca = fit_pca(found.fit[name], dims, whiten=whiten, fitted_on={"split": found.fit_on})
    return apply_pca(pca, found.ood[name])  # (N, dims)
