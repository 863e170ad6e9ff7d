"""Each benchmark on its replica with codes we chose: scores worked out by hand.

Codes are unit vectors at the angles the replicas paint (see replicas.py), so a query ranks the
database by angular distance to it. AP is the trapezoid rule of the official code: the j-th
relevant image (j = 0, 1, ...) at position r (0-based, junk removed) adds
(j / r (1 if r = 0) + (j + 1) / (r + 1)) / 2, and the sum is divided by the number of relevant
images named in the ground truth.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuralcodes.benchmarks import BenchmarkConfig, run_benchmark

from . import replicas
from .replicas import Replica


def _run(name: str, root: Path, rep: Replica, tmp_path: Path, **kw: object):  # type: ignore[no-untyped-def]
    config = BenchmarkConfig(name, str(root), n_bootstrap=200, figure_queries=0, **kw)  # type: ignore[arg-type]
    return run_benchmark(config, rep.encoder(), tmp_path / "out")


def test_holidays(rep: Replica, tmp_path: Path) -> None:
    root = replicas.holidays(tmp_path / "holidays", rep)
    result = _run("holidays", root, rep, tmp_path)
    ap = result.scores["all"].per_query
    # 100000 (0 deg), its own image left out: 100001 (10), 100100 (30), 100002 (47), ...
    #   relevant at r = 0 and r = 2: (1 + 1) / 2 = 1 and (1/2 + 2/3) / 2 = 7/12 -> (19/12) / 2
    # 100100 (30): 100002 (17), 100001 (20), 100000 (30), 100101 (70): r = 3 -> (0 + 1/4) / 2
    # 100200 (205): 100201 (35), 100202 (50), ...: r = 0, 1 -> (1 + 1) / 2 = 1
    np.testing.assert_allclose(ap, [19 / 24, 1 / 8, 1.0])
    row = result.rows[0]
    assert row["metric"] == "mAP" and row["n_queries"] == 3
    assert row["value"] == pytest.approx((19 / 24 + 1 / 8 + 1) / 3)  # 23/36 = 0.6389
    low, high = row["ci95"]
    assert low <= row["value"] <= high


def test_ukbench(rep: Replica, tmp_path: Path) -> None:
    root = replicas.ukbench(tmp_path / "ukbench", rep)
    result = _run("ukbench", root, rep, tmp_path)
    # group 0 at 0, 20, 95, 60 deg; group 1 at 45, 180, 200, 225 deg. First 4 (itself first):
    #   u0: u0 u1 u4 u3 -> 3    u1: u1 u0 u4 u3 -> 3    u2: u2 u3 u4 u1 -> 3    u3: u3 u4 u2 u1 -> 3
    #   u4: u4 u3 u1 u0 -> 1    u5: u5 u6 u7 u2 -> 3    u6: u6 u5 u7 u2 -> 3    u7: u7 u6 u5 u2 -> 3
    np.testing.assert_array_equal(result.scores["all"].per_query, [3, 3, 3, 3, 1, 3, 3, 3])
    assert result.rows[0]["metric"] == "N-S"
    assert result.rows[0]["value"] == pytest.approx(22 / 8)  # 2.75


def test_oxford(rep: Replica, tmp_path: Path) -> None:
    root = replicas.oxford(tmp_path / "oxford5k", rep)
    result = _run("oxford5k", root, rep, tmp_path)
    # all_souls_1, crop at 5 deg: all_souls_000001 (5), _000002 (15), _000003 (35, junk: removed),
    #   oxford_000001 (55), ashmolean_000001 (95), ashmolean_000002 (125, ok), oxford_000002 (145)
    #   relevant at r = 0, 1, 4: 1 + 1 + (2/4 + 3/5) / 2 = 2.55, / 3 = 0.85
    # ashmolean_1, crop at 138 deg: ashmolean_000002 (8), oxford_000002 (12), ashmolean_000001
    #   (38): r = 0, 2 -> (1 + 7/12) / 2 = 19/24
    np.testing.assert_allclose(result.scores["all"].per_query, [0.85, 19 / 24])
    assert result.rows[0]["value"] == pytest.approx((0.85 + 19 / 24) / 2)  # 0.8208


def test_paris_counts_absent_relevant_images(rep: Replica, tmp_path: Path) -> None:
    root = replicas.paris(tmp_path / "paris6k", rep)
    result = _run("paris6k", root, rep, tmp_path)
    # defense_1, crop at 5 deg: defense_000001 (5), eiffel_000001 (10), defense_000002 (25), ...
    #   relevant at r = 0, 2; three relevant names (defense_000009 is corrupt, absent):
    #   (1 + (1/2 + 2/3) / 2) / 3 = (19/12) / 3 = 19/36
    np.testing.assert_allclose(result.scores["all"].per_query, [19 / 36])
    assert result.rows[0]["n_queries"] == 1


def test_revisited(rep: Replica, tmp_path: Path) -> None:
    root = replicas.roxford(tmp_path / "roxford5k", rep)
    result = _run("roxford5k", root, rep, tmp_path)
    s = result.scores
    # q0 (crop at 0 deg) ranks db0 (10), db3 (20), db4 (40), db2 (50), db1 (80); easy [0],
    #   hard [1], junk [3]. Easy (junk 3, 1): db0 db4 db2 -> r = 0: AP 1, P@k 1.
    #   Medium (junk 3): db0 db4 db2 db1 -> r = 0, 3: (1 + (1/3 + 2/4) / 2) / 2 = 17/24;
    #     positions 1, 4: P@1 = 1/1, P@5 = P@10 = 2/4 (k' = min(max = 4, k)).
    #   Hard (junk 3, 0): db4 db2 db1 -> r = 2: (0/2 + 1/3) / 2 = 1/6; P@1 = 0/1, P@5 = 1/3.
    # q1 (crop at 62 deg): db2 (12), db1 (18), db4 (22), ...; easy [2]: AP 1, P@k 1 in Easy and
    #   Medium; no hard image: left out of Hard.
    np.testing.assert_allclose(s["easy"].per_query, [1.0, 1.0])
    np.testing.assert_allclose(s["medium"].per_query, [17 / 24, 1.0])
    np.testing.assert_allclose(s["hard"].per_query, [1 / 6, np.nan])
    np.testing.assert_allclose(s["medium"].precision_at[5], [0.5, 1.0])
    np.testing.assert_allclose(s["hard"].precision_at[1], [0.0, np.nan])
    np.testing.assert_allclose(s["hard"].precision_at[10], [1 / 3, np.nan])
    rows = {r["setup"]: r for r in result.rows}
    assert rows["easy"]["value"] == 1.0
    assert rows["medium"]["value"] == pytest.approx((17 / 24 + 1) / 2)  # 41/48 = 0.8542
    assert rows["medium"]["precision_at"]["5"]["value"] == pytest.approx(0.75)
    assert rows["hard"]["value"] == pytest.approx(1 / 6)
    assert (rows["hard"]["n_queries"], rows["hard"]["n_excluded"]) == (1, 1)


def test_holidays_rotated_copies(rep: Replica, tmp_path: Path) -> None:
    root = replicas.holidays(tmp_path / "holidays", rep)
    rotated = tmp_path / "rotated"
    rep.image(rotated / "100101.jpg", 40)  # upright copy of 100101: now 10 deg from 100100
    result = _run("holidays", root, rep, tmp_path, rotated=str(rotated))
    # 100000 (0): 100001 (10), 100100 (30), 100101 (40), 100002 (47): r = 0, 3 ->
    #   (1 + (1/3 + 2/4) / 2) / 2 = 17/24
    # 100100 (30): 100101 (10) first now -> AP 1; 100200 unchanged
    np.testing.assert_allclose(result.scores["all"].per_query, [17 / 24, 1.0, 1.0])
    assert "1 images replaced" in result.text
