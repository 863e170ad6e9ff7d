"""Keras-style early stopping on a monitored loss (``keras.callbacks.EarlyStopping``, mode "min").

An epoch *improves* when ``value < best - min_delta``. ``wait`` counts the non-improving epochs
since the last improvement; training stops as soon as ``wait >= patience``. As in Keras, patience 0
and patience 1 both stop at the first non-improving epoch, and patience ``p >= 1`` stops at the
``p``-th consecutive one. A NaN never improves.
"""

from __future__ import annotations

import math
from typing import Any


class EarlyStopping:
    """Feed one validation loss per epoch to ``step``; it says when to stop."""

    def __init__(self, patience: int = 0, min_delta: float = 0.0) -> None:
        if patience < 0:
            raise ValueError(f"patience must be >= 0, got {patience}")
        self.patience = patience
        self.min_delta = abs(min_delta)
        self.best = math.inf
        self.best_epoch = 0
        self.wait = 0
        self.stopped_epoch = 0

    def step(self, epoch: int, value: float) -> bool:
        """Record ``value`` for ``epoch``; True when training should stop after this epoch."""
        if value + self.min_delta < self.best:  # Keras: monitor_op(current - min_delta, best)
            self.best, self.best_epoch, self.wait = value, epoch, 0
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def improved_at(self, epoch: int) -> bool:
        """Whether ``epoch`` set the current best."""
        return self.best_epoch == epoch

    def state_dict(self) -> dict[str, Any]:
        keys = ("patience", "min_delta", "best", "best_epoch", "wait", "stopped_epoch")
        return {key: getattr(self, key) for key in keys}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, value in state.items():
            setattr(self, key, value)
