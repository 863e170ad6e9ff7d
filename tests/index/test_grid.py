"""The search grid: a Figure with the query and each result's rank, distance and file name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from neuralcodes.index.api import SearchResult
from neuralcodes.index.grid import plot_grid


def test_the_grid_is_a_figure_saved_only_when_given_a_path(tmp_path: Path) -> None:
    for i, colour in enumerate([(200, 0, 0), (0, 200, 0)]):
        Image.new("RGB", (40, 30), colour).save(tmp_path / f"img{i}.png")
    result = SearchResult(np.array([0.25, 0.5], np.float32), np.array([0, 1]),
                          [str(tmp_path / "img0.png"), str(tmp_path / "gone.png")])
    fig = plot_grid(tmp_path / "img1.png", result, columns=2)
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["query", "#1  d=0.250\nimg0.png",
                                                   "#2  d=0.500\ngone.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img0.png", "img1.png"]
    plot_grid(tmp_path / "img1.png", result, tmp_path / "grid.png")
    with Image.open(tmp_path / "grid.png") as img:
        assert img.format == "PNG" and img.width > img.height
