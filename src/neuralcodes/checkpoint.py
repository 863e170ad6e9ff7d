"""What training writes every epoch: ``checkpoint.pt`` (to resume) and the history files.

The checkpoint holds everything that decides the next epoch (``TrainState``): weights, optimizer,
scheduler and loss-scaler state, early-stopping state, the RNG states (torch, CUDA, the NumPy
generators of the shuffle and of the augmentation) and the configurations, so a resumed run
continues exactly where the interrupted one stopped. It is refused when the configuration it was
written with differs. One layout for single-process and DDP training: either resumes the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neuralcodes.artifacts import atomic_torch_save, atomic_write_csv, atomic_write_json, provenance
from neuralcodes.early_stopping import EarlyStopping
from neuralcodes.errors import ArtifactMismatchError, DataError

CHECKPOINT_FORMAT = 1
CHECKPOINT_NAME = "checkpoint.pt"
HISTORY_COLUMNS = (
    "epoch", "loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5",
    "seconds", "data_wait_fraction",
)  # fmt: skip
# settings that may change between an interrupted run and its resumption
RESUMABLE_CHANGES = frozenset({"epochs", "device", "num_threads"})


@dataclass
class History:
    """One record per finished epoch (keys: ``HISTORY_COLUMNS``), and how training ended."""

    records: list[dict[str, float]] = field(default_factory=list)
    stopped_early: bool = False
    best_epoch: int = 0

    def __len__(self) -> int:
        """The number of finished epochs."""
        return len(self.records)

    def column(self, key: str) -> list[float]:
        return [record[key] for record in self.records]

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs": self.records,
            "stopped_early": self.stopped_early,
            "best_epoch": self.best_epoch,
        }


@dataclass
class TrainState:
    """Everything that changes during training and is saved in the checkpoint."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR | None
    scaler: torch.amp.GradScaler
    stopper: EarlyStopping
    shuffle_rng: np.random.Generator
    augment_rng: np.random.Generator
    history: History = field(default_factory=History)
    epoch: int = 0  # epochs finished
    stopped: bool = False
    best_state: dict[str, torch.Tensor] | None = None  # on the CPU; only with restore_best

    def snapshot(self, model: nn.Module, expected: dict[str, Any]) -> dict[str, Any]:
        """The checkpoint's content: ``expected`` (configurations, data sizes) and the state."""
        return {
            **expected,
            "model": model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict(),
            "early_stopping": self.stopper.state_dict(),
            "epoch": self.epoch,
            "stopped": self.stopped,
            "history": self.history.to_dict(),
            "best_state": self.best_state,
            "rng": {  # dropout masks depend on the torch generators
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
                "shuffle": self.shuffle_rng.bit_generator.state,
                "augment": self.augment_rng.bit_generator.state,
            },
        }

    def restore(self, model: nn.Module, blob: dict[str, Any]) -> None:
        """Load a checkpoint written by ``snapshot`` into ``model``, this state and the RNGs."""
        model.load_state_dict(blob["model"])
        self.optimizer.load_state_dict(blob["optimizer"])
        if self.scheduler is not None and blob["scheduler"] is not None:
            self.scheduler.load_state_dict(blob["scheduler"])
        self.scaler.load_state_dict(blob["scaler"])
        self.stopper.load_state_dict(blob["early_stopping"])
        self.epoch, self.stopped = blob["epoch"], blob["stopped"]
        self.best_state = blob["best_state"]
        hist = blob["history"]
        self.history = History(list(hist["epochs"]), hist["stopped_early"], hist["best_epoch"])
        rng = blob["rng"]
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.shuffle_rng.bit_generator.state = rng["shuffle"]
        self.augment_rng.bit_generator.state = rng["augment"]


def write_history(out_dir: Path, history: History) -> None:
    """``history.json`` and ``history.csv`` in ``out_dir``, atomically."""
    atomic_write_json(out_dir / "history.json", {**provenance("history"), **history.to_dict()})
    atomic_write_csv(out_dir / "history.csv", history.records, HISTORY_COLUMNS)


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write the training ``state`` (see ``train``) with a checkpoint header, atomically."""
    atomic_torch_save(path, {"header": provenance("checkpoint", format=CHECKPOINT_FORMAT), **state})


def load_checkpoint(path: Path, expected: dict[str, Any]) -> dict[str, Any]:
    """Read ``path`` and refuse it unless it matches ``expected``.

    ``expected`` holds ``train_config``, ``model_config`` and ``data`` dicts; the training
    configurations may differ only in ``RESUMABLE_CHANGES``.
    """
    if not path.is_file():
        raise DataError(path, "no checkpoint to resume from (train without --resume first)")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # foreign or truncated file
        raise DataError(path, f"not a neuralcodes checkpoint ({type(e).__name__}: {e})") from None
    header = blob.get("header", {}) if isinstance(blob, dict) else {}
    if header.get("artifact") != "checkpoint" or header.get("format") != CHECKPOINT_FORMAT:
        raise DataError(path, f"not a neuralcodes checkpoint of format {CHECKPOINT_FORMAT}")
    diffs = []
    for part, wanted in expected.items():
        stored = blob.get(part, {})
        for key in sorted(set(wanted) | set(stored)):
            skip = part == "train_config" and key in RESUMABLE_CHANGES
            if not skip and stored.get(key) != wanted.get(key):
                diffs.append(f"{part}.{key}: checkpoint has {stored.get(key)!r}, "
                             f"now {wanted.get(key)!r}")
    if diffs:
        raise ArtifactMismatchError(f"{path} cannot be resumed with these settings: "
                                    + "; ".join(diffs))
    return dict(blob)

