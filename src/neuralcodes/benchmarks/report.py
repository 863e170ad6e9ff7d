"""The text of a result (results.md, printed by the command): our scores, then the paper's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neuralcodes.benchmarks.catalog import DESCRIPTION
from neuralcodes.benchmarks.paper import SOURCE, PaperFigure
from neuralcodes.tables import ci_text, markdown_table

SETUP_TITLE = {"all": "–", "easy": "Easy", "medium": "Medium", "hard": "Hard"}


def pca_text(pca: dict[str, Any] | None) -> str:
    if pca is None:
        return "none (full-size codes)"
    whiten = ", whitened" if pca["whiten"] else ""
    if pca["on_database"]:
        return (f"{pca['dims']} dims{whiten}, fitted on this benchmark's own database "
                f"({pca['n_fit']} images; asked for with --pca-fit-on self: optimistic)")
    return f"{pca['dims']} dims{whiten}, fitted on {pca['fitted_on']} ({pca['n_fit']} images)"


def result_text(
    name: str, layer: str, dims: int, data: dict[str, Any], rows: Sequence[dict[str, Any]],
    pca: dict[str, Any] | None, paper: Sequence[PaperFigure], skipped: Sequence[str],
) -> str:
    lines = [f"# Benchmark {name}", "", DESCRIPTION[name], "",
             f"- codes: {layer}, {dims} dims; PCA: {pca_text(pca)}",
             f"- data: {data['root']} ({data['n_images']} images, {data['n_queries']} queries)"]
    if data.get("complete") is False:
        lines.append(f"- **not the whole dataset**: the official one has "
                     f"{data.get('expected_images')} images; scores are not comparable to "
                     "published ones")
    if data.get("rotated"):
        lines.append(f"- rotated Holidays: {data['rotated']['replaced']} images replaced by the "
                     f"upright copies of {data['rotated']['folder']}")
    if skipped:
        lines.append(f"- {len(skipped)} unreadable database images left out: "
                     + ", ".join(skipped[:5]) + (", ..." if len(skipped) > 5 else ""))
    lines += ["", markdown_table(*_score_table(rows, _codes_cell(layer, dims, pca)))]
    lines += _paper_lines(paper, rows)
    return "\n".join(lines)


def _codes_cell(layer: str, dims: int, pca: dict[str, Any] | None) -> str:
    if pca is None:
        return f"{layer} ({dims}-d)"
    fitted = "own database: optimistic" if pca["on_database"] else "fitted elsewhere"
    return f"{layer}, PCA {dims}-d{' whitened' if pca['whiten'] else ''} ({fitted})"


def _score_table(rows: Sequence[dict[str, Any]],
                 codes: str) -> tuple[list[str], list[list[str]]]:
    metric = rows[0]["metric"]
    ks = list(rows[0].get("precision_at", {}))
    header = ["codes", "setup", metric, "95 % CI", *(f"mP@{k}" for k in ks), "queries"]
    body = []
    for r in rows:
        ci = r["ci95"] or [float("nan")] * 2
        body.append([codes, SETUP_TITLE.get(r["setup"], r["setup"]), _fmt(r["value"]),
                     ci_text(ci),
                     *(_fmt(r["precision_at"][k]["value"]) for k in ks), str(r["n_queries"])])
    return header, body


def _paper_lines(paper: Sequence[PaperFigure], rows: Sequence[dict[str, Any]]) -> list[str]:
    if not paper:
        return ["", f"The paper ({SOURCE}) gives no figure quoted here for these codes."]
    ours = rows[0]["value"]
    body = [[f"{f.layer}, " + ("full-size" if f.dims is None else f"{f.dims} dims"),
             f"{f.value:.3f}" if f.metric == "mAP" else f"{f.value:.2f}", _fmt(ours), f.cite()]
            for f in paper]
    return ["", f"The paper ({SOURCE}):", "",
            markdown_table(["codes", f"paper's {paper[0].metric}", "ours", "source"], body)]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"
