"""The experiment's commands: run, demo, download, and one per step of a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import read_json
from neuralcodes.cli.progress_cli import ConsoleProgress
from neuralcodes.config import RunConfig, from_dict, replace
from neuralcodes.presets import DEMO, resolve
from neuralcodes.runs import new_run_dir

# flag -> dotted config key
CONFIG_FLAGS: dict[str, tuple[str, type, str]] = {
    "epochs": ("train.epochs", int, "at most this many epochs (default 100)"),
    "batch_size": ("train.batch_size", int, "batch size (default 100)"),
    "lr": ("train.lr", float, "Adam learning rate (default 1e-4)"),
    "patience": ("train.patience", int, "early-stopping patience in epochs (default 0)"),
    "min_delta": ("train.min_delta", float, "early-stopping min_delta (default 0)"),
    "recipe": ("train.recipe", str, "training recipe: notebook (default), augment, bn, wd, "
               "cosine, improved"),
    "device": ("train.device", str, "auto (default), cpu, cuda, mps"),
    "precision": ("train.precision", str, "fp32 (default), bf16, fp16, auto"),
    "train_seed": ("train.seed", int, "seed of initialisation and batch order (default 0)"),
    "seed": ("data.seed", int, "seed of the data split (default 42, the notebook's)"),
    "split_order": ("data.split_order", str, "notebook (default: the notebook's exact split) or "
                    "stratified (each class split 80/10/10)"),
    "n_in_domain": ("data.n_in_domain", int, "classes 0..N-1 train the network, the rest are "
                    "out-of-domain (default 190)"),
    "width": ("model.width", float, "width multiplier of every layer (default 1.0)"),
    "compile": ("train.compile", bool, "torch.compile the training step (worth it on a GPU)"),
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("run", help="the whole experiment: split, train, evaluate, retrieve, "
                              "report")
    _add_data_flags(p)
    _add_config_flags(p)
    p.add_argument("--out", type=Path, help="run folder (default runs/run-<time>)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.set_defaults(func=cmd_run)

    p = subparsers.add_parser("demo", help="the whole experiment on the built-in synthetic dataset "
                              "(a few minutes on a laptop CPU)")
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="run folder (runs/demo)")
    p.add_argument("--resume", action="store_true")
    _add_config_flags(p)
    p.set_defaults(func=cmd_demo)

    p = subparsers.add_parser("download", help="fetch Tiny ImageNet (resumable, checksum-verified)")
    p.add_argument("--dir", type=Path, default=None, help="where to keep it "
                   "(default $NEURALCODES_HOME or ~/.cache/neuralcodes)")
    p.add_argument("--url", default=None, help="another mirror of tiny-imagenet-200.zip")
    p.add_argument("--sha256", default=None, help="refuse the zip unless it has this SHA-256 "
                   "(the computed one is always written to tiny-imagenet-200.zip.sha256)")
    p.set_defaults(func=cmd_download)

    p = subparsers.add_parser("prepare", help="step 1: decode, cache and split the data")
    p.add_argument("run_dir", type=Path)
    _add_data_flags(p)
    _add_config_flags(p)
    p.set_defaults(func=cmd_prepare)
    for name, helptext in STEP_HELP.items():
        p = subparsers.add_parser(name, help=helptext)
        p.add_argument("run_dir", type=Path)
        if name == "train":
            p.add_argument("--resume", action="store_true", help="continue from checkpoint.pt")
        p.set_defaults(func=cmd_step, step=name)


STEP_HELP = {
    "train": "step 2: train the network of a prepared run folder",
    "evaluate": "step 3: cross-entropy, accuracy, top-5 on train/val/test",
    "codes": "step 4: neural codes of the out-of-domain images (and the baselines)",
    "retrieval": "step 5: mAP, precision@k, confidence intervals, PCA curve",
    "figures": "step 6: training curves, retrieval examples, PCA curve (PNG)",
    "report": "step 7: report.md and report.html",
}


def _add_data_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data", help="tiny-imagenet-200 folder or .zip, or 'synthetic'")
    g.add_argument("--download", action="store_true", help="download Tiny ImageNet first")
    p.add_argument("--config", type=Path, help="a config.json to start from (flags override it)")


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    for flag, (_, kind, helptext) in CONFIG_FLAGS.items():
        name = "--" + flag.replace("_", "-")
        if kind is bool:
            p.add_argument(name, dest=flag, action="store_const", const=True, help=helptext)
        else:
            p.add_argument(name, dest=flag, type=kind, help=helptext)


def config_from_args(args: argparse.Namespace, base: RunConfig | None = None) -> RunConfig:
    cfg = base or RunConfig()
    if getattr(args, "config", None):
        saved = read_json(args.config)
        cfg = from_dict(RunConfig, saved.get("config", saved))
    changes = {key: getattr(args, flag) for flag, (key, _, _) in CONFIG_FLAGS.items()
               if getattr(args, flag, None) is not None}
    if getattr(args, "data", None):
        changes["data.source"] = args.data
    if getattr(args, "download", False):
        changes["data.source"] = str(_download(None, None))
    return resolve(replace(cfg, **changes))


def _download(directory: Path | None, url: str | None, sha256: str | None = None) -> Path:
    from neuralcodes.data.download import OFFICIAL_URL, ensure_tiny_imagenet
    from neuralcodes.pipeline.prepare import neuralcodes_home

    return ensure_tiny_imagenet(directory or neuralcodes_home(), url=url or OFFICIAL_URL,
                                sha256=sha256, progress=ConsoleProgress())


def cmd_run(args: argparse.Namespace) -> int:
    from neuralcodes.pipeline import run_experiment

    out = args.out or new_run_dir()
    metrics = run_experiment(out, config_from_args(args), resume=args.resume,
                             progress=ConsoleProgress())
    print(summary_table(metrics))
    print(f"\nrun folder: {out}  (report: {out / 'report.html'})")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    args.data, args.download, args.config = "synthetic", False, None
    from neuralcodes.pipeline import run_experiment

    metrics = run_experiment(args.out, config_from_args(args, DEMO), resume=args.resume,
                             progress=ConsoleProgress())
    print(summary_table(metrics))
    print(f"\nrun folder: {args.out}  (report: {args.out / 'report.html'})")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    print(_download(args.dir, args.url, args.sha256))
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from neuralcodes.pipeline import prepare

    prepare(args.run_dir, config_from_args(args), progress=ConsoleProgress())
    return 0


def cmd_step(args: argparse.Namespace) -> int:
    from neuralcodes import pipeline

    progress = ConsoleProgress()
    if args.step == "train":
        pipeline.train_step(args.run_dir, resume=args.resume, progress=progress)
    elif args.step in ("figures", "report"):
        getattr(pipeline, f"{args.step}_step")(args.run_dir)
    else:
        getattr(pipeline, f"{args.step}_step")(args.run_dir, progress=progress)
    return 0


def summary_table(metrics: dict[str, Any]) -> str:
    """The headline numbers as a plain-text table."""
    lines = []
    for split, m in metrics.get("evaluation", {}).items():
        lines.append(f"{split:>6}: loss {m['loss']:.3f}  accuracy {m['accuracy']:.3f}  "
                     f"top-5 {m['top5']:.3f}")
    for name, m in metrics.get("retrieval", {}).items():
        ci = m.get("ci95")
        ci_text = f"  95% CI [{ci[0]:.4f}, {ci[1]:.4f}]" if ci else ""
        lines.append(f"{name:>14}: mAP {m['map']:.4f}{ci_text}")
    return "\n".join(lines)
