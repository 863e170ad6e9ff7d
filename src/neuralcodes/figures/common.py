"""What every figure shares: the size of the report's column, new figures, atomic PNG saving,
framed image tiles and the frame colours of the retrieval figures, and one colour family per
code set.

Figures are ``matplotlib.figure.Figure`` objects on an Agg canvas: no pyplot, no global state, no
display needed, nothing to close; a notebook displays the returned figure like any other.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from neuralcodes.artifacts import atomic_write_bytes

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

SAME, OTHER = "#1a9850", "#d73027"  # frames: green, same class as the query; red, another class
QUERY = "black"  # the query's frame
REPORT_WIDTH = 10.0  # inches: figures fill the report's column (at most 1000 px: 100 px an inch)
DPI = 150  # pixels an inch of the saved PNG (sharp when the page shows it at 100 px an inch)
# one colour map per code set, in the order the code sets come: L5, L6, L7, then the others
FAMILIES = ("Blues", "Oranges", "Greens", "Purples", "Reds", "Greys", "YlOrBr", "PuRd")


def new_figure(width: float = REPORT_WIDTH, height: float = 4.0, *,
               layout: Literal["constrained"] | None = None) -> Figure:
    """An empty figure of ``width`` x ``height`` inches on an Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Figure, path: str | Path, *, fmt: Literal["png", "jpeg"] = "png",
                dpi: int = DPI) -> Path:
    """Write ``fig`` to ``path`` as PNG (or JPEG) at ``dpi``, atomically (a reader never sees
    half a file)."""
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def finish(fig: Figure, path: str | Path | None) -> Figure:
    """Save ``fig`` when given a path; return it either way."""
    if path is not None:
        save_figure(fig, path)
    return fig


def framed(ax: Any, image: np.ndarray, frame: str | None, width: float = 2.5) -> None:
    """``image`` on ``ax`` without ticks, in a ``frame``-coloured border ``width`` points wide
    (``None``: matplotlib's thin black one)."""
    ax.imshow(image)
    ax.set_xticks([])
    ax.set_yticks([])
    if frame is not None:
        for spine in ax.spines.values():
            spine.set_edgecolor(frame)
            spine.set_linewidth(width)


def family_colour(group: int, shade: int = 0, shades: int = 1) -> str:
    """The colour of code set number ``group`` (its family), ``shade`` 0 darkest of ``shades``."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    cmap = colormaps[FAMILIES[group % len(FAMILIES)]]
    step = 0.45 / max(shades - 1, 1)
    return str(to_hex(cmap(0.9 - step * shade)))


def fit_caption(fig: Figure, text: str, width_in: float, fontsize: float,
                smallest: float) -> tuple[list[str], float]:
    """``text`` wrapped to ``width_in`` inches, and the font size it takes: ``fontsize``, or a
    smaller one (down to ``smallest``) when a word is wider than a line at ``fontsize``."""
    size = fontsize
    while size - 0.25 >= smallest and any(_width(fig, w, size) > width_in for w in text.split()):
        size -= 0.25
    return wrap_to_width(fig, text, width_in, size), size


def wrap_to_width(fig: Figure, text: str, width_in: float, fontsize: float) -> list[str]:
    """``text`` in lines no wider than ``width_in`` inches at ``fontsize`` points (measured with
    the figure's renderer); a word too long for a line is split with a hyphen. Nothing is cut."""
    words = text.split()
    lines: list[str] = []
    for word in words:
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and _width(fig, candidate, fontsize) <= width_in:
            lines[-1] = candidate
        else:
            lines.extend(_split_word(fig, word, width_in, fontsize))
    return lines or [""]


def _split_word(fig: Figure, word: str, width_in: float, fontsize: float) -> Sequence[str]:
    if _width(fig, word, fontsize) <= width_in or len(word) < 4:
        return [word]
    for n in range(len(word) - 3, 2, -1):  # the longest head that fits, 3 letters left at least
        if _width(fig, word[:n] + "-", fontsize) <= width_in:
            return [word[:n] + "-", *_split_word(fig, word[n:], width_in, fontsize)]
    return textwrap.wrap(word, 3)


def _width(fig: Figure, text: str, fontsize: float) -> float:
    """The width of ``text`` in inches at ``fontsize`` points."""
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    w, _, _ = renderer.get_text_width_height_descent(text, FontProperties(size=fontsize),
                                                     ismath=False)
    return float(w) / renderer.dpi
