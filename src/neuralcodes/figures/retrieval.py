"""The qualitative retrieval figure of docs/protocol.md: queries and their nearest images by layer.

One row per query: the query (black frame), then for each layer its k nearest images, in rank
order, framed green when they have the query's class and red otherwise. Layers are groups of
columns set apart by a gap and a separator line, each named at its centre; every tile is titled
with its class's name in full (wrapped to the tile's width, never cut; the name is the first of
WordNet's synonyms in words.txt: "refrigerator" for "refrigerator, icebox") and a result shows
its distance to the query underneath. The layout is computed in inches for the report's column
(``REPORT_WIDTH``), so the text keeps its size whatever the number of queries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralcodes.figures.common import (
    OTHER,
    QUERY,
    REPORT_WIDTH,
    SAME,
    finish,
    fit_caption,
    framed,
    new_figure,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FONT = 7.5  # points: class names, distances and row labels
SMALLEST = 6.5  # points: a class name with a word too wide for a tile at FONT may shrink to this
LINE = FONT * 1.25 / 72  # inches a line of text takes
LEFT, RIGHT, HEADER, BOTTOM = 0.3, 0.1, 0.62, 0.08  # margins, inches
SPACING, GAP = 0.05, 0.3  # inches between tiles of a group, and between groups
LEGEND = {"same": "same class as the query", "other": "another class", "query": "query",
          "distance": "under a result: the Euclidean distance of its code to the query's"}


@dataclass(frozen=True)
class Layout:
    """Where each tile goes, in inches from the figure's top left corner."""

    tile: float  # side of a tile
    title: float  # height kept above a tile for its (wrapped) class name
    row: float  # height of a row: title, tile, distance, spacing
    groups: tuple[tuple[float, float], ...]  # (left, right) of each group: the query, the layers

    def column_x(self, group: int, rank: int) -> float:
        return self.groups[group][0] + rank * (self.tile + SPACING)

    def tile_top(self, row: int) -> float:
        return HEADER + row * self.row + self.title

    def height(self, rows: int) -> float:
        return HEADER + rows * self.row + BOTTOM


def plot_retrieval(
    images: np.ndarray,  # (N, H, W, 3) uint8, the database (the OOD images)
    labels: np.ndarray,  # (N,) int
    class_names: Sequence[str],  # indexed by label
    queries: Sequence[int],  # (Q,) ids of the query images
    neighbours: Mapping[str, np.ndarray],  # layer -> (Q, k) ids, nearest first, query excluded
    path: str | Path | None = None,
    *,
    distances: Mapping[str, np.ndarray] | None = None,  # layer -> (Q, k) distances to the query
) -> Figure:
    """The figure (saved as PNG when given ``path``); distances are printed when given."""
    layers = list(neighbours)
    k = int(next(iter(neighbours.values())).shape[1])
    fig = new_figure(REPORT_WIDTH, 1.0)
    shown = np.unique(np.concatenate([labels[list(queries)],
                                      *(labels[ids].ravel() for ids in neighbours.values())]))
    layout = _layout(fig, len(layers), k, [class_name(class_names[int(c)]) for c in shown])
    height = layout.height(len(queries))
    fig.set_size_inches(REPORT_WIDTH, height)
    for row, q in enumerate(queries):
        ax = _tile(fig, layout, row, 0, 0, height, images[q], class_names[labels[q]], QUERY)
        ax.set_ylabel(f"query {row + 1}", fontsize=FONT, labelpad=3)
        for g, layer in enumerate(layers, 1):
            for rank, idx in enumerate(neighbours[layer][row]):
                colour = SAME if labels[idx] == labels[q] else OTHER
                ax = _tile(fig, layout, row, g, rank, height, images[idx],
                           class_names[labels[idx]], colour)
                if distances is not None:
                    ax.set_xlabel(f"{float(distances[layer][row, rank]):.3f}", fontsize=FONT,
                                  labelpad=1.5)
    _header(fig, layout, ["query", *layers], height)
    return finish(fig, path)


def class_name(synonyms: str) -> str:
    """The name of a class: the first of its synonyms ("tabby, tabby cat" -> "tabby")."""
    return str(synonyms).split(",")[0].strip()


def _layout(fig: Figure, n_layers: int, k: int, names: Sequence[str]) -> Layout:
    """Tile size from the column's width; title height from the longest wrapped class name."""
    tiles, spacings = 1 + n_layers * k, n_layers * (k - 1)
    tile = (REPORT_WIDTH - LEFT - RIGHT - SPACING * spacings - GAP * n_layers) / tiles
    lines = max(len(fit_caption(fig, name, tile + SPACING / 2, FONT, SMALLEST)[0])
                for name in names)
    title = lines * LINE + 0.05
    groups, x = [], LEFT
    for size in (1, *[k] * n_layers):
        width = size * tile + (size - 1) * SPACING
        groups.append((x, x + width))
        x += width + GAP
    return Layout(tile, title, title + tile + LINE + 0.14, tuple(groups))


def _tile(fig: Figure, layout: Layout, row: int, group: int, rank: int, height: float,
          image: np.ndarray, name: str, colour: str) -> Any:
    """One image in its coloured frame, titled with its wrapped class name."""
    x, top = layout.column_x(group, rank), layout.tile_top(row)
    ax = fig.add_axes((x / REPORT_WIDTH, 1 - (top + layout.tile) / height,
                       layout.tile / REPORT_WIDTH, layout.tile / height))
    framed(ax, image, colour)
    lines, size = fit_caption(fig, class_name(name), layout.tile + SPACING / 2, FONT, SMALLEST)
    ax.set_title("\n".join(lines), fontsize=size, pad=2.5, color="#222222")
    return ax


def _header(fig: Figure, layout: Layout, names: Sequence[str], height: float) -> None:
    """The legend, each group's name centred over it, and a line between groups."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    frames = [Patch(facecolor="none", edgecolor=c, linewidth=2.5, label=LEGEND[key])
              for key, c in (("same", SAME), ("other", OTHER), ("query", QUERY))]
    note = Line2D([], [], linestyle="none", label=LEGEND["distance"])
    fig.legend(handles=[*frames, note], loc="upper center", ncol=4, frameon=False,
               fontsize=8.5, bbox_to_anchor=(0.5, 1.0), handlelength=1.2, columnspacing=1.4)
    for (left, right), name in zip(layout.groups, names, strict=True):
        fig.text((left + right) / 2 / REPORT_WIDTH, 1 - (HEADER - 0.06) / height, name,
                 ha="center", va="bottom", fontsize=10, fontweight="bold")
    for (_, right), (left, _) in zip(layout.groups, layout.groups[1:], strict=False):
        x = (right + left) / 2 / REPORT_WIDTH
        fig.add_artist(Line2D([x, x], [BOTTOM / height, 1 - (HEADER - 0.3) / height],
                              color="#888888", linewidth=1.0))
