"""The figure of one search: the query and its nearest images with their distances.

Like the experiment's retrieval figure: one row, the query first (framed), then the results
in rank order, each titled with its rank, distance and file name (escaped: ``names.shown``). A
matplotlib ``Figure`` on an Agg canvas (no display needed), written atomically when given a path:
PNG for ``.png``, JPEG for ``.jpg``/``.jpeg``; another extension, or a folder that does not exist,
is refused before any work (``grid_format``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.figures import framed, new_figure, save_figure
from neuralcodes.images import ImageLike, load_image
from neuralcodes.index.api import SearchResult
from neuralcodes.names import shown

if TYPE_CHECKING:
    from matplotlib.figure import Figure

THUMB = 160  # pixels of each thumbnail in the figure
FORMATS: dict[str, Literal["png", "jpeg"]] = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg"}


def grid_format(path: str | Path) -> Literal["png", "jpeg"]:
    """The format that ``path``'s extension names; ``ConfigError`` for another extension,
    ``DataError`` when its folder does not exist (it is not created)."""
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise ConfigError(f"--grid {shown(path)}: name a .png, .jpg or .jpeg file (the format "
                          "is the extension's)")
    folder = Path(os.path.abspath(path)).parent
    if not folder.is_dir():
        raise DataError(folder, "no such folder (the grid's folder is not created: make it "
                        "first)")
    return fmt


def plot_grid(query: ImageLike, result: SearchResult, path: str | Path | None = None, *,
              columns: int = 6) -> Figure:
    """``query`` and the images of ``result`` on a grid (saved when given ``path``: PNG or JPEG
    by its extension)."""
    fmt = grid_format(path) if path is not None else "png"
    tiles = [(load_image(query, THUMB), "query", True)]
    for rank, (file, dist) in enumerate(zip(result.paths, result.distances, strict=True), 1):
        name = shown(Path(file).name)[:22]
        tiles.append((_thumb(file), f"#{rank}  d={float(dist):.3f}\n{name}", False))
    cols = min(columns, len(tiles))
    rows = -(-len(tiles) // cols)
    fig = new_figure(2.2 * cols, 2.5 * rows, layout="constrained")
    for i, (pixels, title, is_query) in enumerate(tiles):
        ax = fig.add_subplot(rows, cols, i + 1)
        framed(ax, pixels, "tab:blue" if is_query else None, 3)
        ax.set_title(title, fontsize=8, color="tab:blue" if is_query else "black",
                     parse_math=False)  # a "$" in a file name is not mathtext
    if path is not None:
        save_figure(fig, path, fmt=fmt)
    return fig


def _thumb(path: str) -> np.ndarray:
    """A result's thumbnail, or a grey square if the file has gone since it was indexed."""
    try:
        return load_image(path, THUMB)
    except DataError:
        return np.full((THUMB, THUMB, 3), 128, np.uint8)
