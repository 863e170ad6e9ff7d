"""``neuralcodes train-ddp RUN_DIR``: step 2 of a prepared run folder on every rank of a
``torchrun`` job. The result (``model.pt``, ``checkpoint.pt``, ``history.*``, the ``training``
section of ``metrics.json``) is that of ``neuralcodes train RUN_DIR``, written by rank 0.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from neuralcodes.device import pick_device
from neuralcodes.distributed.ddp import DistEnv, process_group, rank_device
from neuralcodes.model import create_model
from neuralcodes.progress import Progress, ensure


def train_run_ddp(
    run_dir: str | Path,
    env: DistEnv,
    *,
    resume: bool = False,
    progress: Progress | None = None,
    init_method: str = "env://",
) -> dict[str, Any]:
    """Train the network of a prepared run folder with DDP; call it on every rank.

    Rank 0 opens (and, the first time, decodes) the data before the others, so the ranks never
    build the pixel cache concurrently. Returns the training summary stored in metrics.json.
    """
    from neuralcodes.distributed.ddp_train import train_ddp
    from neuralcodes.pipeline.prepare import open_run_data
    from neuralcodes.pipeline.training_steps import _data_summary
    from neuralcodes.runs import RunDir, load_config, update_metrics
    from neuralcodes.train import TrainData

    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    device = rank_device(pick_device(cfg.train.device), env)
    with process_group(env, device, init_method=init_method):
        data = open_run_data(run, progress=progress) if env.is_main else None
        dist.barrier()
        data = data or open_run_data(run)
        images, labels, split = data.cache.images, np.asarray(data.cache.labels), data.split
        torch.manual_seed(cfg.train.seed)  # every rank builds the same initial weights
        model = create_model(cfg.model)
        train_data = TrainData(x_train=images[split.train], y_train=labels[split.train],
                               x_val=images[split.val], y_val=labels[split.val])
        start = time.perf_counter()
        history = train_ddp(model, train_data, cfg.train, run.root, env, resume=resume,
                            progress=progress)
    summary = {"epochs": len(history), "seconds": time.perf_counter() - start,
               "device": str(device), "recipe": cfg.train.recipe,
               "precision": cfg.train.precision, "processes": env.world_size}
    if env.is_main:
        ensure(progress).log(f"trained {summary['epochs']} epochs in {summary['seconds']:.0f} s "
                             f"on {env.world_size} processes")
        update_metrics(run, training=summary, data=_data_summary(data, cfg.data.source))
    return summary
