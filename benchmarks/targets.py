"""The targets of BENCHMARKS.md, checked against a run's rows: met, not met, or not measured.

A target names the row it reads (benchmark and implementation, as the benchmarks name them) and
a limit: on the row's ratio to its peer, its median, or one of its extra medians. A target whose
row is missing (a benchmark left out, a ``--quick`` run at other sizes) is "not measured"; a bf16
target on a CPU without native bf16 does not apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks import bench_extract, bench_train
from benchmarks.common import DEFAULT_ALLOCATOR, Row, ratio

GPU_TARGET = "GPU: 9 epochs on Tiny ImageNet in <= 2 min on one H200 (issue 13)"
QUERY_BENCH = ("one query end to end: 1024x768 JPEG, k=10, notebook network width 1, exact "
               "index of 10,000 images")
BY_ID_BENCH = "query by id: k=10, exact index of 10,000 images"


@dataclass(frozen=True)
class Target:
    text: str  # what the target says
    bench: str  # the row's benchmark, or the start of it
    impl: str  # the row's implementation
    limit: float
    measure: str = "ratio"  # "ratio" (to the peer), "median", or the name of an extra
    at_least: bool = True  # the value must be >= limit (else <= limit)
    needs_bf16: bool = False

    def row(self, rows: Sequence[Row]) -> Row | None:
        return next((r for r in rows if r.bench.startswith(self.bench) and r.impl == self.impl),
                    None)

    def value(self, row: Row, rows: Sequence[Row]) -> float | None:
        if self.measure == "ratio":
            return ratio(row, rows)
        if self.measure == "median":
            return row.median
        return row.extra.get(self.measure)


def _train(precision: str) -> str:
    return bench_train.impl_name(precision, DEFAULT_ALLOCATOR)


def _extract(precision: str) -> str:
    return bench_extract.impl_name(precision, DEFAULT_ALLOCATOR)


TARGETS = (
    Target("training, bf16 >= 2.0x Keras fp32, fresh machine (issue 13)", bench_train.BENCH,
           _train("bf16"), 2.0, needs_bf16=True),
    Target("training, fp32 >= 1.0x Keras fp32, fresh machine (issue 13)", bench_train.BENCH,
           _train("fp32"), 1.0),
    Target("code extraction fp32 as before or better: >= 2.76x Keras (the previous table's "
           "fp32 + tcmalloc), fresh machine (issue 13)", bench_extract.BENCH, _extract("fp32"),
           2.76),
    Target("code extraction bf16 as before or better: >= 5.50x Keras (the previous table's "
           "bf16 + tcmalloc), fresh machine (issue 13)", bench_extract.BENCH, _extract("bf16"),
           5.50, needs_bf16=True),
    Target("one query end to end, full width, 10,000 images: p50 <= 50 ms (issue 13)",
           QUERY_BENCH, "neuralcodes Index.search, fp32 (the default)", 50.0, "median", False),
    Target("query by id, 10,000 images: p50 <= 5 ms (issue 13)", BY_ID_BENCH,
           "neuralcodes Index.search_by_id, fp32 (the default)", 5.0, "median", False),
    Target("100,000 JPEGs into the uint8 cache <= 5 s (issue 5)",
           "load 100,000 64x64 JPEGs into arrays", "neuralcodes decode into the uint8 cache",
           5.0, "median", False),
    Target("cache reopened < 1 s (issue 5)", "reopen the loaded data set of 100,000",
           "neuralcodes reopen (index + check + memmap)", 1.0, "median", False),
    Target("peak memory <= 1.5 GB loading 100,000 JPEGs (issue 5)",
           "load 100,000 64x64 JPEGs into arrays", "neuralcodes decode into the uint8 cache",
           1500.0, "peak MB", False),
    Target("retrieval mAP of 5,000 queries <= 0.8 s at 2,048 dims (issue 5)",
           "retrieval mAP, 5,000 queries, 2,048 dims", "neuralcodes retrieval_scores", 0.8,
           "median", False),
    Target("retrieval mAP of 5,000 queries <= 3.5 s at 16,384 dims (issue 5)",
           "retrieval mAP, 5,000 queries, 16,384 dims", "neuralcodes retrieval_scores", 3.5,
           "median", False),
)


def verdict(target: Target, rows: Sequence[Row], has_bf16: bool) -> tuple[str, str]:
    """(what was measured, whether the target is met) in words."""
    if target.needs_bf16 and not has_bf16:
        return "-", "does not apply: the CPU has no native bf16"
    row = target.row(rows)
    value = target.value(row, rows) if row is not None else None
    if row is None or value is None or math.isnan(value):
        return "-", "not measured"
    if target.measure == "ratio":
        peer = next(r for r in rows if r.bench == row.bench and r.impl == row.peer)
        measured = f"{value:.2f}x ({row.median:.3g} vs {peer.median:.3g} {row.unit})"
    else:
        unit = "MB" if target.measure == "peak MB" else row.unit
        measured = f"{value:.3g} {unit}"
    met = value >= target.limit if target.at_least else value <= target.limit
    if met:
        return measured, "yes"
    short = abs(value - target.limit) / target.limit
    return measured, f"**no** ({100 * short:.0f} % {'short' if target.at_least else 'over'})"


def gpu_line() -> str:
    """The GPU row: never measured by ``make bench`` (a prepared script on a lent GPU is)."""
    try:
        import torch

        present = torch.cuda.is_available()
    except ImportError:
        present = False
    if present:
        return f"| {GPU_TARGET} | not measured by `make bench` (a GPU is present) | not measured |"
    return f"| {GPU_TARGET} | not measured: no GPU was lent to this task | not measured |"


def summary(rows: Sequence[Row], has_bf16: bool, *, quick: bool = False) -> str:
    """The targets as a Markdown table: target, measured, met? (not judged after ``quick``)."""
    lines = ["| target | measured | met? |", "|---|---|---|"]
    for target in TARGETS:
        measured, met = verdict(target, rows, has_bf16)
        if quick and measured != "-":
            met = "not judged: a --quick run"
        lines.append(f"| {target.text} | {measured} | {met} |")
    lines.append(gpu_line())
    return "\n".join(lines)
