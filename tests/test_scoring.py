"""score_codes, compare_scores and pairwise on hand-built codes."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.results import QueryExpansion
from neuralcodes.scoring import compare_scores, pairwise, score_codes

CODES = np.array([[0.0], [1.0], [3.0], [4.0]], dtype=np.float32)
LABELS = np.array([0, 1, 0, 1])  # APs 1/2, 1/3, 1/3, 1/2 (tests/test_metrics.py)


def test_score_of_a_hand_built_set() -> None:
    scored = score_codes(CODES, LABELS, precision_at=(1, 5), recall_at=(2,), n_bootstrap=0)
    s = scored.score
    np.testing.assert_allclose(scored.ap, [1 / 2, 1 / 3, 1 / 3, 1 / 2])
    assert s.map == pytest.approx(5 / 12) and (s.dims, s.n_queries, s.estimator) == (1, 4, "spec")
    assert s.precision_at == {1: 0.0} and s.recall_at == {2: pytest.approx(0.5)}  # 5 >= N left out
    assert s.ci95 is None and s.qe is None


def test_interval_and_query_expansion_are_recorded() -> None:
    s = score_codes(CODES, LABELS, qe=1, n_bootstrap=20).score
    assert s.qe == QueryExpansion(1, 0.0)
    assert s.ci95 is not None and s.ci95[0] <= s.ci95[1]


def test_paired_comparisons_leave_out_undefined_queries() -> None:
    a, b = np.array([0.5, 0.25, np.nan, 1.0]), np.array([0.25, 0.25, 0.5, 0.5])
    c = compare_scores(a, b, n_resamples=10)
    assert (c.mean_diff, c.n_queries) == (pytest.approx(0.25), 3)
    named = pairwise({"x": a, "y": b}, ["x:y", "x:z"], n_resamples=10)
    assert [(p.a, p.b) for p in named] == [("x", "y")] and named[0].mean_diff == c.mean_diff
