"""The result records write metrics.json's keys exactly and read them back."""

from __future__ import annotations

import json

from neuralcodes.results import (
    CodeSetScore,
    PairedComparison,
    PcaCurve,
    PcaFit,
    QueryExpansion,
    SplitEvaluation,
    scores_from_dict,
)

SCORE = {"map": 0.5, "dims": 8, "n_queries": 4, "estimator": "spec",
         "precision_at": {"1": 0.75}, "recall_at": {"10": 0.25},
         "per_class_ap": {"3": 0.625, "4": 0.375}, "qe": {"n": 2, "alpha": 0.0},
         "ci95": [0.4, 0.6]}


def test_a_score_writes_the_keys_of_metrics_json_in_order() -> None:
    score = CodeSetScore(0.5, 8, 4, "spec", {1: 0.75}, {10: 0.25}, {3: 0.625, 4: 0.375},
                         QueryExpansion(2), (0.4, 0.6))
    assert json.dumps(score.to_dict()) == json.dumps(SCORE)
    assert CodeSetScore.from_dict(SCORE) == score
    assert CodeSetScore.from_dict(json.loads(json.dumps(score.to_dict()))) == score


def test_optional_keys_may_be_absent() -> None:
    plain = CodeSetScore.from_dict({"map": 0.25, "dims": 4})
    assert (plain.ci95, plain.qe, plain.estimator, plain.precision_at) == (None, None, "spec", {})
    assert set(plain.to_dict()) == {"map", "dims", "n_queries", "estimator", "precision_at",
                                    "recall_at", "per_class_ap"}
    assert scores_from_dict({"L6": SCORE})["L6"].per_class_ap == {3: 0.625, 4: 0.375}


def test_a_comparison_is_significant_when_its_interval_excludes_zero() -> None:
    c = PairedComparison(0.0125, (0.005, 0.02), 0.002, 100, a="L7", b="L6")
    assert c.to_dict() == {"a": "L7", "b": "L6", "mean_diff": 0.0125, "ci95": [0.005, 0.02],
                           "p_value": 0.002, "n_queries": 100, "significant": True}
    assert PairedComparison.from_dict(c.to_dict()) == c
    unnamed = PairedComparison(-0.01, (-0.03, 0.01), 0.4)
    assert not unnamed.significant and "a" not in unnamed.to_dict()
    assert PairedComparison(-0.02, (-0.03, -0.01), 0.01).significant


def test_pca_records_and_evaluation() -> None:
    curve = PcaCurve({16: 0.25, 32: 0.5})
    assert curve.to_dict() == {"16": 0.25, "32": 0.5}
    assert PcaCurve.from_dict(curve.to_dict()) == curve
    fit = PcaFit("test", 10, False, False, "10 held-out in-domain test images")
    assert PcaFit.from_dict(fit.to_dict()) == fit
    assert PcaFit.from_dict({"whiten": True}) == PcaFit(whiten=True)
    split = SplitEvaluation.from_dict({"loss": 3.0, "accuracy": 0.25, "top5": 0.5, "n": 14})
    assert split == SplitEvaluation(3.0, 0.25, 0.5, 14)
    assert split.to_dict() == {"loss": 3.0, "accuracy": 0.25, "top5": 0.5, "n": 14}


def test_a_pca_curve_keeps_its_keys_and_writes_its_intervals_apart() -> None:
    curve = PcaCurve({16: 0.25, 32: 0.5}, {16: (0.125, 0.375), 32: (0.375, 0.625)})
    assert curve.to_dict() == {"16": 0.25, "32": 0.5}  # metrics.json's "pca" as before
    assert curve.ci_to_dict() == {"16": [0.125, 0.375], "32": [0.375, 0.625]}  # "pca_ci95"
    assert PcaCurve.from_dict(curve.to_dict(), curve.ci_to_dict()) == curve
    assert PcaCurve.from_dict({"16": 0.25}, {"16": None}).ci95 == {}  # no bootstrap
