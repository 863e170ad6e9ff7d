"""The experiment's commands: run, demo, download, and one per step of a run folder."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import Any, Literal

from neuralcodes.artifacts import read_json
from neuralcodes.cli.options import add_download_options
from neuralcodes.cli.output import print_result
from neuralcodes.cli.progress_cli import ConsoleProgress
from neuralcodes.config import DataConfig, RunConfig, choices, from_dict, replace
from neuralcodes.presets import DEMO, resolve
from neuralcodes.results import SplitEvaluation, scores_from_dict
from neuralcodes.runs import RunDir, new_run_dir
from neuralcodes.tables import ci_text

# flag -> (dotted config key, help); the type, choices and default come from the config
CONFIG_FLAGS: dict[str, tuple[str, str]] = {
    "epochs": ("train.epochs", "at most this many epochs"),
    "batch_size": ("train.batch_size", "batch size"),
    "lr": ("train.lr", "Adam learning rate"),
    "patience": ("train.patience", "early-stopping patience in epochs"),
    "min_delta": ("train.min_delta", "early-stopping min_delta"),
    "recipe": ("train.recipe", "training recipe"),
    "device": ("train.device", "device"),
    "precision": ("train.precision", "precision"),
    "train_seed": ("train.seed", "seed of initialisation and batch order"),
    "seed": ("data.seed", "seed of the data split (the notebook's is 42)"),
    "split_order": ("data.split_order", "notebook: the notebook's exact split; stratified: each "
                    "class split 80/10/10"),
    "n_in_domain": ("data.n_in_domain", "classes 0..N-1 train the network, the rest are "
                    "out-of-domain"),
    "width": ("model.width", "width multiplier of every layer"),
    "compile": ("train.compile", "torch.compile the training step (worth it on a GPU)"),
}


def register(subparsers: Any) -> None:
    notebook = resolve(RunConfig())
    p = subparsers.add_parser("run", help="the whole experiment: split, train, evaluate, retrieve, "
                              "report", func=cmd_run, json=True)
    _add_data_flags(p)
    _add_config_flags(p, notebook)
    p.add_argument("--out", type=Path, help="run folder (default runs/run-<time>)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")

    p = subparsers.add_parser("demo", help="the whole experiment on the built-in synthetic dataset "
                              "(a few minutes on a laptop CPU)", func=cmd_run, json=True)
    p.add_argument("--out", type=Path, default=Path("runs/demo"),
                   help="run folder (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted demo in --out")
    _add_config_flags(p, DEMO)
    p.set_defaults(base=DEMO, data="synthetic")  # the demo's configuration and data
    _register_steps(subparsers, notebook)


def _register_steps(subparsers: Any, notebook: RunConfig) -> None:
    """download, prepare, and one command per step of a run folder."""
    p = subparsers.add_parser("download", help="fetch Tiny ImageNet (resumable, checksum-verified)",
                              func=cmd_download)
    add_download_options(p, "tiny-imagenet-200.zip", "$NEURALCODES_HOME or ~/.cache/neuralcodes")
    p.add_argument("--sha256", default=None, help="refuse the zip unless it has this SHA-256 "
                   "(the computed one is always written to tiny-imagenet-200.zip.sha256)")

    p = subparsers.add_parser("prepare", help="step 1: decode, cache and split the data",
                              func=cmd_prepare)
    p.add_argument("run_dir", type=Path, help="the run folder to make")
    _add_data_flags(p)
    _add_config_flags(p, notebook)
    for name, helptext in STEP_HELP.items():
        p = subparsers.add_parser(name, help=helptext, func=cmd_step)
        p.add_argument("run_dir", type=Path, help="a run folder made by `neuralcodes prepare` "
                       "(or `run`)")
        if name == "train":
            p.add_argument("--resume", action="store_true", help="continue from checkpoint.pt")
        p.set_defaults(step=name)


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
    data = DataConfig()
    g.add_argument("--data", help="tiny-imagenet-200 folder or .zip, or 'synthetic' (default "
                   f"{data.source}: {data.synthetic_classes} generated classes, fewer than the "
                   f"default --n-in-domain {data.n_in_domain}: give --data, or see "
                   "`neuralcodes demo`)")
    g.add_argument("--download", action="store_true", help="download Tiny ImageNet first")
    p.add_argument("--config", type=Path, help="a config.json to start from (flags override it)")


def _add_config_flags(p: argparse.ArgumentParser, base: RunConfig) -> None:
    """One flag per CONFIG_FLAGS entry, its help showing ``base``'s value as the default."""
    for flag, (key, helptext) in CONFIG_FLAGS.items():
        name = "--" + flag.replace("_", "-")
        section, _, field = key.partition(".")
        hint = typing.get_type_hints(type(getattr(base, section)))[field]
        default = getattr(getattr(base, section), field)
        if hint is bool:
            p.add_argument(name, dest=flag, action="store_const", const=True,
                           help=f"{helptext} (default {'on' if default else 'off'})")
        elif typing.get_origin(hint) is Literal:
            p.add_argument(name, dest=flag, choices=choices(hint),
                           help=f"{helptext} (default {default})")
        else:
            p.add_argument(name, dest=flag, type=hint, help=f"{helptext} (default {default})")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """The run's configuration from the command's base (the notebook's; the demo's for
    ``demo``), --config and the flags, checked whole (``check_run_config``) before anything is
    downloaded or written."""
    from neuralcodes.pipeline.prepare import check_run_config

    cfg = getattr(args, "base", RunConfig())
    if getattr(args, "config", None):
        saved = read_json(args.config)
        cfg = from_dict(RunConfig, saved.get("config", saved))
    changes = {key: getattr(args, flag) for flag, (key, _) in CONFIG_FLAGS.items()
               if getattr(args, flag, None) is not None}
    if getattr(args, "data", None):
        changes["data.source"] = args.data
    download = getattr(args, "download", False)
    if download:
        changes["data.source"] = "tiny-imagenet-200"  # where is known after the download
    cfg = resolve(replace(cfg, **changes))
    check_run_config(cfg, to_download=download)
    if download:
        cfg = replace(cfg, **{"data.source": str(_download(None, None))})
    return cfg


