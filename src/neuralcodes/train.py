"""The training loop: Adam (AMSGrad) on cross-entropy, Keras-style early stopping, checkpoints.

Batches are gathered from ``uint8`` arrays (which may be memory-mapped) by a background thread
one batch ahead, or from a copy on the GPU when it fits (``BatchFeeder``), converted to float on
the device, and the time the loop is blocked waiting for them is recorded as
``data_wait_fraction``. The fast path: channels-last tensors, fused AMSGrad Adam, gradients set
to None, metrics summed on the device and read back every ``UPDATE_EVERY`` steps, optionally
``torch.compile`` (``compile=True``, worth it on a GPU). After every epoch ``checkpoint.pt``,
``history.json`` and ``history.csv`` are written atomically; at the end ``model.pt``.
Training metrics are running means over the epoch (dropout on), as Keras reports them.

One loop for one process and for several: a ``DistContext`` (``neuralcodes.dist_context``) says
which rows of each global batch this process computes, how its loss is scaled and how metric
sums are combined, and whether it writes files. Every process draws the same shuffle, so the
global batches are those of a single-process run (``neuralcodes.distributed.ddp``).
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

from neuralcodes.allocator import tune_once
from neuralcodes.checkpoint import (
    CHECKPOINT_NAME,
    History,
    TrainState,
    load_checkpoint,
    save_checkpoint,
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
from neuralcodes.dist_context import SINGLE, DistContext
from neuralcodes.early_stopping import EarlyStopping
from neuralcodes.errors import ConfigError
from neuralcodes.evaluate import batch_metrics, metric_sums
from neuralcodes.model import save_model
from neuralcodes.progress import Progress, Silent, ensure
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


@dataclass(frozen=True)
class _Run:
    """What stays fixed while one model trains."""

    model: nn.Module
    model_cfg: ModelConfig
    data: TrainData
    cfg: TrainConfig
    out_dir: Path
    dist: DistContext
    progress: Progress
    device: torch.device
    precision: str
    expected: dict[str, Any]  # what a checkpoint must match: configurations and data sizes


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
    dist: DistContext = SINGLE,
) -> History:
    """Train ``model`` (built by ``create_model``) on ``data``; files go to ``out_dir``.

    ``resume`` continues from ``out_dir/checkpoint.pt``. ``model_extra`` is stored in
    ``model.pt`` beside the training summary (class names, data fingerprint...). ``compile``
    runs the steps through ``torch.compile`` (default: ``cfg.compile``).
    ``dist``: this process's place in a distributed job (``distributed.ddp.DDPContext``); then
    call ``train`` on every process with the same seeded model and data: the main process
    reports to ``progress`` and writes the files; every process returns the same history.
    """
    model_cfg: ModelConfig | None = getattr(model, "config", None)
    if not isinstance(model_cfg, ModelConfig):
        raise ConfigError("train() needs a model built by create_model (it has no .config)")
    tune_once()  # the allocator of `neuralcodes train` (neuralcodes.allocator)
    with num_threads(cfg.num_threads):
        device = dist.device(pick_device(cfg.device))
        model.to(device)
        if cfg.channels_last:
            model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        run = _Run(model, model_cfg, data, cfg, Path(out_dir), dist,
                   ensure(progress) if dist.is_main else Silent(), device,
                   resolve_precision(cfg.precision, device),
                   {"train_config": to_dict(cfg), "model_config": to_dict(model_cfg),
                    "data": data.fingerprint()})
        return _train(run, resume, model_extra, cfg.compile if compile is None else compile)


def _train(run: _Run, resume: bool, model_extra: dict[str, Any] | None, compile: bool) -> History:
    state = _new_state(run)
    if resume:
        state.restore(run.model, load_checkpoint(run.out_dir / CHECKPOINT_NAME, run.expected))
        run.progress.log(f"resuming after epoch {state.epoch}")
    else:
        torch.manual_seed(run.cfg.seed)
    x, y = run.data.x_train, run.data.y_train  # (N, H, W, 3) uint8, (N,)
    feeder = BatchFeeder(x, y, run.device, channels_last=run.cfg.channels_last,
                         on_device=fits_on_device(x.nbytes, run.device))
    with run.dist.wrap(run.model) as net:
        forward = maybe_compile(net, compile)
        while not state.stopped and state.epoch < run.cfg.epochs:
            state.epoch += 1
            record = _epoch(run, state, net, forward, feeder)
            _after_epoch(run, state, record)
    return _finish(run, state, model_extra)


def _new_state(run: _Run) -> TrainState:
    steps = math.ceil(len(run.data.x_train) / run.cfg.batch_size)
    optimizer = make_optimizer(run.model, run.cfg, run.device)
    return TrainState(
        optimizer=optimizer,
        scheduler=make_scheduler(optimizer, run.cfg, steps),
        scaler=grad_scaler(run.precision, run.device),
        stopper=EarlyStopping(run.cfg.patience, run.cfg.min_delta),
        shuffle_rng=np.random.default_rng(run.cfg.seed),
        augment_rng=np.random.default_rng([run.cfg.seed, 1]),
    )


def _epoch(
    run: _Run,
    state: TrainState,
    net: nn.Module,
    forward: Callable[[torch.Tensor], torch.Tensor],
    feeder: BatchFeeder,
) -> dict[str, float]:
    """One pass over the shuffled training set, then validation; returns the history record.

    Each process computes its rows of every global batch (all of them in a single process).
    """
    cfg, dist = run.cfg, run.dist
    start = time.perf_counter()
    order = state.shuffle_rng.permutation(len(run.data.x_train))  # (N,), the same everywhere
    batches = [np.sort(order[i : i + cfg.batch_size]) for i in range(0, len(order), cfg.batch_size)]
    # augmentation draws for the whole global batch (as one process does), so gather all of it
    gathered = batches if cfg.augment else [b[dist.rows(len(b))] for b in batches]
    net.train()
    sums = torch.zeros(3, dtype=torch.float64, device=run.device)
    seen, feeder.wait = 0, 0.0
    feed = feeder.epoch(gathered)
    for step in run.progress.track(range(len(batches)), len(batches), desc=f"epoch {state.epoch}"):
        x, y = next(feed)  # (b, 3, H, W) float32, (b,) int64, on the device
        n = len(batches[step])  # the global batch
        if cfg.augment:
            mine = dist.rows(n)
            x, y = random_crop_flip(x, state.augment_rng)[mine], y[mine]
        dist.begin_batch(n)
        sums += _step(forward, x, y, state, run.precision, run.device, dist.loss_scale(n))
        seen += len(y)
        if (step + 1) % UPDATE_EVERY == 0 or step + 1 == len(batches):
            loss, acc = (sums[:2] / seen).tolist()  # the only host synchronisation
            run.progress.update(loss=loss, acc=acc)
    feed.close()
    train_time = time.perf_counter() - start
    loss, acc, top5 = (dist.sum(sums) / len(run.data.x_train)).tolist()
    val_loss, val_acc, val_top5 = _validate(run)
    return {"epoch": state.epoch, "loss": loss, "accuracy": acc, "top5": top5,
            "val_loss": val_loss, "val_accuracy": val_acc, "val_top5": val_top5,
            "seconds": time.perf_counter() - start, "data_wait_fraction": feeder.wait / train_time}


def _step(
    forward: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor,
    state: TrainState, precision: str, device: torch.device, loss_scale: float | None = None,
) -> torch.Tensor:
    """One optimisation step; returns the batch's (3,) metric sums (detached, on the device).

    The loss is the cross-entropy of the logits: the batch mean, or with ``loss_scale`` the batch
    sum times ``loss_scale`` (``DistContext.loss_scale``).
    """
    with autocast(precision, device):
        logits = forward(x)  # (b, K)
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


def _validate(run: _Run) -> list[float]:
    """Validation loss, accuracy, top-5 (dropout off); each process scores its share."""
    mine = run.dist.rows(len(run.data.x_val))
    sums = metric_sums(run.model, run.data.x_val[mine], run.data.y_val[mine],
                       batch_size=max(run.cfg.batch_size, 500), device=run.device,
                       precision=run.precision, channels_last=run.cfg.channels_last)  # (3,)
    return (run.dist.sum(sums) / len(run.data.x_val)).tolist()  # type: ignore[no-any-return]


def _after_epoch(run: _Run, state: TrainState, record: dict[str, float]) -> None:
    """Record the epoch, let early stopping decide, keep the best weights if asked, write."""
    state.history.records.append(record)
    state.stopped = state.stopper.step(state.epoch, record["val_loss"])
    state.history.stopped_early = state.stopped
    state.history.best_epoch = state.stopper.best_epoch
    if run.cfg.restore_best and state.stopper.improved_at(state.epoch):
        state.best_state = {k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()}
    if run.dist.is_main:
        save_checkpoint(run.out_dir / CHECKPOINT_NAME, state.snapshot(run.model, run.expected))
        write_history(run.out_dir, state.history)
    run.dist.barrier()  # the checkpoint is complete before any process may stop
    run.progress.log(_epoch_line(record, run.cfg.epochs))
    if state.stopped:
        run.progress.log(f"early stopping: val_loss did not improve on {state.stopper.best:.4f} "
                         f"(epoch {state.stopper.best_epoch})")


def _finish(run: _Run, state: TrainState, extra: dict[str, Any] | None) -> History:
    """Restore the best weights if asked, write ``model.pt``, return the history.

    Without ``restore_best`` the model is the last epoch's, as Keras leaves it.
    """
    if run.cfg.restore_best and state.best_state is not None:
        run.model.load_state_dict(state.best_state)
    if run.dist.is_main:
        last = state.history.records[-1] if state.history.records else {}
        save_model(run.out_dir / "model.pt", run.model, run.model_cfg, **(extra or {}),
                   train_config=to_dict(run.cfg), epoch=state.epoch,
                   best_epoch=state.stopper.best_epoch, stopped_early=state.stopped,
                   last_epoch=last)
    run.dist.barrier()
    return state.history


def _epoch_line(r: dict[str, float], epochs: int) -> str:
    return (f"epoch {int(r['epoch'])}/{epochs}: loss {r['loss']:.4f} accuracy {r['accuracy']:.4f} "
            f"top5 {r['top5']:.4f} - val_loss {r['val_loss']:.4f} val_accuracy "
            f"{r['val_accuracy']:.4f} val_top5 {r['val_top5']:.4f} ({r['seconds']:.1f} s, data "
            f"wait {100 * r['data_wait_fraction']:.0f} %)")
