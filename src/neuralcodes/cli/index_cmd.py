"""``neuralcodes index build|update|add|remove|info``: a persistent index of a folder of images."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index", help="build and maintain a searchable index of a folder of images",
        description="Build and maintain a persistent neural-code index of a folder of images.")
    actions = parser.add_subparsers(dest="index_action", metavar="ACTION", required=True)

    build = actions.add_parser("build", help="index every image under a folder")
    build.add_argument("photos_dir", help="folder of images, scanned recursively")
    build.add_argument("--out", required=True, help="index folder to write")
    build.add_argument("--model", metavar="RUN_DIR", help="trained run folder (default: newest)")
    build.add_argument("--layer", help="code layer, e.g. L6 (default: the run's best)")
    build.add_argument("--pca", type=int, metavar="DIMS", help="compress codes to 16..512 dims")
    build.add_argument("--backend", choices=("exact", "ivfpq", "hnsw"), default="exact",
                       help="exact search, or an approximate FAISS index (default: exact)")
    _job_options(build)
    from neuralcodes.cli.scale import add_ray_options

    add_ray_options(build)
    build.set_defaults(func=_build)

    update = actions.add_parser("update", help="pick up new, changed and deleted files")
    update.add_argument("index_dir")
    update.add_argument("--model", metavar="RUN_DIR", help="the run folder, if it has moved")
    _job_options(update)
    update.set_defaults(func=_update)

    add = actions.add_parser("add", help="add (or refresh) files or folders")
    add.add_argument("index_dir")
    add.add_argument("files", nargs="+")
    add.add_argument("--model", metavar="RUN_DIR", help="the run folder, if it has moved")
    _job_options(add)
    add.set_defaults(func=_add)

    remove = actions.add_parser("remove", help="remove files or folders from the index")
    remove.add_argument("index_dir")
    remove.add_argument("files", nargs="+")
    remove.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    remove.set_defaults(func=_remove)

    info = actions.add_parser("info", help="what the index holds and what built it")
    info.add_argument("index_dir")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=_info)


def _job_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--batch-size", type=int, default=256, help="images per forward pass")
    p.add_argument("--workers", type=int, help="decoding processes (default: the cores, <= 8)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | mps")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _build(args: argparse.Namespace) -> int:
    if getattr(args, "ray", None) is not None:
        from neuralcodes.cli.scale import run_ray_build

        _summary(run_ray_build(args))
        return 0
    from neuralcodes.index import build_index

    info = build_index(args.photos_dir, args.out, run_dir=args.model, layer=args.layer,
                       pca=args.pca, backend=args.backend, batch_size=args.batch_size,
                       workers=args.workers, device=args.device,
                       progress=ConsoleProgress(args.quiet))
    _summary(info)
    return 0


def _update(args: argparse.Namespace) -> int:
    from neuralcodes.index import update_index

    _summary(update_index(args.index_dir, run_dir=args.model, batch_size=args.batch_size,
                          workers=args.workers, device=args.device,
                          progress=ConsoleProgress(args.quiet)))
    return 0


def _add(args: argparse.Namespace) -> int:
    from neuralcodes.index import add_files

    _summary(add_files(args.index_dir, args.files, run_dir=args.model,
                       batch_size=args.batch_size, workers=args.workers, device=args.device,
                       progress=ConsoleProgress(args.quiet)))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from neuralcodes.index import remove_files

    _summary(remove_files(args.index_dir, args.files, progress=ConsoleProgress(args.quiet)))
    return 0


def _info(args: argparse.Namespace) -> int:
    from neuralcodes.index.describe import describe_index

    info = describe_index(args.index_dir)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for key, value in info.items():
            shown = json.dumps(value) if isinstance(value, dict | list) else value
            print(f"{key:<{width}}  {shown}")
    return 0


def _summary(info: Any) -> None:
    """One paragraph on stdout: what the job did."""
    if info.generation is None:
        print(f"{info.index_dir}: up to date, {info.count} images")
    else:
        print(f"{info.index_dir}: {info.count} images ({info.dim}-d {info.layer}, "
              f"{info.backend}); {info.added} added, {info.changed} changed, "
              f"{info.removed} removed")
    if info.resumed:
        print(f"  {info.resumed} files taken from an interrupted job's checkpoint")
    if info.images_per_s:
        print(f"  {info.images_per_s:.1f} images/s")
    if info.recall_at_10 is not None:
        print(f"  recall@10 of the {info.backend} index against exact search: "
              f"{info.recall_at_10:.4f}")
    if info.skipped:
        print(f"  {len(info.skipped)} files skipped (listed in {info.index_dir}/progress.log):")
        for path, problem in info.skipped[:10]:
            print(f"    {path}: {problem}")
