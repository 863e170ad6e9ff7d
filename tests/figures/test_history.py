"""The training curves mark the best epoch, the stopping point and the weights kept."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from neuralcodes.figures import plot_history
from neuralcodes.figures.history import kept_weights

HISTORY = [{"epoch": e, "loss": 3.0 - e / 4, "accuracy": e / 8, "top5": e / 4,
            "val_loss": v, "val_accuracy": e / 10, "val_top5": e / 5}
           for e, v in zip((1, 2, 3, 4), (2.5, 2.0, 2.25, 2.5), strict=True)]


def vlines(ax: object) -> list[tuple[float, str]]:
    return [(line.get_xdata()[0], line.get_label()) for line in ax.get_lines()  # type: ignore
            if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2]


def test_best_and_stopping_epochs_are_marked_on_every_panel() -> None:
    fig = plot_history(HISTORY, best_epoch=2, stopped_early=True)
    assert isinstance(fig, Figure)
    axes = [ax for ax in fig.axes if ax.get_lines()]
    assert [ax.get_title() for ax in axes] == ["cross-entropy", "accuracy", "top-5 accuracy"]
    for ax in axes:
        assert vlines(ax) == [(2, "lowest validation loss (epoch 2)"),
                              (4, "early stopping: stopped after epoch 4")]
    star = [ln for ln in axes[0].get_lines() if ln.get_marker() == "*"]
    assert [(ln.get_xdata()[0], ln.get_ydata()[0]) for ln in star] == [(2, 2.0)]
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "training", "validation", "lowest validation loss (epoch 2)",
        "early stopping: stopped after epoch 4"]


def test_the_title_says_which_weights_model_pt_holds() -> None:
    last = plot_history(HISTORY, stopped_early=True)
    assert last.get_suptitle() == "model.pt holds the last epoch's weights (epoch 4), as Keras does"
    best = plot_history(HISTORY, restored_best=True)
    assert best.get_suptitle() == kept_weights(2, 4, True)
    assert "epoch 2, the lowest validation loss (restore_best)" in best.get_suptitle()


def test_the_best_epoch_defaults_to_the_lowest_validation_loss_and_no_early_stop_is_said() -> None:
    ax = plot_history(HISTORY).axes[0]
    assert vlines(ax) == [(2, "lowest validation loss (epoch 2)"),
                          (4, "end of training (epoch 4, no early stop)")]


def test_a_path_saves_a_png(tmp_path: Path) -> None:
    plot_history(HISTORY, tmp_path / "history.png")
    assert (tmp_path / "history.png").read_bytes()[:4] == b"\x89PNG"
