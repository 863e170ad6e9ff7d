"""Query expansion on a tiny index with exact expected vectors, and the leave-one-out scores."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.metrics import average_precision, retrieval_scores
from neuralcodes.postprocess.query_expansion import expand_queries, qe_scores
from neuralcodes.search import knn

DB = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [-1.0, 0.0]], dtype=np.float32)


def test_average_query_expansion_exact() -> None:
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    ids = np.array([[2, 1, 3]])
    # q + DB[2] + DB[1] = (1.6, 1.8) -> normalised
    expected = np.array([[1.6, 1.8]]) / np.hypot(1.6, 1.8)
    np.testing.assert_allclose(expand_queries(q, DB, ids, n=2), expected, rtol=1e-6)
    np.testing.assert_allclose(expand_queries(q, DB, ids, n=0), q)


def test_alpha_query_expansion_exact() -> None:
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    ids = np.array([[2, 1, 3]])
    # sims 0.6, 0, -1 -> weights 0.36, 0, 0 (negative clamped): q + 0.36 * (0.6, 0.8)
    v = np.array([1.0 + 0.36 * 0.6, 0.36 * 0.8])
    out = expand_queries(q, DB, ids, n=3, alpha=2.0)
    np.testing.assert_allclose(out, [v / np.linalg.norm(v)], rtol=1e-6)


def test_qe_scores_leave_the_query_out() -> None:
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((60, 5)).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    labels = rng.integers(0, 3, 60)
    s = qe_scores(codes, labels, n=3, precision_at=(1,), recall_at=(1,))
    _, ids = knn(codes, codes, 3, exclude=np.arange(60))
    assert not (ids == np.arange(60)[:, None]).any()
    q = expand_queries(codes, codes, ids, n=3).astype(np.float64)
    rels = []
    for i in range(60):
        order = np.argsort(((codes - q[i]) ** 2).sum(axis=1), kind="stable")
        rels.append(labels[order[order != i]] == labels[i])
    np.testing.assert_allclose(s.ap, average_precision(np.array(rels)), atol=1e-6)
    plain = qe_scores(codes, labels, n=0, precision_at=(1,), recall_at=(1,))
    assert plain.map == retrieval_scores(codes, labels, precision_at=(1,), recall_at=(1,)).map


def test_errors() -> None:
    q = DB[:1]
    with pytest.raises(ConfigError, match="n=4"):
        expand_queries(q, DB, np.array([[1, 2, 3]]), n=4)
    with pytest.raises(ConfigError, match="0..3"):
        expand_queries(q, DB, np.array([[-1, 2]]), n=2)
    with pytest.raises(ConfigError, match="alpha"):
        expand_queries(q, DB, np.array([[1]]), n=1, alpha=-1.0)
