"""The run report, in Markdown and as one self-contained HTML page (figures embedded).

Both are rendered from the same list of blocks built by ``report_blocks``: a heading, a paragraph,
a table or an image. Nothing is computed here: every number comes from the run's metrics.json.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from neuralcodes.artifacts import atomic_write_text
from neuralcodes.results import (
    CodeSetScore,
    PairedComparison,
    PcaCurve,
    PcaFit,
    SplitEvaluation,
    scores_from_dict,
)
from neuralcodes.runinfo import setup_rows
from neuralcodes.runs import RunDir
from neuralcodes.tables import ci_text, markdown_table, p_value_text, yes_no


@dataclass(frozen=True)
class Block:
    kind: Literal["h", "p", "table", "image"]
    text: str = ""
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    align: Literal["numbers", "text"] = "numbers"  # numbers: right-aligned, but the first column


def evaluation_table(evaluation: Mapping[str, SplitEvaluation]) -> Block:
    rows = tuple((split, f"{m.loss:.3f}", f"{m.accuracy:.3f}", f"{m.top5:.3f}",
                  "" if m.n is None else str(m.n)) for split, m in evaluation.items())
    return Block("table", header=("split", "cross-entropy", "accuracy", "top-5 accuracy", "images"),
                 rows=rows)


def retrieval_table(retrieval: Mapping[str, CodeSetScore]) -> Block:
    """One row per code set (layers, pooled, baselines): mAP with its 95 % interval, P@k, R@k."""
    ps = sorted({k for m in retrieval.values() for k in m.precision_at})
    rs = sorted({k for m in retrieval.values() for k in m.recall_at})
    rows = tuple(
        (name, str(m.dims), f"{m.map:.4f}", ci_text(m.ci95),
         *(f"{m.precision_at[k]:.3f}" if k in m.precision_at else "" for k in ps),
         *(f"{m.recall_at[k]:.3f}" if k in m.recall_at else "" for k in rs))
        for name, m in retrieval.items())
    return Block("table", header=("codes", "dims", "mAP", "95 % CI", *(f"P@{k}" for k in ps),
                                  *(f"R@{k}" for k in rs)), rows=rows)


def comparison_table(comparisons: Sequence[PairedComparison]) -> Block:
    """Paired comparisons over the same queries: mean AP difference, its 95 % CI, p-value."""
    rows = tuple((f"{c.a} - {c.b}", f"{c.mean_diff:+.4f}", ci_text(c.ci95, signed=True),
                  p_value_text(c.p_value), yes_no(c.significant)) for c in comparisons)
    return Block("table", header=("comparison", "mean AP difference", "95 % CI", "p-value",
                                  "larger than the noise"), rows=rows)


def per_class_table(retrieval: Mapping[str, CodeSetScore],
                    class_names: Mapping[str, str]) -> Block:
    """Mean AP of each out-of-domain class's queries, one column per code set (the untrained
    network's and the query-expansion columns left out, to keep the table readable)."""
    names = [n for n, m in retrieval.items()
             if m.per_class_ap and not n.startswith("untrained") and "+QE" not in n]
    classes = sorted({c for n in names for c in retrieval[n].per_class_ap})
    rows = tuple(
        (class_names.get(str(c), str(c)).split(",")[0],
         *(f"{retrieval[n].per_class_ap[c]:.4f}" if c in retrieval[n].per_class_ap else ""
           for n in names))
        for c in classes
    )
    return Block("table", header=("class", *names), rows=rows)


def pca_table(pca: Mapping[str, PcaCurve]) -> Block:
    dims = sorted({d for curve in pca.values() for d in curve.map_at})
    rows = tuple((name, *(f"{c.map_at[d]:.4f}" if d in c.map_at else "–" for d in dims))
                 for name, c in pca.items())
    return Block("table", header=("codes", *(f"{d}-d" for d in dims)), rows=rows)


def pca_text(metrics: Mapping[str, Any]) -> str:
    """What the PCA was fitted on, said plainly; a warning when it saw the database itself."""
    fit = PcaFit.from_dict(metrics.get("pca_fit", {}))
    text = (f"Codes compressed by PCA fitted on {metrics.get('pca_fit_on', PcaFit.text)}, then "
            "L2-normalised; a dash: more dimensions than the fit set allows (at most "
            "min(N_fit - 1, D)).")
    if fit.whiten:
        text += " Each component is divided by its standard deviation (PCA-whitening)."
    if fit.on_database:
        text += (" WARNING: this PCA was fitted on the retrieval database itself, as asked for "
                 "(pca_fit_on='database'); these numbers are optimistic and not comparable with "
                 "a held-out fit.")
    return text


def _retrieval_text(retrieval: Mapping[str, CodeSetScore]) -> str:
    estimator = next(iter(retrieval.values())).estimator
    how = ("docs/protocol.md's (precision averaged over the relevant items)"
           if estimator == "spec" else
           "the trapezoid rule of the Oxford5k / Holidays benchmark code")
    return ("Each out-of-domain image in turn is the query and all the others the database, "
            "ranked by Euclidean distance between L2-normalised codes. mAP with a 95 % bootstrap "
            f"interval over queries; AP estimator: {how}. P@k: precision at k; R@k: recall at "
            "k. `pixels` and `untrained` are the baselines: raw pixels and the same network "
            "before training; `+QE` rows use query expansion.")


