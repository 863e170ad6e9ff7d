"""Training with DistributedDataParallel: the single-process loop of ``neuralcodes.train``, split
across the ranks of a ``torchrun`` job, giving the same loss curve for the same global batch.

What is shared with ``neuralcodes.train`` (and so identical): the optimizer, schedule, early
stopping, the shuffle and augmentation generators, the checkpoint layout (a DDP run can be resumed
by ``train --resume`` and the other way round), ``history.*`` and ``model.pt``. What differs: each
rank computes its rows of every global batch (``ddp.rank_slice``), gradients are averaged by DDP,
the epoch's metric sums and the validation sums are all-reduced, and only rank 0 writes files.
``batch_size`` stays the *global* batch size. See ``neuralcodes.distributed.ddp`` for why the
curves agree, dropout included.
"""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from neuralcodes.checkpoint import (
    CHECKPOINT_NAME,
    History,
    load_checkpoint,
    save_checkpoint,
    write_history,
)
from neuralcodes.config import ModelConfig, TrainConfig, to_dict
from neuralcodes.data.tensors import random_crop_flip, to_input
from neuralcodes.device import autocast, pick_device, resolve_precision
from neuralcodes.distributed.ddp import (
    DistEnv,
    GlobalBatchDropout,
    global_dropout,
    rank_device,
    rank_slice,
)
from neuralcodes.errors import ConfigError
from neuralcodes.evaluate import batch_metrics
from neuralcodes.progress import Progress, Silent, ensure
from neuralcodes.train import (
    TrainData,
    TrainState,
    after_epoch,
    epoch_line,
    finish,
    new_state,
    optimisation_step,
    restore_state,
    snapshot,
)


def train_ddp(
    model: nn.Module,
    data: TrainData,
    cfg: TrainConfig,
    out_dir: str | Path,
    env: DistEnv,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    model_extra: dict[str, Any] | None = None,
) -> History:
    """``neuralcodes.train.train`` on ``env.world_size`` processes; call it on every rank.

    Must run inside ``ddp.process_group(env, ...)``. Every rank builds ``model`` with the same
    seed and opens the same ``data``; rank 0 reports to ``progress`` and writes to ``out_dir``.
    Returns the history (identical on every rank).
    """
    progress, out_dir = (ensure(progress) if env.is_main else Silent()), Path(out_dir)
    model_cfg = getattr(model, "config", None)
    if not isinstance(model_cfg, ModelConfig):
        raise ConfigError("train_ddp() needs a model built by create_model (it has no .config)")
    device = rank_device(pick_device(cfg.device), env)
    precision = resolve_precision(cfg.precision, device)
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    model.to(device)
    if cfg.channels_last:
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    state = new_state(model, cfg, device, precision, math.ceil(len(data.x_train) / cfg.batch_size))
    expected = {"train_config": to_dict(cfg), "model_config": to_dict(model_cfg),
                "data": data.fingerprint()}
    if resume:
        restore_state(state, model, load_checkpoint(out_dir / CHECKPOINT_NAME, expected))
        progress.log(f"resuming after epoch {state.epoch} on {env.world_size} processes")
    else:
        torch.manual_seed(cfg.seed)
    with global_dropout(model) as drops:
        ddp = DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)
        while not state.stopped and state.epoch < cfg.epochs:
            state.epoch += 1
            record = _epoch(ddp, model, drops, data, cfg, state, env, device, precision, progress)
            after_epoch(model, cfg, state, record)
            if env.is_main:
                save_checkpoint(out_dir / CHECKPOINT_NAME, snapshot(state, model, expected))
                write_history(out_dir, state.history)
                progress.log(epoch_line(record, cfg.epochs))
            dist.barrier()  # the checkpoint is complete before any rank may be stopped
    if env.is_main:
        finish(model, model_cfg, cfg, state, out_dir, model_extra)
    dist.barrier()
    return state.history


