"""Exact k-NN search against brute force, ties by id, exclusion, and errors."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.search import Database, float_from_sortable, knn, sortable_int


def _brute(q: np.ndarray, x: np.ndarray, k: int, exclude: np.ndarray | None = None):
    d = np.sqrt(((q[:, None, :].astype(np.float64) - x[None].astype(np.float64)) ** 2).sum(-1))
    if exclude is not None:
        d[np.arange(len(q)), exclude] = np.inf
    ids = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, ids, axis=1), ids


@pytest.mark.parametrize("block", [1, 16, 1024])
def test_knn_matches_brute_force(block: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 12)).astype(np.float32)
    q = rng.standard_normal((37, 12)).astype(np.float32)
    d, ids = knn(q, x, 10, block=block)
    ed, eids = _brute(q, x, 10)
    assert d.dtype == np.float32 and ids.dtype == np.int64 and d.shape == (37, 10)
    np.testing.assert_array_equal(ids, eids)
    np.testing.assert_allclose(d, ed, atol=1e-5)


def test_knn_leave_one_out_and_full_ranking() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((50, 4)).astype(np.float32)
    self_ids = np.arange(50)
    d, ids = knn(x, x, 49, exclude=self_ids, block=7)
    ed, eids = _brute(x, x, 49, self_ids)
    np.testing.assert_array_equal(ids, eids)
    assert not (ids == self_ids[:, None]).any()
    np.testing.assert_allclose(d, ed, atol=1e-5)


def test_hand_worked_and_ties_by_id() -> None:
    x = np.array([[0.0], [2.0], [-2.0], [3.0], [2.0]], dtype=np.float32)
    d, ids = knn(np.array([[0.0]], dtype=np.float32), x, 5)
    np.testing.assert_array_equal(ids, [[0, 1, 2, 4, 3]])  # 1, 2 and 4 all at distance 2
    np.testing.assert_allclose(d, [[0.0, 2.0, 2.0, 2.0, 3.0]])
    _, ids = knn(np.array([[0.0]], dtype=np.float32), x, 2, exclude=np.array([0]))
    np.testing.assert_array_equal(ids, [[1, 2]])


def test_sortable_int_preserves_order() -> None:
    v = np.array([-np.inf, -3.5, -1e-30, -0.0, 0.0, 1e-30, 2.0, np.inf], dtype=np.float32)
    s = sortable_int(v)
    assert (np.diff(s) >= 0).all() and s[3] == s[4]
    np.testing.assert_array_equal(float_from_sortable(s), v + np.float32(0.0))


def test_errors() -> None:
    x = np.zeros((3, 2), dtype=np.float32)
    with pytest.raises(ConfigError, match="1 <= k <= 2"):
        knn(x, x, 3, exclude=np.arange(3))
    with pytest.raises(ConfigError, match="dims"):
        knn(np.zeros((1, 3), dtype=np.float32), x, 1)
    with pytest.raises(ConfigError, match="exclude"):
        knn(x, x, 1, exclude=np.array([0, 1, 5]))
    with pytest.raises(ConfigError, match=r"\(N, D\)"):
        knn(np.zeros(3, dtype=np.float32), x, 1)


def test_a_prepared_database_gives_the_same_results() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(50, 8)).astype(np.float32)  # (N, D)
    q = rng.normal(size=(7, 8)).astype(np.float32)  # (Q, D)

    plain, prepared = knn(q, x, 5), knn(q, Database.of(x), 5)
    np.testing.assert_array_equal(plain[1], prepared[1])
    np.testing.assert_array_equal(plain[0], prepared[0])
