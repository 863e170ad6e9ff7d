"""The search grid: a Figure with the query and each result's rank, distance and file name."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.index.api import SearchResult
from neuralcodes.index.grid import grid_format, plot_grid


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


def test_names_in_titles_are_escaped_and_never_mathtext(tmp_path: Path) -> None:
    """A name that is not UTF-8 made matplotlib raise; one with "$" is not a formula."""
    names = [os.fsdecode(b"caf\xe9.png"), "new\nline\x1b[1m.png", "$x^2$ cost.png"]
    for i, name in enumerate(names):
        Image.new("RGB", (40, 30), (60 * i, 0, 0)).save(tmp_path / name)
    result = SearchResult(np.array([0.1, 0.2, 0.3], np.float32), np.array([0, 1, 2]),
                          [str(tmp_path / n) for n in names])
    fig = plot_grid(tmp_path / names[0], result, tmp_path / "grid.jpg")
    assert [ax.get_title() for ax in fig.axes][1:] == [
        "#1  d=0.100\ncaf\\xe9.png", "#2  d=0.200\nnew\\nline\\x1b[1m.png",
        "#3  d=0.300\n$x^2$ cost.png"]
    with Image.open(tmp_path / "grid.jpg") as img:
        assert img.format == "JPEG"


def test_grid_format_by_extension_and_folder(tmp_path: Path) -> None:
    assert [grid_format(tmp_path / n) for n in ("a.png", "b.JPG", "c.jpeg")] == [
        "png", "jpeg", "jpeg"]
    with pytest.raises(ConfigError, match=r"\.webp: name a \.png, \.jpg or \.jpeg file"):
        grid_format(tmp_path / "a.webp")
    with pytest.raises(DataError, match="missing: no such folder"):
        grid_format(tmp_path / "missing" / "a.png")
    assert not (tmp_path / "missing").exists()
