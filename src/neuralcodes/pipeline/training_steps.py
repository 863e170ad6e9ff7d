"""Steps 2 and 3: train the network on the in-domain training split; evaluate it on every split."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralcodes.device import pick_device
from neuralcodes.dist_context import SINGLE, DistContext
from neuralcodes.environment import environment
from neuralcodes.evaluate import evaluate
from neuralcodes.model import create_model, load_model
from neuralcodes.pipeline.prepare import RunData, open_run_data
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import RunDir, load_config, update_metrics
from neuralcodes.train import TrainData, train


def train_step(run_dir: str | Path, *, resume: bool = False, data: RunData | None = None,
               progress: Progress | None = None, dist: DistContext = SINGLE) -> dict[str, Any]:
    """Train from scratch (or continue an interrupted training with ``resume``).

    ``dist``: one rank of a distributed job (``neuralcodes train-ddp``); call it on every rank.
    The main rank opens (and, the first time, decodes) the data before the others, so the
    ranks never build the pixel cache concurrently, and it alone writes the run folder.
    """
    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    data = data or _open_data(run, dist, progress)
    images, labels, split = data.cache.images, np.asarray(data.cache.labels), data.split
    torch.manual_seed(cfg.train.seed)  # every rank builds the same initial weights
    model = create_model(cfg.model)
    train_data = TrainData(x_train=images[split.train], y_train=labels[split.train],
                           x_val=images[split.val], y_val=labels[split.val])
    start = time.perf_counter()
    history = train(model, train_data, cfg.train, run.root, resume=resume, progress=progress,
                    dist=dist)
    device = dist.device(pick_device(cfg.train.device))
    summary = {"epochs": len(history), "seconds": time.perf_counter() - start,
               "device": str(device), "recipe": cfg.train.recipe,
               "precision": cfg.train.precision,
               "seconds_per_epoch": float(np.mean(history.column("seconds") or [0.0])),
               "environment": environment(device, cfg.train.precision)}
    if dist.world_size > 1:
        summary["processes"] = dist.world_size
    if dist.is_main:
        ensure(progress).log(f"trained {summary['epochs']} epochs in {summary['seconds']:.0f} s"
                             + (f" on {dist.world_size} processes" if dist.world_size > 1 else ""))
        update_metrics(run, training=summary, data=_data_summary(data, cfg.data.source))
    return summary


def _open_data(run: RunDir, dist: DistContext, progress: Progress | None) -> RunData:
    """The run's data, opened by the main process first (it may build the pixel cache)."""
    data = open_run_data(run, progress=progress) if dist.is_main else None
    dist.barrier()
    return data or open_run_data(run)


def evaluate_step(run_dir: str | Path, *, data: RunData | None = None,
                  progress: Progress | None = None) -> dict[str, dict[str, float]]:
    """Cross-entropy, accuracy and top-5 accuracy on the training, validation and test sets."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    data = data or open_run_data(run, progress=progress)
    loaded = load_model(run.require(run.model, "train"))
    device = pick_device(cfg.train.device)
    labels = np.asarray(data.cache.labels)
    results = {}
    for name in ("train", "val", "test"):
        idx = getattr(data.split, name)
        m = evaluate(loaded.model, data.cache.images[idx], labels[idx],
                     batch_size=cfg.retrieval.batch_size, device=device,
                     precision=cfg.train.precision)
        results[name] = {**{k: float(v) for k, v in m.items()}, "n": int(len(idx))}
        ensure(progress).log(f"{name}: loss {m['loss']:.3f}  accuracy {m['accuracy']:.3f}  "
                             f"top-5 {m['top5']:.3f}")
    update_metrics(run, evaluation=results)
    return results


def _data_summary(data: RunData, source: str) -> dict[str, Any]:
    n_classes = len(data.class_names)
    ood_classes = len(np.unique(np.asarray(data.cache.labels)[data.split.ood]))
    return {"source": source, "cache": str(data.cache.path),
            "n_images": int(len(data.cache.labels)), "n_classes": n_classes,
            "n_ood_classes": int(ood_classes),
            **{f"n_{part}": n for part, n in data.split.sizes().items()}}
