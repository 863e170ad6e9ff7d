"""The training loop: Adam (AMSGrad) on cross-entropy, Keras-style early stopping, checkpoints.

Batches are gathered from ``uint8`` arrays (which may be memory-mapped) by a background thread
one batch ahead, or from a copy on the GPU when it fits (``BatchFeeder``), converted to float on
the device, and the time the loop is blocked waiting for them is recorded as
``data_wait_fraction``. The fast path: channels-last tensors, fused AMSGrad Adam, gradients set
to None, metrics summed on the device and read back every ``UPDATE_EVERY`` steps, optionally
``torch.compile`` (``compile=True``, worth it on a GPU). After every epoch ``checkpoint.pt``,
``history.json`` and ``history.csv`` are written atomically; at the end ``model.pt``.
Training metrics are running means over the epoch (dropout on), as Keras reports them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.checkpoint import (
    CHECKPOINT_NAME,
    History,
    load_checkpoint,
    rng_states,
    save_checkpoint,
    set_rng_states,
    write_history,
)
from neuralcodes.config import ModelConfig, TrainConfig, to_dict
from neuralcodes.data.tensors import BatchFeeder, fits_on_device, random_crop_flip
from neuralcodes.device import (
    autocast,
    grad_scaler,
    maybe_compile,
    num_threads,
    pick_device,
    resolve_precision,
)
from neuralcodes.early_stopping import EarlyStopping
from neuralcodes.errors import ConfigError
from neuralcodes.evaluate import batch_metrics, evaluate
from neuralcodes.model import save_model
from neuralcodes.progress import Progress, ensure
from neuralcodes.recipes import make_optimizer, make_scheduler

UPDATE_EVERY = 10  # steps between running-metric updates (each one synchronises the device)


@dataclass(frozen=True)
class TrainData:
    """(N, H, W, 3) ``uint8`` images (arrays or ``np.memmap``) and (N,) ``int64`` labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    def __post_init__(self) -> None:
        for x, y, part in ((self.x_train, self.y_train, "train"), (self.x_val, self.y_val, "val")):
            if x.dtype != np.uint8 or x.ndim != 4 or x.shape[-1] != 3:
                raise ConfigError(f"{part} images must be uint8 (N, H, W, 3), got {x.dtype} "
                                  f"{x.shape}")
            if len(x) != len(y) or len(x) == 0:
                raise ConfigError(f"{part}: {len(x)} images but {len(y)} labels (need > 0)")

    def fingerprint(self) -> dict[str, Any]:
        """Sizes that a checkpoint must match to be resumed on this data."""
        return {"train": list(self.x_train.shape), "val": list(self.x_val.shape)}


@dataclass
class TrainState:
    """Everything that changes during training and is saved in the checkpoint."""

    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR | None
    scaler: torch.amp.GradScaler
    stopper: EarlyStopping
    shuffle_rng: np.random.Generator
    augment_rng: np.random.Generator
    history: History
    epoch: int = 0  # epochs finished
    stopped: bool = False
    best_state: dict[str, torch.Tensor] | None = None
    feeder: BatchFeeder | None = None  # not saved: rebuilt from the data
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None  # the model, maybe compiled


def train(
    model: nn.Module,
    data: TrainData,
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    model_extra: dict[str, Any] | None = None,
    compile: bool | None = None,
) -> History:
    """Train ``model`` (built by ``create_model``) on ``data``; files go to ``out_dir``.

    ``resume`` continues from ``out_dir/checkpoint.pt``. ``model_extra`` is stored in
    ``model.pt`` beside the training summary (class names, data fingerprint...). ``compile``
    runs the steps through ``torch.compile`` (default: ``cfg.compile`` if the config has it).
    """
    progress, out_dir = ensure(progress), Path(out_dir)
    model_cfg: ModelConfig | None = getattr(model, "config", None)
    if not isinstance(model_cfg, ModelConfig):
        raise ConfigError("train() needs a model built by create_model (it has no .config)")
    if compile is None:
        compile = bool(getattr(cfg, "compile", False))
    with num_threads(cfg.num_threads):
        return _train(model, model_cfg, data, cfg, out_dir, resume, progress, model_extra, compile)


