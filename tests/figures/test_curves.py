"""mAP curves: a 95 % band per series, a colour family per code set, line styles per variant."""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.colors import to_hex
from matplotlib.figure import Figure

from neuralcodes.figures import Series, plot_curves
from neuralcodes.figures.common import family_colour

L5 = Series("L5", {16: 0.25, 32: 0.5}, {16: (0.125, 0.375), 32: (0.375, 0.625)}, reference=0.5)
L6 = Series("L6", {16: 0.5, 32: 0.75}, {16: (0.25, 0.75), 32: (0.5, 1.0)}, reference=0.75)


def legend_texts(fig: Figure) -> list[list[str]]:
    return [[t.get_text() for t in legend.get_texts()] for legend in fig.legends]


def test_each_series_has_its_band_and_its_reference_line() -> None:
    fig = plot_curves([L5, L6], xlabel="PCA dimensions", title="t")
    (ax,) = fig.axes
    assert len(ax.collections) == 2  # one 95 % band per series
    lows = sorted(float(v[:, 1].min()) for c in ax.collections for v in c.get_paths()[0:1]
                  for v in [v.vertices])
    assert lows == [0.125, 0.25]
    dashed = sorted(ln.get_ydata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--")
    assert dashed == [0.5, 0.75]
    assert legend_texts(fig) == [["L5", "L6", "full code (no PCA)", "95 % interval"]]
    assert ax.get_xlabel() == "PCA dimensions" and ax.get_ylabel() == "mAP"


def test_variants_share_their_code_sets_colour_family_and_get_a_line_style_legend() -> None:
    series = [Series("L6", {64: 0.5}, {64: (0.4, 0.6)}),
              Series("L6", {64: 0.55}, {64: (0.45, 0.65)}, "+QE2"),
              Series("L7", {64: 0.6}, {64: (math.nan, math.nan)})]
    fig = plot_curves(series, xlabel="bytes", title="t")
    (ax,) = fig.axes
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"L6", "L6 +QE2", "L7"}
    assert to_hex(lines["L6"].get_color()) == family_colour(0, 0, 2)
    assert to_hex(lines["L6 +QE2"].get_color()) == family_colour(0, 1, 2)
    assert to_hex(lines["L7"].get_color()) == family_colour(1, 0, 2)
    assert lines["L6"].get_linestyle() == "-" and lines["L6 +QE2"].get_linestyle() == "--"
    assert len(ax.collections) == 2  # L7's interval is NaN: no band
    assert legend_texts(fig) == [["L6", "L7", "95 % interval"], ["plain", "+QE2"]]


def test_a_mapping_of_points_is_accepted_and_saved(tmp_path: Path) -> None:
    fig = plot_curves({"L6": {16: 0.5, 32: 0.75}}, tmp_path / "c.png", xlabel="x", title="t",
                      logx=False)
    assert fig.axes[0].get_xscale() == "linear" and len(fig.axes[0].collections) == 0
    assert legend_texts(fig) == [["L6"]]
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_a_log_axis_is_labelled_with_the_values() -> None:
    ax = plot_curves([L5], xlabel="x", title="t").axes[0]
    assert ax.get_xscale() == "log" and list(ax.get_xticks()) == [16, 32]