def _epoch(
    ddp: nn.Module, model: nn.Module, drops: list[GlobalBatchDropout], data: TrainData,
    cfg: TrainConfig, state: TrainState, env: DistEnv, device: torch.device, precision: str,
    progress: Progress,
) -> dict[str, float]:
    """One pass over the global batches (this rank's rows of each), then validation."""
    start = time.perf_counter()
    order = state.shuffle_rng.permutation(len(data.x_train))  # (N,), the same on every rank
    batches = [np.sort(order[i : i + cfg.batch_size]) for i in range(0, len(order), cfg.batch_size)]
    ddp.train()
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    wait = 0.0
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(_local_pixels, data, batches[0], env, cfg.augment)
        for step in progress.track(range(len(batches)), len(batches), desc=f"epoch {state.epoch}"):
            t0 = time.perf_counter()
            xb, yb = ahead.result()  # (b, H, W, 3) uint8, (b,) int64: this rank's (or all) rows
            if step + 1 < len(batches):
                ahead = pool.submit(_local_pixels, data, batches[step + 1], env, cfg.augment)
            n, rows = len(batches[step]), rank_slice(len(batches[step]), env.rank, env.world_size)
            x, y = _to_device(xb, yb, rows, cfg, state, device)
            wait += time.perf_counter() - t0
            for drop in drops:
                drop.set_rows(n, rows)
            sums += optimisation_step(ddp, x, y, state, precision, device,
                                      loss_scale=env.world_size / n)
    train_time = time.perf_counter() - start
    dist.all_reduce(sums)  # (3,) sums over every rank's rows
    loss, acc, top5 = (_agreed(sums) / len(data.x_train)).tolist()
    val_loss, val_acc, val_top5 = _validate(model, data, cfg, env, device, precision)
    return {"epoch": state.epoch, "loss": loss, "accuracy": acc, "top5": top5,
            "val_loss": val_loss, "val_accuracy": val_acc, "val_top5": val_top5,
            "seconds": time.perf_counter() - start, "data_wait_fraction": wait / train_time}


def _local_pixels(
    data: TrainData, idx: np.ndarray, env: DistEnv, whole: bool
) -> tuple[np.ndarray, np.ndarray]:
    """This rank's rows of a global batch, or all its rows when augmentation needs them."""
    if not whole:
        idx = idx[rank_slice(len(idx), env.rank, env.world_size)]
    return np.ascontiguousarray(data.x_train[idx]), np.asarray(data.y_train[idx], dtype=np.int64)


def _to_device(
    xb: np.ndarray, yb: np.ndarray, rows: slice, cfg: TrainConfig, state: TrainState,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Network input (b, 3, H, W) and labels (b,) of this rank.

    With augmentation the whole global batch is augmented (drawing exactly what the
    single-process run draws from ``augment_rng``) and this rank's rows are kept.
    """
    x = to_input(xb, device, channels_last=cfg.channels_last)
    if cfg.augment:
        x, yb = random_crop_flip(x, state.augment_rng)[rows], yb[rows]
    return x, torch.from_numpy(yb).to(device, non_blocking=True)


def _validate(
    model: nn.Module, data: TrainData, cfg: TrainConfig, env: DistEnv, device: torch.device,
    precision: str,
) -> list[float]:
    """Validation loss, accuracy, top-5: each rank scores its share, the sums are all-reduced."""
    part = rank_slice(len(data.x_val), env.rank, env.world_size)
    x_val, y_val = data.x_val[part], np.asarray(data.y_val[part], dtype=np.int64)
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    batch = max(cfg.batch_size, 500)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(x_val), batch):
            x = to_input(x_val[start : start + batch], device, channels_last=cfg.channels_last)
            y = torch.from_numpy(y_val[start : start + batch]).to(device)
            with autocast(precision, device):
                logits = model(x)  # (B, K)
            sums += batch_metrics(logits, y)
    model.train()
    dist.all_reduce(sums)
    return (_agreed(sums) / len(data.x_val)).tolist()  # type: ignore[no-any-return]


def _agreed(t: torch.Tensor) -> torch.Tensor:
    """Rank 0's copy of ``t`` on every rank: early stopping must decide the same everywhere."""
    dist.broadcast(t, src=0)
    return t