def _train(
    model: nn.Module,
    model_cfg: ModelConfig,
    data: TrainData,
    cfg: TrainConfig,
    out_dir: Path,
    resume: bool,
    progress: Progress,
    model_extra: dict[str, Any] | None,
    compile: bool,
) -> History:
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    steps = math.ceil(len(data.x_train) / cfg.batch_size)
    state = new_state(model, cfg, device, precision, steps)
    state.feeder = BatchFeeder(data.x_train, data.y_train, device, channels_last=cfg.channels_last,
                               on_device=fits_on_device(data.x_train.nbytes, device))
    state.forward = maybe_compile(model, compile)
    expected = {"train_config": to_dict(cfg), "model_config": to_dict(model_cfg),
                "data": data.fingerprint()}
    if resume:
        restore_state(state, model, load_checkpoint(out_dir / CHECKPOINT_NAME, expected))
        progress.log(f"resuming after epoch {state.epoch}")
    else:
        torch.manual_seed(cfg.seed)
    while not state.stopped and state.epoch < cfg.epochs:
        state.epoch += 1
        record = _epoch(model, data, cfg, state, device, precision, progress)
        after_epoch(model, cfg, state, record)
        save_checkpoint(out_dir / CHECKPOINT_NAME, snapshot(state, model, expected))
        write_history(out_dir, state.history)
        progress.log(epoch_line(record, cfg.epochs))
        if state.stopped:
            progress.log(f"early stopping: val_loss did not improve on {state.stopper.best:.4f} "
                         f"(epoch {state.stopper.best_epoch})")
    return finish(model, model_cfg, cfg, state, out_dir, model_extra)


def new_state(
    model: nn.Module, cfg: TrainConfig, device: torch.device, precision: str, steps: int
) -> TrainState:
    optimizer = make_optimizer(model, cfg, device)
    return TrainState(
        optimizer=optimizer,
        scheduler=make_scheduler(optimizer, cfg, steps),
        scaler=grad_scaler(precision, device),
        stopper=EarlyStopping(cfg.patience, cfg.min_delta),
        shuffle_rng=np.random.default_rng(cfg.seed),
        augment_rng=np.random.default_rng([cfg.seed, 1]),
        history=History(),
    )


def _epoch(
    model: nn.Module,
    data: TrainData,
    cfg: TrainConfig,
    state: TrainState,
    device: torch.device,
    precision: str,
    progress: Progress,
) -> dict[str, float]:
    """One pass over the shuffled training set, then validation; returns the history record."""
    assert state.feeder is not None and state.forward is not None
    start = time.perf_counter()
    order = state.shuffle_rng.permutation(len(data.x_train))  # (N,)
    batches = [np.sort(order[i : i + cfg.batch_size]) for i in range(0, len(order), cfg.batch_size)]
    model.train()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    seen, state.feeder.wait = 0, 0.0
    feed = state.feeder.epoch(batches)
    for step in progress.track(range(len(batches)), len(batches), desc=f"epoch {state.epoch}"):
        x, y = next(feed)  # (B, 3, H, W) float32, (B,) int64, on the device
        if cfg.augment:
            x = random_crop_flip(x, state.augment_rng)
        sums += optimisation_step(state.forward, x, y, state, precision, device)
        seen += len(y)
        if (step + 1) % UPDATE_EVERY == 0 or step + 1 == len(batches):
            loss, acc = (sums[:2] / seen).tolist()  # the only host synchronisation
            progress.update(loss=loss, acc=acc)
    feed.close()
    train_time = time.perf_counter() - start
    val = evaluate(model, data.x_val, data.y_val, batch_size=max(cfg.batch_size, 500),
                   device=device, precision=precision, channels_last=cfg.channels_last)
    loss, acc, top5 = (sums / seen).tolist()
    return {"epoch": state.epoch, "loss": loss, "accuracy": acc, "top5": top5,
            "val_loss": val["loss"], "val_accuracy": val["accuracy"], "val_top5": val["top5"],
            "seconds": time.perf_counter() - start,
            "data_wait_fraction": state.feeder.wait / train_time}


