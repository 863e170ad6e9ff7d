"""The benchmarks' own scores, computed as their official evaluation code computes them.

* AP (Holidays' ``holidays_map.py``, Oxford's ``compute_ap.cpp``, revisitop's ``compute_ap``):
  junk images are removed from the ranked list; with ``r_j`` the 0-based position of the j-th
  relevant image (j = 0, 1, ...) in what remains, each relevant image adds one recall step
  ``1/P`` times the mean of the precision just before it, ``j / r_j`` (1 when ``r_j = 0``), and
  just after it, ``(j + 1) / (r_j + 1)``. ``P`` is the number of relevant images the ground
  truth names, so one that is never ranked lowers the AP.
* mP@k (revisitop's ``compute_map``): with the 1-based positions ``p`` of the relevant images
  after junk removal, ``k' = min(max(p), k)`` and ``P@k = #{p <= k'} / k'`` (so a query whose
  relevant images all rank above k is not penalised for having fewer than k of them).
* N-S (UKBench): the number of the query's group among its first 4 results (itself included).

A query without any relevant image (``P = 0``) has no score: NaN, left out of the means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from neuralcodes.benchmarks.dataset import Dataset, Relevance

PRECISION_AT = (1, 5, 10)  # revisitop's kappas
NS_DEPTH = 4  # UKBench: the first 4 results


@dataclass(frozen=True)
class SetupScores:
    """Per-query scores of one setup ("all", or Easy / Medium / Hard)."""

    setup: str
    per_query: np.ndarray  # (Q,) float64: AP, or N-S hits; NaN where nothing is relevant
    precision_at: dict[int, np.ndarray] = field(default_factory=dict)  # k -> (Q,) (revisited)

    @property
    def mean(self) -> float:
        ok = np.isfinite(self.per_query)
        return float(self.per_query[ok].mean()) if ok.any() else float("nan")


def _positions(ranking: np.ndarray, rel: Relevance) -> np.ndarray:
    """0-based positions (P',) of the relevant images in ``ranking`` once junk is removed."""
    kept = ranking[~np.isin(ranking, rel.junk)]  # (n',)
    return np.flatnonzero(np.isin(kept, rel.positives))


def average_precision(ranking: np.ndarray, rel: Relevance) -> float:
    """AP of one ranked list (n,) of database ids (see the module docstring)."""
    if rel.n_positives == 0:
        return float("nan")
    r = _positions(ranking, rel).astype(np.float64)  # (P',)
    j = np.arange(len(r), dtype=np.float64)
    before = np.where(r == 0, 1.0, j / np.maximum(r, 1.0))
    after = (j + 1.0) / (r + 1.0)
    return float(((before + after) / 2.0).sum() / rel.n_positives)


def precision_at(ranking: np.ndarray, rel: Relevance, ks: Sequence[int]) -> np.ndarray:
    """revisitop's precision at each k of ``ks`` (len(ks),); NaN where nothing is relevant."""
    if rel.n_positives == 0:
        return np.full(len(ks), np.nan)
    p = _positions(ranking, rel) + 1  # (P',) 1-based
    if p.size == 0:
        return np.zeros(len(ks))
    out = np.empty(len(ks))
    for i, k in enumerate(ks):
        kq = min(int(p.max()), int(k))
        out[i] = (p <= kq).sum() / kq
    return out


def ns_hits(top: np.ndarray, rel: Relevance) -> float:
    """How many of the group's images are among the first ``NS_DEPTH`` results ``top``."""
    return float(np.isin(top[:NS_DEPTH], rel.positives).sum())


def score(dataset: Dataset, rankings: np.ndarray) -> dict[str, SetupScores]:
    """Every setup's per-query scores from the rankings (Q, n) (database ids, best first)."""
    out: dict[str, SetupScores] = {}
    for setup, truth in dataset.truth.items():
        if dataset.metric == "ns":
            values = np.array([ns_hits(r, t) for r, t in zip(rankings, truth, strict=True)])
            out[setup] = SetupScores(setup, values)
            continue
        ap = np.array([average_precision(r, t) for r, t in zip(rankings, truth, strict=True)])
        prec: dict[int, np.ndarray] = {}
        if dataset.metric == "revisited":
            table = np.array([precision_at(r, t, PRECISION_AT)
                              for r, t in zip(rankings, truth, strict=True)])  # (Q, len(ks))
            prec = {k: table[:, i] for i, k in enumerate(PRECISION_AT)}
        out[setup] = SetupScores(setup, ap, prec)
    return out
