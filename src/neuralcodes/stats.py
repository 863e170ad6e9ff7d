"""Is a difference in mAP larger than the noise? Bootstrap intervals and paired tests over queries.

Retrieval scores are means over queries, so their uncertainty comes from which queries happened to
be drawn. Both functions resample queries (the unit of evaluation) with a seeded generator, so
the same inputs and seed always give the same numbers. ``max_pca_dims``: the most components a
PCA fitted on a given set can keep (every PCA size is checked against it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neuralcodes.errors import ConfigError


@dataclass(frozen=True)
class PairedResult:
    """Method A minus method B over the same queries."""

    mean_diff: float  # mean over queries of a - b
    ci_low: float  # percentile bootstrap interval of the mean difference
    ci_high: float
    p_value: float  # two-sided sign-flip permutation test of "no difference"


def max_pca_dims(n: int, d: int) -> int:
    """The most principal components of ``n`` samples of ``d`` dimensions: centred, they have
    rank at most ``min(n - 1, d)`` (centring costs one degree of freedom)."""
    return min(n - 1, d)


def _per_query(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ConfigError(f"{name}: expected a non-empty (Q,) array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ConfigError(f"{name}: contains NaN or infinite values (drop undefined queries first)")
    return arr


def _chunks(n_resamples: int, size: int) -> list[tuple[int, int]]:
    """``(start, stop)`` runs of resamples of ``size`` values each, ~4M values a chunk."""
    chunk = max(1, 4_000_000 // size)
    return [(s, min(s + chunk, n_resamples)) for s in range(0, n_resamples, chunk)]


def _bootstrap_interval(
    values: np.ndarray, n_resamples: int, confidence: float, rng: np.random.Generator
) -> tuple[float, float]:
    """Percentile interval of the means of ``n_resamples`` resamples with replacement."""
    if n_resamples < 1:
        raise ConfigError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ConfigError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    means = np.empty(n_resamples, dtype=np.float64)
    for start, stop in _chunks(n_resamples, values.size):
        idx = rng.integers(0, values.size, size=(stop - start, values.size))  # (c, Q)
        means[start:stop] = values[idx].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def bootstrap_ci(
    per_query: np.ndarray, *, n_resamples: int = 1000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval ``(low, high)`` of the mean of ``per_query`` (Q,)."""
    values = _per_query(per_query, "per_query")
    return _bootstrap_interval(values, n_resamples, confidence, np.random.default_rng(seed))


def paired_comparison(
    a_per_query: np.ndarray,
    b_per_query: np.ndarray,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> PairedResult:
    """Compare two methods scored on the same queries (e.g. per-query AP of L6 and of L7).

    The interval is a paired percentile bootstrap of the mean difference; the p-value is a
    sign-flip permutation test (under "no difference" each query's difference is as likely to
    have either sign), with the observed statistic counted once: ``(1 + #extreme) / (1 + n)``.
    """
    a = _per_query(a_per_query, "a_per_query")
    b = _per_query(b_per_query, "b_per_query")
    if a.shape != b.shape:
        raise ConfigError(f"paired scores need the same queries: shapes {a.shape} and {b.shape}")
    diff = a - b  # (Q,)
    rng = np.random.default_rng(seed)
    low, high = _bootstrap_interval(diff, n_resamples, confidence, rng)
    observed = abs(diff.mean())
    extreme = 0
    for start, stop in _chunks(n_resamples, diff.size):
        signs = rng.choice(np.array([-1.0, 1.0]), size=(stop - start, diff.size))
        extreme += int((np.abs((signs * diff).mean(axis=1)) >= observed - 1e-12).sum())
    return PairedResult(float(diff.mean()), low, high, (1 + extreme) / (1 + n_resamples))
