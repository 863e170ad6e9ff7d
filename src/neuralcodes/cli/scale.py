"""``neuralcodes train-ddp RUN_DIR``, run under torchrun (Ray builds are ``index build --ray``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train-ddp", help="step 2 with DistributedDataParallel; run it under torchrun",
        description="Train a prepared run folder on several processes (GPUs or CPU cores): "
        "torchrun --nproc-per-node N -m neuralcodes train-ddp RUN_DIR. --batch-size of the run "
        "is the global batch, split across the processes; rank 0 writes the run folder.",
        func=_train_ddp)
    p.add_argument("run_dir", help="a run folder made by `neuralcodes prepare`")
    p.add_argument("--resume", action="store_true", help="continue from checkpoint.pt")


def _train_ddp(args: argparse.Namespace) -> int:
    from neuralcodes.distributed.ddp import env_from_torchrun, joined
    from neuralcodes.pipeline.training_steps import train_step
    from neuralcodes.runs import RunDir, load_config

    env = env_from_torchrun()
    device = load_config(RunDir(Path(args.run_dir))).train.device  # picks NCCL or gloo
    with joined(env, device) as dist:
        train_step(args.run_dir, resume=args.resume, dist=dist,
                   progress=ConsoleProgress() if dist.is_main else None)
    return 0
