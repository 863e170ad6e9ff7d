"""AP, mAP, precision@k and recall@k: hand-worked cases and a brute-force float64 reference."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.metrics import average_precision, retrieval_scores


def _reference(codes: np.ndarray, labels: np.ndarray, estimator: str = "spec"):
    """Loop over queries: float64 distances, stable argsort (ties by id), the SPEC formula."""
    x = codes.astype(np.float64)
    rels = []
    for i in range(len(x)):
        d = np.sqrt(((x - x[i]) ** 2).sum(axis=1))
        order = np.argsort(d, kind="stable")
        order = order[order != i]
        rels.append(labels[order] == labels[i])
    rel = np.array(rels)  # (N, N - 1)
    return average_precision(rel, estimator), rel


def test_ap_hand_worked_spec() -> None:
    rel = np.array([[1, 0, 1, 0], [1, 1, 1, 1], [0, 0, 1, 0], [0, 1, 0, 0]], dtype=bool)
    np.testing.assert_allclose(average_precision(rel), [(1 + 2 / 3) / 2, 1.0, 1 / 3, 1 / 2])


def test_ap_hand_worked_trapezoid() -> None:
    rel = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0]], dtype=bool)
    # [1,0,1,0]: (1+1)/2 for the first, (1/2 + 2/3)/2 for the second -> (1 + 7/12) / 2
    # [0,1,0,0]: (0/1 + 1/2)/2 ; [1,1,0,0]: every precision is 1
    expected = [(1 + 7 / 12) / 2, 1 / 4, 1.0]
    np.testing.assert_allclose(average_precision(rel, "trapezoid"), expected)


def test_ap_without_relevant_items_is_nan() -> None:
    assert np.isnan(average_precision(np.zeros((1, 3), dtype=bool)))[0]


def test_retrieval_scores_hand_worked() -> None:
    codes = np.array([[0.0], [1.0], [3.0], [4.0]], dtype=np.float32)
    labels = np.array([0, 1, 0, 1])
    # query 0 ranks 1,2,3 -> rel [0,1,0]; query 1: 0,2,3 -> [0,0,1]; query 2: 3,1,0 -> [0,0,1];
    # query 3: 2,1,0 -> [0,1,0]
    s = retrieval_scores(codes, labels, precision_at=(1, 2), recall_at=(2,))
    np.testing.assert_allclose(s.ap, [1 / 2, 1 / 3, 1 / 3, 1 / 2])
    assert s.map == pytest.approx(5 / 12)
    assert s.precision_at == {1: 0.0, 2: pytest.approx(0.25)}
    assert s.recall_at == {2: pytest.approx(0.5)}
    assert s.per_class_ap == {0: pytest.approx(5 / 12), 1: pytest.approx(5 / 12)}
    assert (s.n_queries, s.n_excluded, s.estimator) == (4, 0, "spec")


@pytest.mark.parametrize("block", [1, 2, 3, 1024])
def test_ties_are_broken_by_id(block: int) -> None:
    codes = np.tile(np.array([[1.0, 0.0]], dtype=np.float32), (4, 1))  # all distances equal
    labels = np.array([0, 1, 0, 1])
    s = retrieval_scores(codes, labels, precision_at=(1,), recall_at=(1,), block=block)
    np.testing.assert_allclose(s.ap, [1 / 2, 1 / 3, 1.0, 1 / 2])
    q = retrieval_scores(codes, labels, queries=codes.copy(), precision_at=(1,), recall_at=(1,))
    np.testing.assert_allclose(q.ap, s.ap)


@pytest.mark.parametrize("estimator", ["spec", "trapezoid"])
@pytest.mark.parametrize("block", [7, 64, 1024])
def test_matches_brute_force_reference(estimator: str, block: int) -> None:
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((300, 16)).astype(np.float32)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    labels = rng.integers(0, 5, 300)
    expected, rel = _reference(codes, labels, estimator)
    s = retrieval_scores(
        codes, labels, precision_at=(1, 5, 10, 100), recall_at=(10, 100), block=block,
        estimator=estimator,
    )
    np.testing.assert_allclose(s.ap, expected, atol=1e-9)
    assert s.map == pytest.approx(expected.mean(), abs=1e-9)
    for k in (1, 5, 10, 100):
        assert s.precision_at[k] == pytest.approx(rel[:, :k].sum(axis=1).mean() / k, abs=1e-12)
    n_pos = rel.sum(axis=1)
    for k in (10, 100):
        assert s.recall_at[k] == pytest.approx((rel[:, :k].sum(axis=1) / n_pos).mean(), abs=1e-12)
    for c in range(5):
        assert s.per_class_ap[c] == pytest.approx(expected[labels == c].mean(), abs=1e-9)


def test_unnormalised_codes_and_unbalanced_classes() -> None:
    rng = np.random.default_rng(2)
    codes = (rng.standard_normal((200, 8)) * rng.uniform(0.1, 3.0, (200, 1))).astype(np.float32)
    labels = np.repeat(np.arange(4), [5, 20, 75, 100])
    rng.shuffle(labels)
    expected, _ = _reference(codes, labels)
    s = retrieval_scores(codes, labels, precision_at=(1,), recall_at=(5,), block=33)
    np.testing.assert_allclose(s.ap, expected, atol=1e-6)


def test_separate_queries_match_the_reference() -> None:
    rng = np.random.default_rng(3)
    codes = rng.standard_normal((120, 6)).astype(np.float32)
    queries = rng.standard_normal((120, 6)).astype(np.float32)
    labels = rng.integers(0, 3, 120)
    rels = []
    for i in range(120):
        d = ((codes.astype(np.float64) - queries[i]) ** 2).sum(axis=1)
        order = np.argsort(d, kind="stable")
        rels.append(labels[order[order != i]] == labels[i])
    expected = average_precision(np.array(rels))
    s = retrieval_scores(
        codes, labels, queries=queries, precision_at=(1,), recall_at=(1,), block=50
    )
    np.testing.assert_allclose(s.ap, expected, atol=1e-9)


def test_single_image_classes_are_excluded_and_counted() -> None:
    codes = np.array([[0.0], [1.0], [5.0]], dtype=np.float32)
    s = retrieval_scores(codes, np.array([0, 0, 1]), precision_at=(1,), recall_at=(1,))
    assert np.isnan(s.ap[2]) and (s.n_queries, s.n_excluded) == (2, 1)
    assert s.map == 1.0 and s.per_class_ap == {0: 1.0}


def test_errors() -> None:
    codes = np.eye(3, dtype=np.float32)
    with pytest.raises(ConfigError, match="single image"):
        retrieval_scores(codes, np.array([0, 1, 2]), precision_at=(1,), recall_at=(1,))
    with pytest.raises(ConfigError, match=r"1\.\.2"):
        retrieval_scores(codes, np.array([0, 0, 1]), precision_at=(5,), recall_at=(1,))
    with pytest.raises(ConfigError, match="estimator"):
        retrieval_scores(codes, np.array([0, 0, 1]), precision_at=(1,), estimator="x")
    with pytest.raises(ConfigError, match="labels"):
        retrieval_scores(codes, np.array([0, 0]), precision_at=(1,))
    with pytest.raises(ConfigError, match="NaN"):
        retrieval_scores(np.full((3, 2), np.nan), np.array([0, 0, 1]), precision_at=(1,))
