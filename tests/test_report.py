"""The report's tables: retrieval with recall, paired comparisons, per-class AP, PCA notes."""

from __future__ import annotations

from pathlib import Path

from neuralcodes.report import (
    Block,
    comparison_table,
    pca_text,
    per_class_table,
    report_blocks,
    retrieval_table,
    to_html,
    to_markdown,
)
from neuralcodes.results import PairedComparison, scores_from_dict

RETRIEVAL = {
    "L6": {"map": 0.5, "dims": 8, "ci95": [0.4, 0.6], "precision_at": {"1": 0.75},
           "recall_at": {"10": 0.25}, "per_class_ap": {"3": 0.625, "4": 0.375},
           "estimator": "trapezoid"},
    "L6 +QE2": {"map": 0.55, "dims": 8, "per_class_ap": {"3": 0.7, "4": 0.4}},
    "untrained L6": {"map": 0.125, "dims": 8, "per_class_ap": {"3": 0.1, "4": 0.15}},
}
COMPARISONS = [{"a": "L7", "b": "L6", "mean_diff": 0.0125, "ci95": [0.005, 0.02],
                "p_value": 0.002, "significant": True}]


def test_retrieval_table_has_precision_and_recall_columns() -> None:
    block = retrieval_table(scores_from_dict(RETRIEVAL))
    assert block.header == ("codes", "dims", "mAP", "95 % CI", "P@1", "R@10")
    assert block.rows[0] == ("L6", "8", "0.5000", "[0.4000, 0.6000]", "0.750", "0.250")
    assert block.rows[1] == ("L6 +QE2", "8", "0.5500", "", "", "")


def test_comparison_table() -> None:
    block = comparison_table([PairedComparison.from_dict(c) for c in COMPARISONS])
    assert block.rows == (("L7 - L6", "+0.0125", "[+0.0050, +0.0200]", "0.0020", "yes"),)


def test_per_class_table_names_classes_and_leaves_out_untrained_and_qe() -> None:
    block = per_class_table(scores_from_dict(RETRIEVAL),
                            {"3": "red circle, a shape", "4": "blue square"})
    assert block.header == ("class", "L6")
    assert block.rows == (("red circle", "0.6250"), ("blue square", "0.3750"))


def test_pca_text_warns_when_fitted_on_the_database() -> None:
    plain = pca_text({"pca_fit_on": "10 held-out in-domain test images",
                      "pca_fit": {"whiten": False, "on_database": False}})
    assert plain.startswith("Codes compressed by PCA fitted on 10 held-out in-domain test images")
    assert "WARNING" not in plain and "whitening" not in plain
    db = pca_text({"pca_fit": {"whiten": True, "on_database": True}})
    assert "PCA-whitening" in db and "WARNING: this PCA was fitted on the retrieval database" in db


def test_report_blocks_in_order_and_estimator_named() -> None:
    metrics = {"retrieval": RETRIEVAL, "comparisons": COMPARISONS, "ood_classes": {},
               "pca": {"L6": {"4": 0.25}}, "pca_fit_on": "x"}
    md = to_markdown(report_blocks(metrics, {}, "t"))
    order = [md.index(h) for h in ("## Retrieval", "## Paired comparisons", "## Per-class AP",
                                   "## PCA compression")]
    assert order == sorted(order)
    assert "trapezoid rule of the Oxford5k / Holidays benchmark code" in md
    assert "| L6 | 0.2500 |" in md


def test_p_values_below_a_thousandth_print_as_such() -> None:
    tiny = PairedComparison(0.0125, (0.005, 0.02), 1 / 1001, a="L7", b="L6")
    assert comparison_table([tiny]).rows[0][3] == "< 0.001"
    assert comparison_table([PairedComparison(0.0, (-0.1, 0.1), 0.001, a="a", b="b")]
                            ).rows[0][3:] == ("0.0010", "no")


def test_html_paragraphs_render_code_spans() -> None:
    page = to_html(report_blocks({"retrieval": RETRIEVAL}, {}, "t"), Path("."))
    assert "<code>pixels</code>" in page and "`" not in page


def test_html_escapes_text_and_prints_small_p_values_as_such() -> None:
    tiny = [{**COMPARISONS[0], "p_value": 1 / 1001, "a": "L7 <b>", "b": "L6 & co"}]
    page = to_html(report_blocks({"retrieval": RETRIEVAL, "comparisons": tiny}, {}, "t"),
                   Path("."))
    assert "<td>&lt; 0.001</td>" in page
    assert "<td>L7 &lt;b&gt; - L6 &amp; co</td>" in page and "<b>" not in page


def test_table_cells_render_code_spans() -> None:
    page = to_html([Block("h", "t"), Block("table", header=("a",), rows=(("`x` & y",),))],
                   Path("."))
    assert "<td><code>x</code> &amp; y</td>" in page


def test_the_configuration_and_environment_come_last_left_aligned() -> None:
    config = {"model": {"name": "notebook", "width": 0.25}, "train": {"recipe": "notebook"}}
    blocks = report_blocks({"retrieval": RETRIEVAL}, {}, "t", config)
    assert [b.text for b in blocks if b.kind == "h"][-1] == "Configuration and environment"
    assert blocks[-1].header == ("setting", "value") and blocks[-1].align == "text"
    assert blocks[-1].rows[0] == ("network", "notebook, width 0.25")
    assert '<table class="text">' in to_html(blocks, Path("."))
