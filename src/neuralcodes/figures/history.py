"""The training curves: loss, accuracy and top-5 accuracy per epoch, training and validation,
with the epoch of the lowest validation loss, where training stopped, and which weights model.pt
kept (the last epoch's, as Keras does, unless ``restore_best`` asked for the best epoch's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from neuralcodes.figures.common import REPORT_WIDTH, SAME, finish, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PANELS = (("loss", "cross-entropy"), ("accuracy", "accuracy"), ("top5", "top-5 accuracy"))


def plot_history(
    history: Sequence[Mapping[str, float]],  # one record per epoch (history.json's "epochs")
    path: str | Path | None = None,
    *,
    best_epoch: int | None = None,  # early stopping's best epoch (default: lowest val_loss)
    stopped_early: bool = False,
    restored_best: bool = False,  # model.pt holds the best epoch's weights, not the last's
) -> Figure:
    """Three panels; a dashed line at the best epoch, a dotted one where training stopped."""
    from matplotlib.ticker import MaxNLocator

    epochs = [int(h["epoch"]) for h in history]
    val_loss = {int(h["epoch"]): float(h["val_loss"]) for h in history}
    best = best_epoch or min(val_loss, key=lambda e: val_loss[e])
    last = epochs[-1]
    fig = new_figure(REPORT_WIDTH, 3.9, layout="constrained")
    axes = fig.subplots(1, len(PANELS))
    for ax, (key, title) in zip(axes, PANELS, strict=True):
        ax.plot(epochs, [h[key] for h in history], "o-", color="tab:blue", label="training")
        ax.plot(epochs, [h[f"val_{key}"] for h in history], "s-", color="tab:orange",
                label="validation")
        ax.axvline(best, color=SAME, ls="--", lw=1.5,
                   label=f"lowest validation loss (epoch {best})")
        ax.axvline(last, color="0.35", ls=":", lw=1.8, label=(
            f"early stopping: stopped after epoch {last}" if stopped_early
            else f"end of training (epoch {last}, no early stop)"))
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    if best in val_loss:
        axes[0].plot([best], [val_loss[best]], "*", color=SAME, markersize=13, zorder=5)
    fig.legend(handles=axes[0].get_legend_handles_labels()[0], loc="outside lower center",
               ncol=4, fontsize=9, frameon=False)
    fig.suptitle(kept_weights(best, last, restored_best), fontsize=10)
    return finish(fig, path)


def kept_weights(best: int, last: int, restored_best: bool) -> str:
    """Which epoch's weights model.pt holds, said plainly."""
    if restored_best:
        return (f"model.pt holds the weights of epoch {best}, the lowest validation loss "
                "(restore_best)")
    return f"model.pt holds the last epoch's weights (epoch {last}), as Keras does"
