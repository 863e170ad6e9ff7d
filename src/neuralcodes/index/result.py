"""The answer to one query: its nearest images, readable in a terminal, a notebook and as JSON.

Paths, one convention: what a user reads on the machine that holds the photos is absolute
(``SearchResult.paths``, ``to_list``, ``to_dict``, the command line's text and ``--json``: open
them, copy and paste them); the HTTP API, which shows images to a browser by id, gives paths
relative to the indexed photo folder (``relative_paths``) and names that folder once
(``photos_root``). A file added with ``index add`` from outside the folder stays absolute.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.names import display, shown

REPR_ROWS = 10  # rows shown by repr(); the HTML table shows every result
HTML_THUMB = 96  # pixels of a thumbnail in the notebook table


@dataclass(frozen=True)
class SearchResult:
    """The nearest images of one query, nearest first, and how long each step took."""

    distances: np.ndarray  # (k,) float32, Euclidean
    ids: np.ndarray  # (k,) int64, stable image ids
    paths: list[str]  # (k,) absolute file paths
    root: str = ""  # the indexed photo folder, that relative paths start from
    generation: str = ""  # the version of the index that answered (e.g. "gen-000007")
    timings: dict[str, float] = field(default_factory=dict)  # decode_ms, encode_ms, search_ms

    def __len__(self) -> int:
        return len(self.ids)

    def relative_paths(self) -> list[str]:
        """The paths relative to the photo folder (POSIX separators); absolute outside it."""
        return [relative_to_root(p, self.root) for p in self.paths]

    def to_list(self) -> list[dict[str, Any]]:
        """JSON-ready rows: rank, id, path (absolute), distance."""
        return [{"rank": r + 1, "id": int(i), "path": p, "distance": float(d)}
                for r, (i, p, d) in enumerate(zip(self.ids, self.paths, self.distances,
                                                  strict=True))]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the photo folder, the generation, the rows and the timings."""
        return {"photos_root": self.root, "generation": self.generation,
                "results": self.to_list(), "timings": dict(self.timings)}

    def __repr__(self) -> str:
        head = f"SearchResult: {len(self)} image{'s' if len(self) != 1 else ''}"
        if self.generation:
            head += f" from {self.generation}"
        if self.timings:
            head += " (" + ", ".join(f"{k.removesuffix('_ms')} {v:.1f} ms"
                                     for k, v in self.timings.items()) + ")"
        rows = [f"  {r + 1:>3}  {float(d):.4f}  id {int(i):<6}  {shown(p)}" for r, (d, i, p) in
                enumerate(zip(self.distances, self.ids, self.relative_paths(), strict=True))]
        rows = rows[:REPR_ROWS]
        if len(self) > REPR_ROWS:
            rows.append(f"  ... {len(self) - REPR_ROWS} more")
        return "\n".join([head, *rows])

    def _repr_html_(self) -> str:
        """A table of thumbnails (inline JPEGs), ranks, distances and paths, for notebooks."""
        cells = []
        for rank, (d, path, rel) in enumerate(
                zip(self.distances, self.paths, self.relative_paths(), strict=True), 1):
            name = html.escape(display(rel))
            cells.append(
                f'<td style="text-align:center;vertical-align:top;padding:4px">'
                f"{_thumb_tag(path, name)}<br>#{rank} · {float(d):.4f}<br>"
                f'<small title="{name}">{html.escape(display(Path(rel).name))}</small></td>')
        caption = html.escape(repr(self).splitlines()[0])
        return (f"<table><caption style='text-align:left'>{caption}</caption>"
                f"<tr>{''.join(cells)}</tr></table>")


def relative_to_root(path: str, root: str) -> str:
    """``path`` relative to ``root`` with ``/`` separators, or ``path`` as is outside it."""
    if not root:
        return path
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return path


def _thumb_tag(path: str, alt: str) -> str:
    """An <img> of ``path`` as a small inline JPEG, or a grey box saying why there is none."""
    from PIL import Image

    from neuralcodes.errors import DataError
    from neuralcodes.images import load_image

    try:
        pixels = load_image(path, HTML_THUMB)  # (96, 96, 3) uint8, the centred square
    except (DataError, OSError) as e:
        reason = html.escape(getattr(e, "problem", str(e)))
        return (f'<div style="width:{HTML_THUMB}px;height:{HTML_THUMB}px;background:#ccc;'
                f'font-size:10px" title="{reason}">unreadable</div>')
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=80)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img src="data:image/jpeg;base64,{data}" alt="{alt}" title="{alt}">'

