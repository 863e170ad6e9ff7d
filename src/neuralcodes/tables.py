"""Text forms of results shared by the report, the research tables and the CLI: Markdown
tables and confidence intervals. Pure formatting, no I/O."""

from __future__ import annotations

from collections.abc import Sequence


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def ci_text(low: float, high: float) -> str:
    return f"[{low:.4f}, {high:.4f}]" if low == low else ""  # NaN: no interval asked for