def _download(directory: Path | None, url: str | None, sha256: str | None = None) -> Path:
    from neuralcodes.data.download import OFFICIAL_URL, ensure_tiny_imagenet
    from neuralcodes.pipeline.prepare import neuralcodes_home

    return ensure_tiny_imagenet(directory or neuralcodes_home(), url=url or OFFICIAL_URL,
                                sha256=sha256, progress=ConsoleProgress())


def cmd_run(args: argparse.Namespace) -> int:
    """``run`` and ``demo``: the whole experiment, then its summary table and where it is."""
    from neuralcodes.pipeline import run_experiment

    out = args.out or new_run_dir()
    metrics = run_experiment(out, config_from_args(args), resume=args.resume,
                             progress=ConsoleProgress())
    report = RunDir(out).report[1]
    print_result(args.json, {"run_dir": out, "report": report, "metrics": metrics},
                 f"{summary_table(metrics)}\n\nrun folder: {out}  (report: {report})")
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

    step = getattr(pipeline, f"{args.step}_step")
    if args.step == "train":
        step(args.run_dir, resume=args.resume, progress=ConsoleProgress())
    elif args.step in ("figures", "report"):
        step(args.run_dir)
    else:
        step(args.run_dir, progress=ConsoleProgress())
    return 0


def summary_table(metrics: dict[str, Any]) -> str:
    """The headline numbers as a plain-text table."""
    lines = []
    for split, entry in metrics.get("evaluation", {}).items():
        m = SplitEvaluation.from_dict(entry)
        lines.append(f"{split:>6}: loss {m.loss:.3f}  accuracy {m.accuracy:.3f}  "
                     f"top-5 {m.top5:.3f}")
    for name, score in scores_from_dict(metrics.get("retrieval", {})).items():
        ci = ci_text(score.ci95)
        lines.append(f"{name:>14}: mAP {score.map:.4f}" + (f"  95% CI {ci}" if ci else ""))
    return "\n".join(lines)