def optimisation_step(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
    state: TrainState, precision: str, device: torch.device, loss_scale: float | None = None,
) -> torch.Tensor:
    """One optimisation step; returns the batch's (3,) metric sums (detached, on the device).

    The loss is the batch mean, or with ``loss_scale`` the batch sum times ``loss_scale`` (DDP:
    world size / global batch, so that the gradient mean over ranks is the global batch's).
    """
    with autocast(precision, device):
        logits = forward(x)  # (B, K)
    if loss_scale is None:
        loss = F.cross_entropy(logits.float(), y)
    else:
        loss = F.cross_entropy(logits.float(), y, reduction="sum") * loss_scale
    state.optimizer.zero_grad(set_to_none=True)
    state.scaler.scale(loss).backward()
    state.scaler.step(state.optimizer)
    state.scaler.update()
    if state.scheduler is not None:
        state.scheduler.step()
    with torch.no_grad():
        return batch_metrics(logits.detach(), y)


def after_epoch(
    model: nn.Module, cfg: TrainConfig, state: TrainState, record: dict[str, float]
) -> None:
    """Record the epoch and let early stopping decide; keep the best weights if asked."""
    state.history.records.append(record)
    state.stopped = state.stopper.step(state.epoch, record["val_loss"])
    state.history.stopped_early = state.stopped
    state.history.best_epoch = state.stopper.best_epoch
    if cfg.restore_best and state.stopper.improved_at(state.epoch):
        state.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def snapshot(state: TrainState, model: nn.Module, expected: dict[str, Any]) -> dict[str, Any]:
    return {
        **expected,
        "model": model.state_dict(),
        "optimizer": state.optimizer.state_dict(),
        "scheduler": state.scheduler.state_dict() if state.scheduler is not None else None,
        "scaler": state.scaler.state_dict(),
        "early_stopping": state.stopper.state_dict(),
        "epoch": state.epoch,
        "stopped": state.stopped,
        "history": state.history.to_dict(),
        "best_state": state.best_state,
        "rng": {**rng_states(), "shuffle": state.shuffle_rng.bit_generator.state,
                "augment": state.augment_rng.bit_generator.state},
    }


def restore_state(state: TrainState, model: nn.Module, blob: dict[str, Any]) -> None:
    model.load_state_dict(blob["model"])
    state.optimizer.load_state_dict(blob["optimizer"])
    if state.scheduler is not None and blob["scheduler"] is not None:
        state.scheduler.load_state_dict(blob["scheduler"])
    state.scaler.load_state_dict(blob["scaler"])
    state.stopper.load_state_dict(blob["early_stopping"])
    state.epoch, state.stopped = blob["epoch"], blob["stopped"]
    state.best_state = blob["best_state"]
    hist = blob["history"]
    state.history = History(list(hist["epochs"]), hist["stopped_early"], hist["best_epoch"])
    set_rng_states(blob["rng"])
    state.shuffle_rng.bit_generator.state = blob["rng"]["shuffle"]
    state.augment_rng.bit_generator.state = blob["rng"]["augment"]


def finish(
    model: nn.Module, model_cfg: ModelConfig, cfg: TrainConfig, state: TrainState, out_dir: Path,
    extra: dict[str, Any] | None,
) -> History:
    """Restore the best weights if asked, write ``model.pt``, return the history."""
    if cfg.restore_best and state.best_state is not None:
        model.load_state_dict(state.best_state)
    last = state.history.records[-1] if state.history.records else {}
    save_model(out_dir / "model.pt", model, model_cfg, **(extra or {}),
               train_config=to_dict(cfg), epoch=state.epoch, best_epoch=state.stopper.best_epoch,
               stopped_early=state.stopped, last_epoch=last)
    return state.history


def epoch_line(r: dict[str, float], epochs: int) -> str:
    return (f"epoch {int(r['epoch'])}/{epochs}: loss {r['loss']:.4f} accuracy {r['accuracy']:.4f} "
            f"top5 {r['top5']:.4f} - val_loss {r['val_loss']:.4f} val_accuracy "
            f"{r['val_accuracy']:.4f} val_top5 {r['val_top5']:.4f} ({r['seconds']:.1f} s, data "
            f"wait {100 * r['data_wait_fraction']:.0f} %)")
