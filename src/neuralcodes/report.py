"""The run report, in Markdown and as one self-contained HTML page (figures embedded).

Both are rendered from the same list of blocks built by ``report_blocks``: a heading, a paragraph,
a table or an image. Nothing is computed here: every number comes from the run's metrics.json.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import atomic_write_text


@dataclass(frozen=True)
class Block:
    kind: str  # "h" | "p" | "table" | "image"
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def evaluation_table(evaluation: Mapping[str, Mapping[str, float]]) -> Block:
    rows = tuple(
        (split, f"{m['loss']:.3f}", f"{m['accuracy']:.3f}", f"{m['top5']:.3f}", str(m.get("n", "")))
        for split, m in evaluation.items()
    )
    return Block("table", header=("split", "cross-entropy", "accuracy", "top-5 accuracy", "images"),
                 rows=rows)


def retrieval_table(retrieval: Mapping[str, Mapping[str, Any]]) -> Block:
    """One row per code (layers, then baselines): mAP with its 95 % interval and precision@k."""
    ks = sorted({int(k) for m in retrieval.values() for k in m.get("precision_at", {})})
    rows = []
    for name, m in retrieval.items():
        ci = m.get("ci95")
        ci_text = f"[{ci[0]:.4f}, {ci[1]:.4f}]" if ci else ""
        p_at = m.get("precision_at", {})
        rows.append((name, str(m.get("dims", "")), f"{m['map']:.4f}", ci_text,
                     *(f"{p_at[str(k)]:.3f}" if str(k) in p_at else "" for k in ks)))
    return Block("table", header=("codes", "dims", "mAP", "95 % CI",
                                  *(f"P@{k}" for k in ks)), rows=tuple(rows))


def pca_table(pca: Mapping[str, Mapping[str, float]]) -> Block:
    dims = sorted({int(d) for curve in pca.values() for d in curve})
    rows = tuple((layer, *(f"{curve[str(d)]:.4f}" if str(d) in curve else "–" for d in dims))
                 for layer, curve in pca.items())
    return Block("table", header=("layer", *(f"{d}-d" for d in dims)), rows=rows)


def report_blocks(metrics: Mapping[str, Any], figures: Mapping[str, str], title: str) -> list[Block]:
    """The report's content, in order; ``figures`` maps a figure name to its path in the run."""
    blocks = [Block("h", title), Block("p", _summary(metrics))]
    if "evaluation" in metrics:
        blocks += [Block("h", "Classification"), evaluation_table(metrics["evaluation"])]
    if "history" in figures:
        blocks += [Block("h", "Training"), Block("image", figures["history"])]
    if "retrieval" in metrics:
        blocks += [Block("h", "Retrieval on the out-of-domain classes"),
                   Block("p", "Each out-of-domain image in turn is the query and all the others the "
                              "database, ranked by Euclidean distance between L2-normalised codes. "
                              "mAP with a 95 % bootstrap interval over queries. `pixels` and "
                              "`untrained` are the baselines: raw pixels and the same network before "
                              "training."),
                   retrieval_table(metrics["retrieval"])]
    if metrics.get("pca"):
        fit = metrics.get("pca_fit_on", "held-out in-domain images")
        blocks += [Block("h", "PCA compression"),
                   Block("p", f"Codes compressed by PCA fitted on {fit}, then L2-normalised."),
                   pca_table(metrics["pca"])]
        if "pca" in figures:
            blocks.append(Block("image", figures["pca"]))
    if "retrieval_examples" in figures:
        blocks += [Block("h", "Retrieval examples"),
                   Block("p", "The first out-of-domain queries (left) and their nearest images for "
                              "each layer; green: same class as the query, red: another class."),
                   Block("image", figures["retrieval_examples"])]
    return blocks


def _summary(metrics: Mapping[str, Any]) -> str:
    prov = metrics.get("provenance", {})
    parts = [f"neuralcodes {prov.get('neuralcodes_version', '?')}"]
    if "data" in metrics:
        d = metrics["data"]
        parts.append(f"data: {d.get('source')} ({d.get('n_images')} images, "
                     f"{d.get('n_classes')} classes, {d.get('n_ood_classes')} out-of-domain)")
    if "training" in metrics:
        t = metrics["training"]
        parts.append(f"training: {t.get('epochs')} epochs, {t.get('seconds', 0):.0f} s on "
                     f"{t.get('device')}")
    return "; ".join(parts) + "."


def to_markdown(blocks: Sequence[Block]) -> str:
    out: list[str] = []
    for i, b in enumerate(blocks):
        if b.kind == "h":
            out.append(("# " if i == 0 else "## ") + b.text)
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "image":
            out.append(f"![{Path(b.text).stem}]({b.text})")
        else:
            out.append("| " + " | ".join(b.header) + " |")
            out.append("|" + "---|" * len(b.header))
            out += ["| " + " | ".join(r) + " |" for r in b.rows]
        out.append("")
    return "\n".join(out)


def to_html(blocks: Sequence[Block], base: Path) -> str:
    """One page with every figure embedded as base64, readable offline and shareable as one file."""
    body: list[str] = []
    for i, b in enumerate(blocks):
        if b.kind == "h":
            tag = "h1" if i == 0 else "h2"
            body.append(f"<{tag}>{html.escape(b.text)}</{tag}>")
        elif b.kind == "p":
            body.append(f"<p>{html.escape(b.text)}</p>")
        elif b.kind == "image":
            data = base64.b64encode((base / b.text).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}">')
        else:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                           for r in b.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return _PAGE.format(title=html.escape(blocks[0].text), body="\n".join(body))


def write_report(run_dir: Path, metrics: Mapping[str, Any], figures: Mapping[str, str],
                 title: str = "neuralcodes run report") -> tuple[Path, Path]:
    blocks = report_blocks(metrics, figures, title)
    md, page = run_dir / "report.md", run_dir / "report.html"
    atomic_write_text(md, to_markdown(blocks))
    atomic_write_text(page, to_html(blocks, run_dir))
    return md, page


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
th {{ background: #f3f3f3; }}
img {{ max-width: 100%; margin: 1em 0; }}
</style></head>
<body>
{body}
</body></html>
"""
