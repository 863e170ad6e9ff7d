"""The retrieval figure: full class names, frames, a legend, distances, centred layer groups."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

from neuralcodes.figures import OTHER, QUERY, SAME, plot_retrieval
from neuralcodes.figures.retrieval import class_name

NAMES = ["Egyptian cat", "steel arch bridge, viaduct", "thermometer",
         "American lobster, Northern lobster, Maine lobster, Homarus americanus"]
LABELS = np.array([0, 1, 2, 3, 0, 1, 2, 3])  # (8,)
IMAGES = np.arange(8 * 4 * 4 * 3, dtype=np.uint8).reshape(8, 4, 4, 3)  # (8, 4, 4, 3)
NEIGHBOURS = {"L5": np.array([[4, 1], [5, 2]]), "L6": np.array([[2, 4], [3, 5]])}  # (Q=2, k=2)
DISTANCES = {"L5": np.array([[0.125, 0.5], [0.25, 0.75]]),
             "L6": np.array([[0.375, 0.625], [0.875, 1.125]])}


def draw(path: Path | None = None) -> Figure:
    return plot_retrieval(IMAGES, LABELS, NAMES, [0, 1], NEIGHBOURS, path, distances=DISTANCES)


def tiles(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.images]


def test_class_name_is_the_first_synonym_never_cut() -> None:
    assert class_name("American lobster, Northern lobster") == "American lobster"
    assert class_name("a very long class name without a synonym") == (
        "a very long class name without a synonym")


def test_every_tile_is_titled_with_its_whole_class_name_wrapped() -> None:
    fig = draw()
    assert len(tiles(fig)) == 2 * (1 + 2 * 2)
    titles = [" ".join(ax.get_title().split()).replace("- ", "") for ax in tiles(fig)]
    # row 0: query 0 (cat), L5: 4 (cat), 1 (bridge), L6: 2 (thermometer), 4 (cat)
    assert titles[:5] == ["Egyptian cat", "Egyptian cat", "steel arch bridge", "thermometer",
                          "Egyptian cat"]
    assert titles[5] == "steel arch bridge"
    assert "American lobster" in titles  # label 3, in row 1's L6 results


def test_at_the_reports_size_names_wrap_within_their_tiles() -> None:
    """10 queries x 3 layers x 5 results, as the experiment draws: no title overlaps another."""
    rng = np.random.default_rng(0)
    labels = np.arange(40) % 4  # (40,)
    ids = {layer: rng.choice(np.arange(10, 40), (10, 5)) for layer in ("L5", "L6", "L7")}
    fig = plot_retrieval(np.zeros((40, 8, 8, 3), np.uint8), labels, NAMES, list(range(10)), ids)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    assert len(tiles(fig)) == 10 * 16
    wrapped = 0
    for row in range(10):
        boxes = [ax.title.get_window_extent(renderer) for ax in tiles(fig)[16 * row:16 * row + 16]]
        assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:], strict=False))
        wrapped += sum("\n" in ax.get_title() for ax in tiles(fig)[16 * row:16 * row + 16])
    assert wrapped > 0


def test_frames_are_black_green_and_red() -> None:
    row0 = tiles(draw())[:5]
    colours = [ax.spines["top"].get_edgecolor() for ax in row0]
    from matplotlib.colors import to_rgba

    assert colours == [to_rgba(c) for c in (QUERY, SAME, OTHER, OTHER, SAME)]


def test_the_legend_explains_the_frames_and_the_distances() -> None:
    (legend,) = draw().legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts[:3] == ["same class as the query", "another class", "query"]
    assert "distance" in texts[3]


def test_each_result_shows_its_distance() -> None:
    labels = [ax.get_xlabel() for ax in tiles(draw())]
    assert labels == ["", "0.125", "0.500", "0.375", "0.625",
                      "", "0.250", "0.750", "0.875", "1.125"]


def test_layer_names_are_centred_over_their_groups_with_separators_between() -> None:
    fig = draw()
    row0 = tiles(fig)[:5]
    for name, group in (("query", row0[:1]), ("L5", row0[1:3]), ("L6", row0[3:5])):
        (text,) = [t for t in fig.texts if t.get_text() == name]
        left = group[0].get_position().x0
        right = group[-1].get_position().x1
        assert text.get_position()[0] == pytest.approx((left + right) / 2)
        assert text.get_horizontalalignment() == "center"
    separators = [a for a in fig.artists if a.get_xdata()[0] == a.get_xdata()[1]]
    assert len(separators) == 2  # query | L5 | L6
    assert row0[0].get_position().x1 < separators[0].get_xdata()[0] < row0[1].get_position().x0


def test_without_distances_nothing_is_printed_under_the_results() -> None:
    fig = plot_retrieval(IMAGES, LABELS, NAMES, [0], {"L6": NEIGHBOURS["L6"][:1]})
    assert [ax.get_xlabel() for ax in tiles(fig)] == ["", "", ""]


def test_a_path_saves_a_png_and_returns_the_figure(tmp_path: Path) -> None:
    out = tmp_path / "figures" / "retrieval.png"
    fig = draw(out)
    assert isinstance(fig, Figure)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["retrieval.png"]  # no temporary file
