"""The table of medians and ratios, printed and written into BENCHMARKS.md with the machine."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import REPO, Row, ratio

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if value >= 0.01 else f"{value:.2g}"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table: benchmark, implementation, median, unit, runs, ratio vs peer, notes."""
    lines = [
        "| benchmark | implementation | median | unit | runs | vs peer | notes |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for row in rows:
        r = ratio(row, rows)
        if row.peer is not None:
            vs = f"**{r:.2f}x** vs {row.peer}" if r else "n/a"
        else:
            is_peer = any(o.bench == row.bench and o.peer == row.impl for o in rows)
            vs = "(peer)" if is_peer else "-"
        notes = [f"{k} {_fmt(v)}" for k, v in row.extra.items()]
        if len(row.values) > 1:
            lo, hi = min(row.values), max(row.values)
            notes.insert(0, f"range {_fmt(lo)}-{_fmt(hi)}")
        if row.note:
            notes.append(row.note)
        lines.append(
            f"| {row.bench} | {row.impl} | {_fmt(row.median)} | {row.unit} | "
            f"{len(row.values)} | {vs} | {'; '.join(notes)} |"
        )
    return "\n".join(lines)


def print_rows(rows: Sequence[Row]) -> None:
    print(table(rows), flush=True)


def machine_lines(info: dict[str, str]) -> str:
    return "\n".join(f"- {k}: {v}" for k, v in info.items())


def write_benchmarks_md(
    rows: Sequence[Row],
    info: dict[str, str],
    command: str,
    *,
    extra: str = "",
    summary: str = "",
    path: Path | None = None,
) -> Path:
    """Replace the generated block of BENCHMARKS.md (between the markers) with the new table.

    The text around the markers (notes) is kept; a missing file gets a minimal header.
    ``summary``: Markdown put before the table (the targets, met or not); ``extra``: after it
    (latency split, recall tables, benchmarks left out, scripts' own output).
    """
    from neuralcodes.artifacts import atomic_write_text

    path = path or REPO / "BENCHMARKS.md"
    targets = f"Targets:\n\n{summary}\n\n" if summary else ""
    block = (
        f"{BEGIN}\nMachine:\n\n{machine_lines(info)}\n\nCommand: `{command}`\n\n"
        f"{targets}{table(rows)}\n\n{extra}\n{END}"
    )
    text = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    atomic_write_text(path, pattern.sub(lambda _: block, text))
    return path
