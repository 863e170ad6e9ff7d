"""PNG figures: training curves, the retrieval figure of docs/protocol.md, and mAP curves.

Pure drawing: each function takes arrays and a path, writes one PNG atomically, returns the path.
matplotlib is imported lazily with the Agg backend, so nothing here needs a display.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import atomic_write_bytes

SAME, OTHER = "#1a9850", "#d73027"  # green: same class as the query; red: another class


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return Path(path)


def plot_history(history: Sequence[Mapping[str, float]], path: str | Path) -> Path:
    """Loss, accuracy and top-5 accuracy per epoch, training and validation."""
    plt = _pyplot()
    epochs = [int(h["epoch"]) for h in history]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, key, title in zip(axes, ("loss", "accuracy", "top5"),
                              ("cross-entropy", "accuracy", "top-5 accuracy"), strict=True):
        ax.plot(epochs, [h[key] for h in history], "o-", label="training")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "s-", label="validation")
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
    axes[0].legend()
    fig.tight_layout()
    return _save(fig, path)


def plot_retrieval(
    images: np.ndarray,  # (N, H, W, 3) uint8, the database (the OOD images)
    labels: np.ndarray,  # (N,) int
    class_names: Sequence[str],  # indexed by label
    queries: Sequence[int],  # (Q,) ids of the query images
    neighbours: Mapping[str, np.ndarray],  # layer -> (Q, k) ids, nearest first, query excluded
    path: str | Path,
) -> Path:
    """The qualitative figure: one row per query; for each layer its k nearest images.

    Each result is framed green when it has the query's class and red otherwise, and titled with
    its class name, so a reader sees at a glance where each layer goes wrong.
    """
    plt = _pyplot()
    layers = list(neighbours)
    k = next(iter(neighbours.values())).shape[1]
    ncols = 1 + len(layers) * k
    fig, axes = plt.subplots(len(queries), ncols, figsize=(1.25 * ncols, 1.45 * len(queries)),
                             squeeze=False)
    for row, q in enumerate(queries):
        _tile(axes[row, 0], images[q], _short(class_names[labels[q]]), "black", 2.5)
        axes[row, 0].set_ylabel(f"query {row}", fontsize=8)
        for j, layer in enumerate(layers):
            for r, idx in enumerate(neighbours[layer][row]):
                colour = SAME if labels[idx] == labels[q] else OTHER
                ax = axes[row, 1 + j * k + r]
                _tile(ax, images[idx], _short(class_names[labels[idx]]), colour, 2.5)
                if row == 0 and r == 0:
                    ax.annotate(layer, (0, 1.35), xycoords="axes fraction", fontsize=11,
                                fontweight="bold")
    fig.tight_layout(pad=0.3)
    return _save(fig, path)


def _tile(ax: Any, image: np.ndarray, title: str, colour: str, width: float) -> None:
    ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(width)
    ax.set_title(title, fontsize=6.5, color=colour, pad=2)


def _short(name: str, n: int = 16) -> str:
    first = name.split(",")[0].strip()
    return first if len(first) <= n else first[: n - 1] + "…"


def plot_curves(
    curves: Mapping[str, Mapping[int, float]],  # series name -> {x: mAP}
    path: str | Path,
    *,
    xlabel: str,
    title: str,
    reference: Mapping[str, float] | None = None,  # series name -> mAP drawn as a dashed line
    logx: bool = True,
) -> Path:
    """mAP against a size (PCA dimensions, bytes per image), one line per series."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for name, points in curves.items():
        xs = sorted(points)
        line = ax.plot(xs, [points[x] for x in xs], "o-", label=name)[0]
        if reference and name in reference:
            ax.axhline(reference[name], ls="--", color=line.get_color(), alpha=0.6)
    if logx:
        ax.set_xscale("log", base=2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mAP")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
