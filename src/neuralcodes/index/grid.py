"""The figure of one search: the query and its nearest images with their distances.

Like the experiment's retrieval figure: one row, the query first (framed), then the results
in rank order, each titled with its rank, distance and file name. Drawn with matplotlib's Agg
backend (no display needed) and written atomically as PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from neuralcodes.artifacts import atomic_write_bytes
from neuralcodes.errors import DataError
from neuralcodes.index.api import SearchResult
from neuralcodes.index.images import ImageLike, load_image

THUMB = 160  # pixels of each thumbnail in the figure


def save_grid(query: ImageLike, result: SearchResult, out_path: str | Path, *,
              columns: int = 6) -> Path:
    """Draw ``query`` and the images of ``result`` on a grid and save it as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    tiles = [(load_image(query, THUMB), "query", True)]
    for rank, (path, dist) in enumerate(zip(result.paths, result.distances, strict=True), 1):
        tiles.append((_thumb(path), f"#{rank}  d={float(dist):.3f}\n{Path(path).name[:22]}", False))
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    fig = Figure(figsize=(2.2 * cols, 2.5 * rows))
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
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    out = Path(out_path)
    atomic_write_bytes(out, buf.getvalue())
    return out


def _thumb(path: str) -> np.ndarray:
    """A result's thumbnail, or a grey square if the file has gone since it was indexed."""
    try:
        return load_image(path, THUMB)
    except DataError:
        return np.full((THUMB, THUMB, 3), 128, np.uint8)
