"""The retrieval step's honest metrics: per-class AP, recall@k, estimator, QE, pooled codes,
paired comparisons, and what PCA was fitted on."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.artifacts import atomic_write_json, read_json
from neuralcodes.codesets import CodeSpec, extract_specs, parse_spec
from neuralcodes.errors import ConfigError
from neuralcodes.metrics import retrieval_scores
from neuralcodes.model import load_model
from neuralcodes.pipeline import codes_step, report_step, retrieval_step


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def test_every_code_set_has_per_class_ap_recall_and_its_estimator(tiny_run: Path) -> None:
    m = _metrics(tiny_run)
    codes = np.load(tiny_run / "codes" / "ood_L6.npy")
    labels = np.load(tiny_run / "codes" / "labels.npy")
    expected = retrieval_scores(codes, labels, precision_at=(1,), recall_at=(10,))
    l6 = m["retrieval"]["L6"]
    assert l6["map"] == pytest.approx(expected.map, abs=1e-12)
    assert l6["recall_at"]["10"] == pytest.approx(expected.recall_at[10], abs=1e-12)
    assert l6["per_class_ap"] == pytest.approx({str(k): v for k, v in
                                                expected.per_class_ap.items()}, abs=1e-12)
    assert l6["estimator"] == "spec" and set(l6["precision_at"]) == {"1", "5", "10"}  # 100 > N-1
    assert set(m["ood_classes"]) == {str(c) for c in np.unique(labels)}


def test_pooled_codes_and_query_expansion_are_scored(tiny_run: Path) -> None:
    m = _metrics(tiny_run)
    spoc = np.load(tiny_run / "codes" / "ood_conv5-spoc.npy")
    assert spoc.shape == (100, 16)  # conv5 has 256 / 16 channels
    assert m["retrieval"]["conv5-spoc"]["dims"] == 16
    assert m["retrieval"]["L6 +QE2"]["qe"] == {"n": 2, "alpha": 0.0}
    assert "pixels +QE2" not in m["retrieval"]  # QE of the trained codes only
    assert set(m["pca"]) == {"L5", "L6", "L7", "conv5-spoc"}


def test_paired_comparisons_are_the_mean_ap_differences(tiny_run: Path) -> None:
    m = _metrics(tiny_run)
    labels = np.load(tiny_run / "codes" / "labels.npy")
    ap = {k: retrieval_scores(np.load(tiny_run / "codes" / f"ood_{k}.npy"), labels,
                              precision_at=(), recall_at=()).ap for k in ("L7", "L6")}
    first = m["comparisons"][0]
    assert (first["a"], first["b"]) == ("L7", "L6")
    assert first["mean_diff"] == pytest.approx(float(np.mean(ap["L7"] - ap["L6"])), abs=1e-12)
    assert first["ci95"][0] <= first["mean_diff"] <= first["ci95"][1]
    assert [(c["a"], c["b"]) for c in m["comparisons"]] == [("L7", "L6"), ("L6", "L5"),
                                                            ("L7", "pixels")]


def test_pca_fit_is_recorded_and_reported(tiny_run: Path) -> None:
    m = _metrics(tiny_run)
    assert m["pca_fit"] == {"split": "test", "n": 10, "whiten": False, "on_database": False,
                            "text": "10 held-out in-domain test images"}
    assert set(m["pca"]["L6"]) == {"4", "8"}
    report = (tiny_run / "report.md").read_text()
    for heading in ("## Paired comparisons", "## Per-class AP", "## PCA compression", "R@10"):
        assert heading in report
    assert "WARNING" not in report


def test_pca_on_the_database_only_when_asked_and_the_report_says_so(tiny_run: Path,
                                                                     tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    header = read_json(run / "config.json")
    header["config"]["retrieval"].update(pca_fit_on="database", pca_whiten=True, qe=0,
                                         estimator="trapezoid", pooled=[])
    atomic_write_json(run / "config.json", header)
    for old in (run / "codes").glob("test_*.npy"):
        old.unlink()
    codes_step(run)
    retrieval_step(run)
    report_step(run)
    assert not list((run / "codes").glob("test_*.npy"))
    m = _metrics(run)
    assert m["pca_fit"]["on_database"] and m["pca_fit"]["whiten"] and m["pca_fit"]["n"] == 100
    assert set(m["pca"]["L6"]) == {"4", "8"}
    assert m["retrieval"]["L6"]["estimator"] == "trapezoid"
    report = (run / "report.md").read_text()
    assert "WARNING: this PCA was fitted on the retrieval database itself" in report
    assert "PCA-whitening" in report and "trapezoid" in report


def test_pooling_a_layer_without_a_spatial_map_is_refused(tiny_run: Path) -> None:
    model = load_model(tiny_run / "model.pt").model
    images = np.zeros((2, 64, 64, 3), np.uint8)
    with pytest.raises(ConfigError, match="feature map"):
        extract_specs(model, images, [parse_spec("L6:spoc")])
    with pytest.raises(ConfigError, match="pooling among"):
        parse_spec("conv5:sum")
    codes = extract_specs(model, images, [CodeSpec("conv4", "gem"), CodeSpec("L6")])
    assert list(codes) == ["conv4-gem", "L6"] and codes["conv4-gem"].shape == (2, 18)


def test_pca_curves_have_intervals_under_a_key_of_their_own(tiny_run: Path) -> None:
    m = _metrics(tiny_run)
    assert set(m["pca_ci95"]) == set(m["pca"]) and m["pca"]["L6"]
    for name, curve in m["pca"].items():
        assert set(m["pca_ci95"][name]) == set(curve)  # the same dims: "4", "8"
        for dims, value in curve.items():
            low, high = m["pca_ci95"][name][dims]
            assert low <= value <= high
