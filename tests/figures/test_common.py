"""Saving is atomic; captions wrap to a width without cutting; colour families by code set."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodes.figures import DPI, REPORT_WIDTH, new_figure, save_figure
from neuralcodes.figures.common import _width, family_colour, finish, fit_caption, wrap_to_width


def test_a_figure_is_saved_as_png_at_the_report_width(tmp_path: Path) -> None:
    from PIL import Image

    out = save_figure(new_figure(REPORT_WIDTH, 2.0), tmp_path / "a.png")
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (REPORT_WIDTH * DPI, 2 * DPI)


def test_a_failed_save_leaves_the_previous_file_whole(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "a.png"
    out.write_bytes(b"previous")
    fig = new_figure()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(fig, out)
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


def test_finish_saves_only_when_given_a_path(tmp_path: Path) -> None:
    fig = new_figure()
    assert finish(fig, None) is fig and list(tmp_path.iterdir()) == []
    assert finish(fig, tmp_path / "b.png") is fig and (tmp_path / "b.png").is_file()


def test_wrapping_keeps_every_letter_and_each_line_fits() -> None:
    fig = new_figure()
    width = _width(fig, "steel arch", 7.5) + 0.001  # inches
    assert wrap_to_width(fig, "steel arch bridge", width, 7.5) == ["steel arch", "bridge"]
    lines = wrap_to_width(fig, "thermometer", _width(fig, "thermo-", 7.5) + 0.001, 7.5)
    assert lines == ["thermo-", "meter"]
    assert wrap_to_width(fig, "", 1.0, 7.5) == [""]


def test_a_caption_shrinks_before_a_word_is_split() -> None:
    fig = new_figure()
    width = _width(fig, "thermometer", 7.0) + 0.001
    lines, size = fit_caption(fig, "thermometer", width, 7.5, 6.5)
    assert lines == ["thermometer"] and 7.0 <= size < 7.5  # the largest size it fits at
    assert _width(fig, "thermometer", size + 0.25) > width
    assert fit_caption(fig, "cat", width, 7.5, 6.5) == (["cat"], 7.5)
    assert fit_caption(fig, "thermometer", width / 2, 7.5, 6.5)[1] == 6.5  # then split


def test_code_sets_have_colour_families_darkest_first() -> None:
    assert family_colour(0) == family_colour(0, 0, 4) != family_colour(1)
    assert family_colour(0, 0, 3) != family_colour(0, 2, 3)
    assert family_colour(8) == family_colour(0)  # families repeat after eight code sets
