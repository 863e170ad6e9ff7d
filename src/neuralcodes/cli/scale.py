"""``neuralcodes train-ddp RUN_DIR``, run under torchrun (Ray builds are ``index build --ray``)."""

from __future__ import annotations

import argparse
from typing import Any

from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train-ddp", help="step 2 with DistributedDataParallel; run it under torchrun",
        description="Train a prepared run folder on several processes (GPUs or CPU cores): "
        "torchrun --nproc-per-node N -m neuralcodes train-ddp RUN_DIR. --batch-size of the run "
        "is the global batch, split across the processes; rank 0 writes the run folder.")
    p.add_argument("run_dir")
    p.add_argument("--resume", action="store_true", help="continue from checkpoint.pt")
    p.set_defaults(func=_train_ddp)


def _train_ddp(args: argparse.Namespace) -> int:
    from neuralcodes.distributed.ddp import env_from_torchrun
    from neuralcodes.distributed.ddp_run import train_run_ddp

    env = env_from_torchrun()
    train_run_ddp(args.run_dir, env, resume=args.resume,
                  progress=ConsoleProgress() if env.is_main else None)
    return 0
