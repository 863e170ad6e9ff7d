"""The metrics against line-by-line transcriptions of the official evaluation code."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.benchmarks.dataset import Relevance
from neuralcodes.benchmarks.scores import average_precision, ns_hits, precision_at


def compute_ap_cpp(pos: set[int], amb: set[int], ranked: list[int]) -> float:
    """Oxford's compute_ap.cpp, transcribed (in float64)."""
    old_recall, old_precision, ap, hits, j = 0.0, 1.0, 0.0, 0, 0
    for item in ranked:
        if item in amb:
            continue
        if item in pos:
            hits += 1
        recall, precision = hits / len(pos), hits / (j + 1.0)
        ap += (recall - old_recall) * ((old_precision + precision) / 2.0)
        old_recall, old_precision = recall, precision
        j += 1
    return ap


def revisitop_map(ranks: np.ndarray, ok: np.ndarray, junk: np.ndarray,
                  kappas: list[int]) -> tuple[float, np.ndarray]:
    """revisitop's compute_map for one query, transcribed (ranks: the database ids, best first)."""
    pos = np.arange(len(ranks))[np.isin(ranks, ok)]
    jk = np.arange(len(ranks))[np.isin(ranks, junk)]
    k = ij = 0
    if len(jk):
        ip = 0
        while ip < len(pos):
            while ij < len(jk) and pos[ip] > jk[ij]:
                k += 1
                ij += 1
            pos[ip] = pos[ip] - k
            ip += 1
    ap = 0.0
    for j, rank in enumerate(pos):
        p0 = 1.0 if rank == 0 else j / rank
        ap += (p0 + (j + 1) / (rank + 1)) / len(ok) / 2.0
    pos = pos + 1
    prs = np.array([(pos <= min(max(pos), kq)).sum() / min(max(pos), kq) for kq in kappas])
    return ap, prs


def test_ap_by_hand() -> None:
    rel = Relevance(np.array([2, 5]), np.array([7]), 3)
    # ranking 2 7 9 5 ...: junk 7 removed -> 2 at r = 0, 5 at r = 2; P = 3 (one never ranked):
    #   ((1 + 1) / 2 + (1/2 + 2/3) / 2) / 3 = (1 + 7/12) / 3 = 19/36
    assert average_precision(np.array([2, 7, 9, 5, 1]), rel) == pytest.approx(19 / 36)
    assert np.isnan(average_precision(np.array([1, 2]), Relevance(np.zeros(0, np.int64),
                                                                   np.zeros(0, np.int64), 0)))


def test_precision_at_by_hand() -> None:
    rel = Relevance(np.array([4, 8]), np.array([0]), 2)
    # 3 0 4 1 8: junk 0 removed -> positions 2 and 4 (1-based); k' = min(4, k):
    #   P@1 = 0/1, P@5 = 2/4 (k' = 4), P@10 = 2/4
    np.testing.assert_allclose(precision_at(np.array([3, 0, 4, 1, 8]), rel, (1, 5, 10)),
                               [0.0, 0.5, 0.5])


def test_ns_hits() -> None:
    assert ns_hits(np.array([4, 5, 0, 7, 6]), Relevance(np.arange(4, 8), np.zeros(0), 4)) == 3.0


@pytest.mark.parametrize("seed", range(20))
def test_agree_with_the_official_code(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    ranking = rng.permutation(n)
    chosen = rng.permutation(n)
    n_pos, n_junk = int(rng.integers(1, n // 2)), int(rng.integers(0, n // 3))
    ok, junk = np.sort(chosen[:n_pos]), np.sort(chosen[n_pos:n_pos + n_junk])
    rel = Relevance(ok, junk, len(ok))
    expected = compute_ap_cpp(set(ok.tolist()), set(junk.tolist()), ranking.tolist())
    assert average_precision(ranking, rel) == pytest.approx(expected, abs=1e-12)
    ap, prs = revisitop_map(ranking, ok, junk, [1, 5, 10])
    assert average_precision(ranking, rel) == pytest.approx(ap, abs=1e-12)
    np.testing.assert_allclose(precision_at(ranking, rel, (1, 5, 10)), prs)
