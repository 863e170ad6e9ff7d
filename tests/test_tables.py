"""The shared text forms: Markdown tables, intervals, p-values."""

from __future__ import annotations

from neuralcodes.results import CodeSetScore, PairedComparison
from neuralcodes.tables import ci_text, diff_text, map_text, markdown_table, p_value_text


def test_markdown_table() -> None:
    assert markdown_table(("a", "b"), [("1", "2")]) == "| a | b |\n|---|---|\n| 1 | 2 |\n"


def test_intervals() -> None:
    assert ci_text((0.4, 0.6)) == "[0.4000, 0.6000]"
    assert ci_text((-0.005, 0.02), signed=True) == "[-0.0050, +0.0200]"
    assert ci_text(None) == "" and ci_text((float("nan"), float("nan"))) == ""


def test_p_values_below_a_thousandth() -> None:
    assert p_value_text(1 / 1001) == "< 0.001"
    assert (p_value_text(0.001), p_value_text(0.25)) == ("0.0010", "0.2500")


def test_map_and_difference_cells() -> None:
    assert map_text(CodeSetScore(0.5, 8, ci95=(0.4, 0.6))) == "0.5000 [0.4000, 0.6000]"
    assert map_text(CodeSetScore(0.5, 8)) == "0.5000"
    assert diff_text(PairedComparison(0.0125, (0.005, 0.02), 0.002)) == (
        "+0.0125 [+0.0050, +0.0200], p=0.0020")
    assert diff_text(PairedComparison(-0.5, (-0.6, -0.4), 1 / 1001)).endswith("p<0.001")
