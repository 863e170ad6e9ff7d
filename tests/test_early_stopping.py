"""Keras EarlyStopping semantics on hand-made validation-loss sequences."""

from __future__ import annotations

import math

import pytest

from neuralcodes.early_stopping import EarlyStopping


def _stop_epoch(losses: list[float], patience: int, min_delta: float = 0.0) -> int | None:
    stopper = EarlyStopping(patience, min_delta)
    for epoch, value in enumerate(losses, start=1):
        if stopper.step(epoch, value):
            return epoch
    return None


@pytest.mark.parametrize(
    ("losses", "patience", "min_delta", "expected"),
    [
        ([5.0, 4.0, 3.0, 3.5, 2.0], 0, 0.0, 4),  # the notebook: first non-improving epoch
        ([5.0, 4.0, 4.0], 0, 0.0, 3),  # equal is not an improvement
        ([5.0, 4.0, 3.0, 2.0], 0, 0.0, None),  # always improving: never stops
        ([5.0, 4.0, 4.5], 1, 0.0, 3),  # Keras: patience 1 stops like patience 0
        ([5.0, 4.0, 4.5, 3.9, 4.0, 4.1, 1.0], 2, 0.0, 6),  # 2nd non-improving in a row
        ([5.0, 4.5, 4.6, 4.7, 4.8, 4.0], 3, 0.0, 5),  # wait counts from the best
        ([5.0, 4.6], 0, 0.5, 2),  # 4.6 is not better than 5.0 by more than 0.5
        ([5.0, 4.6, 4.4, 4.5, 4.0, 3.5], 2, 0.5, 5),  # best 4.4 (epoch 3); 4.0 is not enough
        ([5.0, math.nan], 0, 0.0, 2),  # NaN never improves
    ],
)
def test_stop_epochs(
    losses: list[float], patience: int, min_delta: float, expected: int | None
) -> None:
    assert _stop_epoch(losses, patience, min_delta) == expected


def test_best_epoch_and_state_round_trip() -> None:
    stopper = EarlyStopping(patience=2)
    for epoch, value in enumerate([3.0, 2.0, 2.5], start=1):
        stopper.step(epoch, value)
    assert (stopper.best, stopper.best_epoch, stopper.wait) == (2.0, 2, 1)
    assert stopper.improved_at(2) and not stopper.improved_at(3)
    copy = EarlyStopping()
    copy.load_state_dict(stopper.state_dict())
    assert copy.state_dict() == stopper.state_dict()
    assert copy.step(4, 2.6) and copy.stopped_epoch == 4


def test_negative_patience_is_refused() -> None:
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