def report_blocks(metrics: Mapping[str, Any], figures: Mapping[str, str], title: str,
                  config: Mapping[str, Any] | None = None) -> list[Block]:
    """The report's content, in order, from metrics.json's sections and the run's configuration
    (config.json's dict); ``figures`` maps a figure name to its path in the run."""
    blocks = [Block("h", title), Block("p", _summary(metrics))]
    if "evaluation" in metrics:
        evaluation = {k: SplitEvaluation.from_dict(v) for k, v in metrics["evaluation"].items()}
        blocks += [Block("h", "Classification"), evaluation_table(evaluation)]
    if "history" in figures:
        blocks += [Block("h", "Training"), Block("image", figures["history"])]
    blocks += _retrieval_blocks(metrics)
    pca = {k: PcaCurve.from_dict(c) for k, c in metrics.get("pca", {}).items()}
    if any(c.map_at for c in pca.values()):
        blocks += [Block("h", "PCA compression"), Block("p", pca_text(metrics)), pca_table(pca)]
        if "pca" in figures:
            blocks.append(Block("image", figures["pca"]))
    if "retrieval_examples" in figures:
        blocks += [Block("h", "Retrieval examples"),
                   Block("p", "The first out-of-domain queries (left) and their nearest images for "
                              "each layer, nearest first; green frame: same class as the query, "
                              "red frame: another class; under each result, the Euclidean "
                              "distance of its code to the query's."),
                   Block("image", figures["retrieval_examples"])]
    blocks += [Block("h", "Configuration and environment"),
               Block("p", "What the run was asked to do (config.json) and what it ran on "
                          "(metrics.json); a dash: not recorded by the version that made the run."),
               Block("table", header=("setting", "value"), rows=setup_rows(config or {}, metrics),
                     align="text")]
    return blocks


def _retrieval_blocks(metrics: Mapping[str, Any]) -> list[Block]:
    """The retrieval table, the paired comparisons and the per-class table."""
    retrieval = scores_from_dict(metrics.get("retrieval") or {})
    if not retrieval:
        return []
    blocks = [Block("h", "Retrieval on the out-of-domain classes"),
              Block("p", _retrieval_text(retrieval)), retrieval_table(retrieval)]
    if metrics.get("comparisons"):
        comparisons = [PairedComparison.from_dict(c) for c in metrics["comparisons"]]
        blocks += [Block("h", "Paired comparisons"),
                   Block("p", "Per-query AP of two code sets on the same queries: the mean "
                              "difference, its 95 % paired bootstrap interval and a sign-flip "
                              "permutation p-value; the difference is larger than the noise when "
                              "the interval excludes 0."),
                   comparison_table(comparisons)]
    if any(m.per_class_ap for m in retrieval.values()):
        blocks += [Block("h", "Per-class AP"),
                   Block("p", "Mean AP of the queries of each out-of-domain class."),
                   per_class_table(retrieval, metrics.get("ood_classes", {}))]
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
            out.append(markdown_table(b.header, b.rows).rstrip("\n"))
        out.append("")
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escaped HTML of a paragraph, with Markdown's `code` spans as <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def to_html(blocks: Sequence[Block], base: Path) -> str:
    """One page with every figure embedded as base64, readable offline and shareable as one file."""
    body: list[str] = []
    for i, b in enumerate(blocks):
        if b.kind == "h":
            tag = "h1" if i == 0 else "h2"
            body.append(f"<{tag}>{html.escape(b.text)}</{tag}>")
        elif b.kind == "p":
            body.append(f"<p>{_inline(b.text)}</p>")
        elif b.kind == "image":
            data = base64.b64encode((base / b.text).read_bytes()).decode()
            body.append(f'<img alt="{html.escape(b.text)}" src="data:image/png;base64,{data}">')
        else:
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
            rows = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>"
                           for r in b.rows)
            css = ' class="text"' if b.align == "text" else ""
            body.append(f"<table{css}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return _PAGE.format(title=html.escape(blocks[0].text), body="\n".join(body))


def write_report(run: RunDir, metrics: Mapping[str, Any], figures: Mapping[str, str],
                 title: str = "neuralcodes run report", *,
                 config: Mapping[str, Any] | None = None) -> tuple[Path, Path]:
    """report.md and report.html of a run folder; ``figures`` paths are relative to it;
    ``config``: the run's configuration as a dict (``config.to_dict``)."""
    blocks = report_blocks(metrics, figures, title, config)
    md, page = run.report
    atomic_write_text(md, to_markdown(blocks))
    atomic_write_text(page, to_html(blocks, run.root))
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
table.text th, table.text td {{ text-align: left; }}
table.text td:first-child {{ white-space: nowrap; }}
img {{ display: block; width: 100%; max-width: 1000px; margin: 1em 0; }}
code {{ font-family: ui-monospace, monospace; background: #f3f3f3; padding: 0 3px; }}
</style></head>
<body>
{body}
</body></html>
"""
