"""The figure of one search: the query and its nearest images with their distances.

Like the experiment's retrieval figure: one row, the query first (framed), then the results
in rank order, each titled with its rank, distance and file name. A matplotlib ``Figure`` on an
Agg canvas (no display needed), written atomically as PNG when given a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from neuralcodes.errors import DataError
from neuralcodes.figures import new_figure, save_figure
from neuralcodes.images import ImageLike, load_image
from neuralcodes.index.api import SearchResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

THUMB = 160  # pixels of each thumbnail in the figure


def plot_grid(query: ImageLike, result: SearchResult, path: str | Path | None = None, *,
              columns: int = 6) -> Figure:
    """``query`` and the images of ``result`` on a grid (saved as PNG when given ``path``)."""
    tiles = [(load_image(query, THUMB), "query", True)]
    for rank, (file, dist) in enumerate(zip(result.paths, result.distances, strict=True), 1):
        tiles.append((_thumb(file), f"#{rank}  d={float(dist):.3f}\n{Path(file).name[:22]}", False))
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    fig = new_figure(2.2 * cols, 2.5 * rows, layout="constrained")
    for i, (pixels, title, is_query) in enumerate(tiles):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(pixels)
        ax.set_title(title, fontsize=8, color="tab:blue" if is_query else "black")
        ax.set_xticks([])
        ax.set_yticks([])
        if is_query:
            for spine in ax.spines.values():
                spine.set_edgecolor("tab:blue")
                spine.set_linewidth(3)
    if path is not None:
        save_figure(fig, path)
    return fig


def _thumb(path: str) -> np.ndarray:
    """A result's thumbnail, or a grey square if the file has gone since it was indexed."""
    try:
        return load_image(path, THUMB)
    except DataError:
        return np.full((THUMB, THUMB, 3), 128, np.uint8)
