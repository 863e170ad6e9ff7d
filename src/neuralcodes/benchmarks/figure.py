"""The figure of a benchmark run: a few queries, each with its first results.

Each result is framed green when it is relevant to the query, red when it is not, grey when the
ground truth ignores it (junk), and titled with its distance to the query, so that a reader sees
where the codes go wrong. Thumbnails are read here (not through the encoder), whole and upright;
a query is shown as the crop that was encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image

from neuralcodes.benchmarks.dataset import BBox, Dataset, Relevance
from neuralcodes.errors import DataError
from neuralcodes.figures import OTHER, SAME, framed, new_figure, save_figure
from neuralcodes.images import image_errors, open_image, orient, to_rgb

JUNK = "#969696"
Status = Literal["relevant", "other", "junk"]
COLOUR: dict[Status, str] = {"relevant": SAME, "other": OTHER, "junk": JUNK}
LABEL: dict[Status, str] = {"relevant": "relevant", "other": "not relevant",
                            "junk": "junk (ignored)"}


@dataclass(frozen=True)
class Shown:
    """One tile: an image (or a crop of it), its caption and its frame."""

    file: Path
    caption: str
    status: Status | None = None  # None: the query itself (black frame)
    bbox: BBox | None = None


def thumbnail(file: Path, bbox: BBox | None = None, size: int = 160) -> np.ndarray:
    """(h, w, 3) uint8, at most ``size`` on its longer side; a grey tile if unreadable."""
    try:
        img = open_image(file)
        with image_errors(file):
            img = img.crop(bbox) if bbox is not None else img
            img = to_rgb(orient(img))
            img.thumbnail((size, size), Image.Resampling.LANCZOS)
            return np.asarray(img, dtype=np.uint8)
    except DataError:
        return np.full((size // 2, size // 2, 3), 200, np.uint8)


def plot_queries(rows: Sequence[tuple[Shown, Sequence[Shown]]], path: str | Path,
                 title: str) -> Path:
    """One row per query: the query, then its results; a legend of the frame colours."""
    from matplotlib.patches import Patch

    ncols = 1 + max(len(results) for _, results in rows)
    fig = new_figure(1.7 * ncols, 1.9 * len(rows) + 0.6)
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, (query, results) in enumerate(rows):
        for c, tile in enumerate([query, *results]):
            _tile(axes[r, c], tile)
        for c in range(1 + len(results), ncols):
            axes[r, c].axis("off")
    handles = [Patch(facecolor="white", edgecolor=COLOUR[s], linewidth=2.5, label=LABEL[s])
               for s in ("relevant", "other", "junk")]
    fig.legend(handles=handles, loc="upper center", ncol=3, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=9, y=0.995 - 0.35 / fig.get_figheight())
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / fig.get_figheight()), pad=0.4)
    return save_figure(fig, path, dpi=100)


def _tile(ax: Any, tile: Shown) -> None:
    colour = "black" if tile.status is None else COLOUR[tile.status]
    framed(ax, thumbnail(tile.file, tile.bbox), colour, 3.0 if tile.status is None else 2.5)
    ax.set_title(tile.caption, fontsize=6.5, color=colour, pad=2)


def benchmark_figure(
    dataset: Dataset, ids: np.ndarray, dists: np.ndarray, path: str | Path, *,
    n_queries: int, k: int, title: str,
) -> Path:
    """``n_queries`` queries spread over the benchmark, each with its first ``k`` results
    (``ids``, ``dists``: (Q, n) rankings), framed by the main setup's relevance."""
    setup = "medium" if "medium" in dataset.truth else next(iter(dataset.truth))
    picks = np.unique(np.linspace(0, len(dataset.queries) - 1, n_queries).round().astype(int))
    rows = []
    for qi in picks:
        query = dataset.queries[qi]
        rel = dataset.truth[setup][qi]
        results = [Shown(dataset.files[j], f"{dataset.names[j]}\nd={d:.3f}", _status(j, rel))
                   for j, d in zip(ids[qi, :k], dists[qi, :k], strict=True)]
        rows.append((Shown(query.file, f"query {query.name}", None, query.bbox), results))
    return plot_queries(rows, path, title)


def _status(image: int, rel: Relevance) -> Status:
    if np.isin(image, rel.positives):
        return "relevant"
    return "junk" if np.isin(image, rel.junk) else "other"
