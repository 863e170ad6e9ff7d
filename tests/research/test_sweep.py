"""Sweeps reuse the run's codes, cache new ones, and agree with the retrieval step."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.research.sweep import sweep


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    shutil.copytree(tiny_run, tmp_path / "run")
    return tmp_path / "run"


def test_sweep_grid_matches_the_retrieval_step(run: Path) -> None:
    metrics = json.loads((run / "metrics.json").read_text())
    rows = sweep(run, codes=["L6", "conv5:spoc"], dims=[4, 8, 64], whiten=[False, True],
                 qe=[0, 2], n_bootstrap=20)
    by_key = {(r.codes, r.dims, r.whiten, r.qe): r for r in rows}
    # per code set and QE: the full code + 2 PCA sizes (64 > 9, the fit set's limit) x 2 whitening
    assert len(rows) == 2 * 2 * (1 + 2 * 2)
    assert by_key[("L6", 128, False, 0)].map == pytest.approx(metrics["retrieval"]["L6"]["map"])
    assert by_key[("L6", 128, False, 2)].map == pytest.approx(
        metrics["retrieval"]["L6 +QE2"]["map"])
    assert by_key[("L6", 4, False, 0)].map == pytest.approx(metrics["pca"]["L6"]["4"])
    assert by_key[("conv5-spoc", 8, True, 0)].bytes_per_image == 32
    assert not by_key[("L6", 128, False, 0)].pca and by_key[("L6", 4, True, 0)].pca


def test_new_specs_are_extracted_once_and_cached(run: Path) -> None:
    sweep(run, codes=["conv4:mac"], dims=[4], n_bootstrap=0)
    cached = run / "codes" / "ood_conv4-mac.npy"
    stamp = cached.stat().st_mtime_ns
    assert json.loads((run / "codes" / "extra.json").read_text())["sets"] == ["conv4-mac"]
    rows = sweep(run, codes=["conv4:mac"], dims=[4], n_bootstrap=0)
    assert cached.stat().st_mtime_ns == stamp  # reused, not extracted again
    assert [r.dims for r in rows] == [18, 4]


def test_bad_settings_are_refused(run: Path) -> None:
    with pytest.raises(ConfigError, match="qe >= 0"):
        sweep(run, qe=[-1])
    with pytest.raises(ConfigError, match="feature map"):
        sweep(run, codes=["L7:gem"])
