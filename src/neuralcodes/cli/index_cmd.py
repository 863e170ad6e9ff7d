"""``neuralcodes index build|update|add|remove|info``: a persistent index of a folder of images.

``index build --ray [ADDRESS]`` extracts the codes on Ray workers (``--ray-workers``) instead of
this process and its decoding processes (``--workers``); the index written is the same.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuralcodes.cli.options import (
    add_device_option,
    add_index_dir_argument,
    add_layer_option,
    add_model_option,
    add_pca_option,
)
from neuralcodes.cli.output import print_json
from neuralcodes.cli.progress_cli import ConsoleProgress
from neuralcodes.errors import ConfigError
from neuralcodes.index.ann_params import BACKENDS, AnnParams
from neuralcodes.names import shown

LOCAL = "local"  # --ray without an address: start a local Ray on this machine
RAY_OPTIONS = ("ray_workers", "cpus_per_worker", "num_gpus_per_worker", "shard_size", "shards")
FAISS_KNOBS = {  # AnnParams field -> the help of its option
    "nlist": "ivfpq: inverted lists (default: 4 sqrt(N), at most N / 39)",
    "nprobe": "ivfpq, faiss: lists visited per query (default: nlist / 8, at least 16, at most "
    "nlist; `search --nprobe` overrides it)",
    "hnsw_m": "hnsw: FAISS's M, links per node (default 32)",
    "ef_construction": "hnsw: efConstruction (default 80)",
    "ef_search": "hnsw, faiss: efSearch (default 128; `search --ef-search` overrides it)",
}
LABELS = {  # index info: key -> what the table shows
    "index_dir": "index", "skipped": "skipped files", "excluded": "removed by hand (excluded)",
    "photos_root": "photos folder", "model": "model (SPEC)", "kind": "network kind",
    "run_dir": "run folder", "model_name": "architecture", "model_hash": "model hash",
    "hub_id": "hub id", "weights_sha256": "weights sha256", "image_policy": "image input",
    "model_status": "model status", "image_size": "image size",
    "code_dim": "code dims", "dim": "stored dims", "backend_params": "backend parameters",
    "recall_at_10": "recall@10", "generation_bytes": "generation size",
    "neuralcodes_version": "neuralcodes version",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "index", help="build and maintain a searchable index of a folder of images",
        description="Build and maintain a persistent neural-code index of a folder of images.")
    actions = parser.add_subparsers(dest="index_action", metavar="ACTION", required=True)
    _build_parser(actions)
    _action(actions, "update", "pick up new, changed and deleted files", _update, job=True)
    _action(actions, "add", "add (or refresh) files or folders", _update, job=True,
            files="image files or folders (scanned recursively)")
    _action(actions, "remove", "remove files or folders from the index", _remove,
            files="indexed files or folders")
    _action(actions, "info", "what the index holds and what built it", _info)


def _action(actions: Any, name: str, helptext: str, func: Any, *, job: bool = False,
            files: str | None = None) -> None:
    """An action on an existing index (``files``: the help of its FILES argument; ``job``: it
    extracts codes)."""
    p = actions.add_parser(name, help=helptext, func=func, json=True)
    add_index_dir_argument(p)
    if files:
        p.add_argument("files", nargs="+", help=files)
    if job:
        _job_options(p)


def _build_parser(actions: Any) -> None:
    build = actions.add_parser("build", help="index every image under a folder", func=_build,
                               json=True)
    build.add_argument("photos_dir", help="folder of images, scanned recursively")
    build.add_argument("--out", required=True, help="index folder to write")
    add_model_option(build, default_text="the newest run folder under ./runs; Hugging Face "
                     "models are fetched on first use when online")
    add_layer_option(build, many=False, default_text="a run's best layer, a network's "
                     "documented default: docs/models.md; named codes such as cls, patch-mean, "
                     "block9")
    add_pca_option(build, many=False, sizes="16 to 512")
    build.add_argument("--force", action="store_true", help="write into an existing folder "
                       "that is not an index, or replace an index of another model or layer")
    _job_options(build, recorded=False)
    _faiss_options(build)
    _ray_options(build)


def _job_options(p: argparse.ArgumentParser, *, recorded: bool = True) -> None:
    """What a job that extracts codes takes (``recorded``: the network the index records)."""
    if recorded:
        add_model_option(p, recorded=True)
    p.add_argument("--batch-size", type=int, metavar="N", help="images per forward pass "
                   "(default: 256 for a run folder, 64 for AlexNet, 32 for a Hugging Face model)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="decoding processes (default: the cores, at most 8)")
    add_device_option(p)


def _faiss_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("search backend (FAISS knobs; unset ones are chosen from the size)")
    g.add_argument("--backend", choices=BACKENDS,
                   help="exact search (default), or an approximate FAISS index")
    for knob, text in FAISS_KNOBS.items():
        g.add_argument(f"--{knob.replace('_', '-')}", type=int,
                       metavar="M" if knob == "hnsw_m" else "N", help=text)
    g.add_argument("--faiss-factory", metavar="STRING", help="any faiss.index_factory string, "
                   "e.g. 'IVF256,PQ32' or 'HNSW32' (implies --backend faiss)")


def _ray_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Ray (extract the codes on a pool of Ray workers)")
    g.add_argument("--ray", nargs="?", const=LOCAL, metavar="ADDRESS",
                   help="use Ray: a cluster address (auto, ray://HOST:10001), or none for a "
                   "local Ray on this machine")
    for flag, kind, text in (("--ray-workers", int, "Ray workers, one model each (default 2)"),
                             ("--cpus-per-worker", float, "CPUs (decoding threads) per Ray "
                              "worker (default 1)"),
                             ("--num-gpus-per-worker", float, "GPUs per Ray worker (default 0)"),
                             ("--shard-size", int, "images per code shard (default 1024)")):
        g.add_argument(flag, type=kind, metavar="N", help=text)
    g.add_argument("--shards", metavar="DIR", help="shard folder on storage every worker "
                   "reaches (kept; default: INDEX_DIR/shards, deleted when done)")


def _build_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """The arguments that ``build_index`` and ``build_index_ray`` share."""
    backend = args.backend or ("faiss" if args.faiss_factory else "exact")
    params = AnnParams(**{k: getattr(args, k) for k in FAISS_KNOBS},
                       factory=args.faiss_factory)
    return {"model": args.model, "layer": args.layer, "pca": args.pca, "backend": backend,
            "params": params, "batch_size": args.batch_size, "device": args.device,
            "force": args.force, "progress": ConsoleProgress()}


def _build(args: argparse.Namespace) -> int:
    ray = {k: getattr(args, k) for k in RAY_OPTIONS if getattr(args, k) is not None}
    if args.ray is None:
        if ray:
            given = ", ".join(f"--{k.replace('_', '-')}" for k in ray)
            raise ConfigError(f"{given} only apply with --ray")
        from neuralcodes.index import build_index

        _summary(args, build_index(args.photos_dir, args.out, workers=args.workers,
                                   **_build_kwargs(args)))
        return 0
    if args.workers is not None:
        raise ConfigError("--workers counts decoding processes without --ray; with --ray, "
                          "give --ray-workers (and --cpus-per-worker for decoding threads)")
    from neuralcodes.distributed.ray_index import build_index_ray

    if "shards" in ray:
        ray["shard_dir"] = ray.pop("shards")
    _summary(args, build_index_ray(args.photos_dir, args.out, **_build_kwargs(args),
                                   address=None if args.ray == LOCAL else args.ray, **ray))
    return 0


def _update(args: argparse.Namespace) -> int:
    """``index update`` and ``index add``."""
    from neuralcodes.index import add_files, update_index

    job = {"model": args.model, "batch_size": args.batch_size, "workers": args.workers,
           "device": args.device, "progress": ConsoleProgress()}
    if args.index_action == "add":
        _summary(args, add_files(args.index_dir, args.files, **job))
    else:
        _summary(args, update_index(args.index_dir, **job))
    return 0


def _remove(args: argparse.Namespace) -> int:
    from neuralcodes.index import remove_files

    _summary(args, remove_files(args.index_dir, args.files, progress=ConsoleProgress()))
    return 0


def _info(args: argparse.Namespace) -> int:
    from neuralcodes.index.describe import describe_index

    info = describe_index(args.index_dir)
    if args.json:
        print_json(info)
        return 0
    width = max(len(LABELS.get(k, k)) for k in info)
    for key, value in info.items():
        if key == "generation_bytes":
            value = f"{value / 1e6:.1f} MB"
        text = json.dumps(value) if isinstance(value, dict | list) else shown(str(value))
        print(f"{LABELS.get(key, key):<{width}}  {'none' if value is None else text}")
    return 0


def _backend_text(info: Any) -> str:
    """What was built: the backend asked for and its structure."""
    from neuralcodes.index.backends import MIN_ANN_VECTORS

    if info.backend == "exact" or info.structure is None:
        return str(info.backend)
    if info.structure == "Flat" and info.backend != "faiss":
        return (f"{info.backend} asked; built Flat (exact search): fewer than "
                f"{MIN_ANN_VECTORS} vectors")
    return f"{info.backend} {info.structure}"


def _summary(args: argparse.Namespace, info: Any) -> None:
    """One paragraph on stdout: what the job did (names escaped: ``names.shown``; ``--json``: the
    ``IndexInfo`` record)."""
    if args.json:
        print_json(info)
        return
    where = shown(info.index_dir)
    if info.generation is None:
        print(f"{where}: up to date, {info.count} images")
    else:
        print(f"{where}: {info.count} images ({info.dim}-d {info.layer}, "
              f"{_backend_text(info)}); {info.added} added, {info.changed} changed, "
              f"{info.removed} removed")
    if info.resumed:
        print(f"  {info.resumed} files taken from an interrupted job's checkpoint")
    if info.images_per_s:
        print(f"  {info.images_per_s:.1f} images/s")
    if info.recall_at_10 is not None:
        print(f"  recall@10 of the {info.structure or info.backend} index against exact "
              f"search on its own codes: {info.recall_at_10:.4f}")
    if info.skipped:
        print(f"  {len(info.skipped)} files skipped (listed in {where}/progress.log):")
        for path, problem in info.skipped[:10]:
            print(f"    {shown(path)}: {problem}")
