"""One code set -> honest retrieval numbers: mAP with a 95 % bootstrap interval, precision@k,
recall@k, per-class AP, and the per-query APs that paired comparisons need.

Every experiment-level caller (the retrieval step, sweeps, comparisons, folder retrieval) scores
through ``score_codes``, so the estimator, the interval and query expansion mean the same thing
everywhere. Values of k that a small database cannot reach (k >= N) are left out, not errors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from neuralcodes.config import Estimator
from neuralcodes.metrics import RetrievalScores, retrieval_scores
from neuralcodes.postprocess.query_expansion import qe_scores
from neuralcodes.results import CodeSetScore, PairedComparison, QueryExpansion
from neuralcodes.stats import bootstrap_ci, paired_comparison


@dataclass(frozen=True, eq=False)
class Scored:
    """A code set's scores and its per-query AP (N,) (NaN where undefined)."""

    score: CodeSetScore
    ap: np.ndarray


def score_codes(
    codes: np.ndarray,
    labels: np.ndarray,
    *,
    precision_at: Sequence[int] = (1, 5, 10, 100),
    recall_at: Sequence[int] = (10, 100),
    estimator: Estimator = "spec",
    qe: int = 0,
    qe_alpha: float = 0.0,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> Scored:
    """Leave-one-out retrieval scores of ``codes`` (N, D) with ``labels`` (N,), optionally with
    query expansion (``qe`` > 0 results averaged into each query, alpha-QE if ``qe_alpha`` > 0)."""
    x = np.ascontiguousarray(codes, dtype=np.float32)  # (N, D)
    n = len(labels)
    ps, rs = [k for k in precision_at if k < n], [k for k in recall_at if k < n]
    s: RetrievalScores = (
        qe_scores(x, labels, n=qe, alpha=qe_alpha, precision_at=ps, recall_at=rs,
                  estimator=estimator) if qe
        else retrieval_scores(x, labels, precision_at=ps, recall_at=rs, estimator=estimator))
    ci = (bootstrap_ci(s.ap[np.isfinite(s.ap)], n_resamples=n_bootstrap, seed=seed)
          if n_bootstrap else None)
    return Scored(CodeSetScore(
        map=s.map, dims=int(x.shape[1]), n_queries=s.n_queries, estimator=estimator,
        precision_at=s.precision_at, recall_at=s.recall_at, per_class_ap=s.per_class_ap,
        qe=QueryExpansion(int(qe), float(qe_alpha)) if qe else None, ci95=ci), s.ap)


def compare_scores(a: np.ndarray, b: np.ndarray, *, n_resamples: int = 1000,
                   seed: int = 0) -> PairedComparison:
    """Paired comparison of per-query APs ``a`` and ``b`` (same queries): a minus b, its 95 %
    interval and the sign-flip p-value. Queries undefined in either are left out."""
    ok = np.isfinite(a) & np.isfinite(b)
    r = paired_comparison(a[ok], b[ok], n_resamples=max(n_resamples, 1), seed=seed)
    return PairedComparison(r.mean_diff, (r.ci_low, r.ci_high), r.p_value, int(ok.sum()))


def pairwise(aps: Mapping[str, np.ndarray], pairs: Sequence[str], *,
             n_resamples: int = 1000) -> list[PairedComparison]:
    """``compare_scores`` for each "a:b" of ``pairs`` whose two sides are both in ``aps``."""
    out = []
    for pair in pairs:
        a, _, b = pair.partition(":")
        if a in aps and b in aps:
            out.append(replace(compare_scores(aps[a], aps[b], n_resamples=n_resamples), a=a, b=b))
    return out
