"""Research results as files: CSV, a Markdown table, and the mAP-against-bytes plot.

Pure formatting: rows in, files out (atomically). The Markdown of each table is also returned,
so that the CLI prints exactly what it wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from neuralcodes.artifacts import atomic_write_csv, atomic_write_text
from neuralcodes.figures import Series, plot_curves
from neuralcodes.research.sweep import SweepRow
from neuralcodes.runs import RunDir
from neuralcodes.tables import ci_text, markdown_table, yes_no


def sweep_markdown(rows: Sequence[SweepRow]) -> str:
    """One line per setting, grouped by code set, shortest codes first."""
    ordered = sorted(rows, key=lambda r: (r.codes, r.qe, r.whiten, r.dims))
    body = [(r.codes, str(r.dims) if r.pca else f"{r.dims} (full)",
             yes_no(r.whiten), str(r.qe) if r.qe else "–", str(r.bytes_per_image),
             f"{r.map:.4f}", ci_text((r.ci_low, r.ci_high))) for r in ordered]
    return markdown_table(("codes", "dims", "whitened", "QE", "bytes / image", "mAP", "95 % CI"),
                          body)


def write_sweep(rows: Sequence[SweepRow], out_dir: str | Path,
                title: str = "mAP against bytes per image, with 95 % intervals") -> dict[str, Path]:
    """``sweep.csv``, ``sweep.md`` and ``figures/sweep.png`` under ``out_dir``."""
    out = Path(out_dir)
    md = out / "sweep.md"
    atomic_write_text(md, f"# Sweep\n\n{sweep_markdown(rows)}")
    png = RunDir(out).figure("sweep")
    plot_curves(sweep_series(rows), png, xlabel="bytes per image (float32)", title=title)
    table = [r.to_dict() for r in rows]
    atomic_write_csv(out / "sweep.csv", table, list(table[0]) if table else [])
    return {"csv": out / "sweep.csv", "md": md, "png": png}


def sweep_series(rows: Sequence[SweepRow]) -> list[Series]:
    """One line per code set and setting (whitening, query expansion), mAP and its interval by
    bytes per image; the full code is the last point of the plain and the QE lines."""
    lines: dict[tuple[str, str], tuple[dict[int, float], dict[int, tuple[float, float]]]] = {}
    for r in sorted(rows, key=lambda r: (r.whiten, r.qe)):
        variant = " ".join(filter(None, ("whitened" * r.whiten, f"+QE{r.qe}" * (r.qe > 0))))
        points, ci = lines.setdefault((r.codes, variant), ({}, {}))
        points[r.bytes_per_image], ci[r.bytes_per_image] = r.map, (r.ci_low, r.ci_high)
    return [Series(codes, points, ci, variant) for (codes, variant), (points, ci) in lines.items()]
