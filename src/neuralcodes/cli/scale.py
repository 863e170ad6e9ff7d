"""``neuralcodes train-ddp RUN_DIR`` (under torchrun) and ``neuralcodes index-ray PHOTOS_DIR``.

``add_ray_options`` and ``run_ray_build`` are also the hook of ``neuralcodes index build --ray``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuralcodes.cli.progress_cli import ConsoleProgress

LOCAL = "local"  # --ray without an address: start a local Ray on this machine


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "train-ddp", help="step 2 with DistributedDataParallel; run it under torchrun",
        description="Train a prepared run folder on several processes (GPUs or CPU cores): "
        "torchrun --nproc-per-node N -m neuralcodes train-ddp RUN_DIR. --batch-size of the run "
        "is the global batch, split across the processes; rank 0 writes the run folder.")
    p.add_argument("run_dir")
    p.add_argument("--resume", action="store_true", help="continue from checkpoint.pt")
    p.set_defaults(func=_train_ddp)

    p = subparsers.add_parser(
        "index-ray", help="index build with the codes extracted on a Ray cluster",
        description="Build an index like `index build`, extracting the codes on Ray workers "
        "(a local Ray on this machine unless --address names a cluster).")
    p.add_argument("photos_dir", help="folder of images, scanned recursively")
    p.add_argument("--out", required=True, help="index folder to write")
    p.add_argument("--model", metavar="RUN_DIR", help="trained run folder (default: newest)")
    p.add_argument("--layer", help="code layer, e.g. L6 (default: the run's best)")
    p.add_argument("--pca", type=int, metavar="DIMS", help="compress codes to 16..512 dims")
    p.add_argument("--backend", choices=("exact", "ivfpq", "hnsw"), default="exact")
    p.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps (on the workers)")
    p.add_argument("--address", help="Ray cluster address: auto, ray://HOST:10001 (default: a "
                   "local Ray)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    add_ray_options(p, workers=True)
    p.set_defaults(func=_index_ray)


def add_ray_options(p: argparse.ArgumentParser, *, workers: bool = False) -> None:
    """The Ray flags; ``workers=False`` where the parser already has ``--workers``."""
    if workers:
        p.add_argument("--workers", type=int, default=2, help="Ray workers (one model each)")
    p.add_argument("--num-gpus-per-worker", type=float, default=0, help="GPUs per Ray worker")
    p.add_argument("--cpus-per-worker", type=float, default=1, help="CPUs per Ray worker")
    p.add_argument("--shard-size", type=int, default=1024, help="images per code shard")
    p.add_argument("--shards", metavar="DIR", help="shard folder on storage every worker "
                   "reaches (kept; default: INDEX_DIR/shards, deleted when done)")
    if not workers:
        p.add_argument("--ray", nargs="?", const=LOCAL, metavar="ADDRESS",
                       help="extract the codes on Ray: a cluster address, or none for a local "
                       "Ray (--workers then counts Ray workers)")


def run_ray_build(args: argparse.Namespace) -> Any:
    """``build_index_ray`` from parsed ``index build --ray`` / ``index-ray`` arguments."""
    from neuralcodes.distributed.ray_index import build_index_ray

    address = getattr(args, "address", None) or getattr(args, "ray", None)
    return build_index_ray(
        args.photos_dir, args.out, run_dir=args.model, layer=args.layer, pca=args.pca,
        backend=args.backend, batch_size=args.batch_size, device=args.device,
        address=None if address in (None, LOCAL) else address, workers=args.workers or 2,
        cpus_per_worker=args.cpus_per_worker, num_gpus_per_worker=args.num_gpus_per_worker,
        shard_size=args.shard_size, shard_dir=args.shards, progress=ConsoleProgress(args.quiet))


def _index_ray(args: argparse.Namespace) -> int:
    info = run_ray_build(args)
    print(f"{info.index_dir}: {info.count} images, {info.dim} dims, layer {info.layer}, "
          f"backend {info.backend}, {len(info.skipped)} skipped"
          + (f", {info.images_per_s} images/s" if info.images_per_s else ""))
    return 0


def _train_ddp(args: argparse.Namespace) -> int:
    from neuralcodes.distributed.ddp import env_from_torchrun, joined
    from neuralcodes.pipeline.training_steps import train_step
    from neuralcodes.runs import RunDir, load_config

    env = env_from_torchrun()
    device = load_config(RunDir(Path(args.run_dir))).train.device  # picks NCCL or gloo
    with joined(env, device) as dist:
        train_step(args.run_dir, resume=args.resume, dist=dist,
                   progress=ConsoleProgress() if env.is_main else None)
    return 0
