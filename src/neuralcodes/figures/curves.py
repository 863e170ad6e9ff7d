"""mAP against a size (PCA dimensions, bytes per image) with 95 % confidence bands.

Each ``Series`` belongs to a group (a code set: "L6") and has a variant ("", "whitened", "+QE2"):
a group has one colour family (the same for a code set in every figure), a variant one line style
and shade. With variants, the figure has two legends: colour = code set, line style = variant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuralcodes.figures.common import REPORT_WIDTH, family_colour, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P")


@dataclass(frozen=True)
class Series:
    """One line: ``points`` x -> y, its 95 % interval x -> (low, high), an optional reference."""

    group: str  # the code set: one colour family
    points: Mapping[int, float]
    ci: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    variant: str = ""  # "": the plain codes; else one line style ("whitened", "+QE2")
    reference: float | None = None  # drawn as a dashed horizontal line (the uncompressed mAP)

    @property
    def label(self) -> str:
        return f"{self.group} {self.variant}".strip()


def plot_curves(
    series: Sequence[Series] | Mapping[str, Mapping[int, float]],  # or name -> {x: y}
    path: str | Path | None = None,
    *,
    xlabel: str,
    title: str,
    ylabel: str = "mAP",
    logx: bool = True,
) -> Figure:
    """One line per series, a shaded band for its interval; saved as PNG when given ``path``."""
    lines = (series if not isinstance(series, Mapping)
             else [Series(name, points) for name, points in series.items()])
    groups = list(dict.fromkeys(s.group for s in lines))
    variants = list(dict.fromkeys(s.variant for s in lines))
    fig = new_figure(REPORT_WIDTH, 4.6, layout="constrained")
    ax = fig.add_subplot()
    for s in lines:
        _draw(ax, s, groups.index(s.group), variants.index(s.variant), len(variants))
    if logx:
        _log2_axis(ax, sorted({x for s in lines for x in s.points}))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    _legends(fig, groups, variants, reference=any(s.reference is not None for s in lines),
             band=any(s.ci for s in lines))
    return finish(fig, path)


def _draw(ax: Any, s: Series, group: int, variant: int, n_variants: int) -> None:
    colour = family_colour(group, variant, n_variants)
    xs = sorted(s.points)
    ax.plot(xs, [s.points[x] for x in xs], ls=STYLES[variant % len(STYLES)],
            marker=MARKERS[variant % len(MARKERS)], color=colour, label=s.label, markersize=5)
    band = [x for x in xs if x in s.ci and s.ci[x][0] == s.ci[x][0]]  # NaN: no interval
    if band:
        ax.fill_between(band, [s.ci[x][0] for x in band], [s.ci[x][1] for x in band],
                        color=colour, alpha=0.15 if variant == 0 else 0.08, linewidth=0)
    if s.reference is not None:
        ax.axhline(s.reference, ls="--", lw=1.2, color=colour, alpha=0.8)


def _log2_axis(ax: Any, xs: Sequence[int]) -> None:
    """A log2 x axis labelled with the values themselves (16, 32, 64), not powers of 2."""
    from matplotlib.ticker import NullLocator, ScalarFormatter

    ax.set_xscale("log", base=2)
    if 0 < len(xs) <= 12:
        ax.set_xticks(xs)
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(ScalarFormatter())


def _legends(fig: Figure, groups: Sequence[str], variants: Sequence[str], *, reference: bool,
             band: bool) -> None:
    """Colour = code set; with variants, a second legend: line style = variant."""
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Artist] = [Line2D([], [], color=family_colour(g), lw=2.5, label=name)
               for g, name in enumerate(groups)]
    if reference:
        handles.append(Line2D([], [], color="0.4", ls="--", label="full code (no PCA)"))
    if band:
        handles.append(Patch(facecolor="0.5", alpha=0.25, label="95 % interval"))
    fig.legend(handles=handles, loc="outside right upper", title="codes", fontsize=9)
    if len(variants) > 1:
        styles = [Line2D([], [], color="0.3", ls=STYLES[i % len(STYLES)],
                         marker=MARKERS[i % len(MARKERS)], label=v or "plain")
                  for i, v in enumerate(variants)]
        fig.legend(handles=styles, loc="outside right lower", title="line style", fontsize=9)
