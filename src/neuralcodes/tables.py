"""Text forms of results shared by the report, the research tables and the CLI: Markdown
tables, confidence intervals, p-values. Pure formatting, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

from neuralcodes.results import CodeSetScore, PairedComparison


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def ci_text(ci: Sequence[float] | None, *, signed: bool = False) -> str:
    """``[low, high]`` with 4 decimals (with their signs if ``signed``); "" for no interval
    (None, or NaN: none was asked for)."""
    if ci is None or ci[0] != ci[0]:
        return ""
    fmt = "+.4f" if signed else ".4f"
    return f"[{ci[0]:{fmt}}, {ci[1]:{fmt}}]"


def map_text(score: CodeSetScore) -> str:
    """``0.5000 [0.4000, 0.6000]``: mAP with its 95 % interval when there is one."""
    ci = ci_text(score.ci95)
    return f"{score.map:.4f}" + (f" {ci}" if ci else "")


def p_value_text(p: float) -> str:
    """A p-value with 4 decimals, or ``< 0.001`` below 0.001."""
    return "< 0.001" if p < 0.001 else f"{p:.4f}"


def diff_text(c: PairedComparison) -> str:
    """``+0.0125 [+0.0050, +0.0200], p=0.0020`` (``p<0.001``): a paired difference in one cell."""
    p = "p<0.001" if c.p_value < 0.001 else f"p={c.p_value:.4f}"
    return f"{c.mean_diff:+.4f} {ci_text(c.ci95, signed=True)}, {p}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"
