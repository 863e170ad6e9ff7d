"""`neuralcodes sweep | finetune | compare | folder-retrieval | recipes`: the research tools.

Each handler calls one library function of ``neuralcodes.research``, prints its table (Markdown;
``--json``: the records behind it) and writes it (with the JSON) when asked.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import atomic_write_json, atomic_write_text
from neuralcodes.cli.options import (
    SPECS,
    WHITEN,
    add_bootstrap_option,
    add_layer_option,
    add_model_option,
    add_pca_fit_option,
    add_pca_option,
    add_qe_options,
    add_scoring_options,
    add_whiten_option,
    whiten_flag,
)
from neuralcodes.cli.output import jsonable, print_result
from neuralcodes.cli.progress_cli import ConsoleProgress
from neuralcodes.config import Pooling, Recipe, choices
from neuralcodes.tables import markdown_table

log = logging.getLogger(__name__)
POOLINGS = choices(Pooling)


def register(subparsers: Any) -> None:
    _register_sweep(subparsers)
    _register_finetune(subparsers)
    _register_compare(subparsers)
    _register_folder_retrieval(subparsers)
    _register_recipes(subparsers)


def _register_sweep(subparsers: Any) -> None:
    p = subparsers.add_parser("sweep", help="layer x pooling x PCA dims x whitening x query "
                              "expansion on a run's out-of-domain retrieval",
                              description="Sweep the code sets of a neuralcodes run folder (its "
                              "own network and out-of-domain task; for another network use "
                              "folder-retrieval or benchmark with --model SPEC).",
                              func=cmd_sweep, json=True)
    p.add_argument("run_dir", type=Path, help="a neuralcodes run folder with its codes (after "
                   "step 4)")
    add_layer_option(p, many=True, default=["L5", "L6", "L7"], specs=True)
    p.add_argument("--pool", nargs="*", default=[], help="poolings of --conv-layer "
                   f"({' '.join(POOLINGS)}) or full specs such as conv4:gem (default none)")
    p.add_argument("--conv-layer", default="conv5", help="the map --pool pools (default conv5)")
    add_pca_option(p, many=True, default_text="the run's PCA sizes; the full code is always in")
    add_whiten_option(p, both=True)
    add_qe_options(p, many=True)
    add_scoring_options(p)
    p.add_argument("--out", type=Path, help="where sweep.csv/.md and figures/sweep.png go "
                   "(default: the run folder)")


def _register_finetune(subparsers: Any) -> None:
    p = subparsers.add_parser("finetune", help="retrain a run's model on a labelled image folder",
                              func=cmd_finetune, json=True)
    p.add_argument("run_dir", type=Path, help="the run whose model is retrained")
    p.add_argument("--data", type=Path, required=True, help="a folder with one subfolder per class")
    p.add_argument("--out", type=Path, required=True, help="the new run folder")
    tune = _defaults("neuralcodes.research.finetune", "finetune")
    for flag, kind, text in (
            ("--epochs", int, "at most this many epochs"),
            ("--lr", float, "Adam learning rate"),
            ("--val-fraction", float, "held out per class for early stopping"),
            ("--seed", int, "seed of the new head, the split and the batch order")):
        p.add_argument(flag, type=kind, default=tune[flag[2:].replace("-", "_")],
                       help=f"{text} (default %(default)s)")


def _register_compare(subparsers: Any) -> None:
    p = subparsers.add_parser("compare", help="two networks' codes on the same retrieval task, "
                              "with a paired test", func=cmd_compare, json=True)
    p.add_argument("run_a", metavar="A", help=f"network A, the reference: a model SPEC ({SPECS})")
    p.add_argument("run_b", metavar="B", help="network B, compared with A: a model SPEC")
    add_layer_option(p, many=True, default=None, specs=True,
                     default_text="A's default code, e.g. a run's best layer, with B's own if B "
                     "lacks it")
    p.add_argument("--data", type=Path, help="a labelled folder (default: A's out-of-domain "
                   "images when A is a run folder; required otherwise)")
    add_scoring_options(p, what="the 95 %% intervals and the paired test", none=False)
    _add_written_option(p, "compare")


def _register_recipes(subparsers: Any) -> None:
    p = subparsers.add_parser("recipes", help="the demo experiment once per training recipe, "
                              "compared", func=cmd_recipes, json=True)
    p.add_argument("--out", type=Path, required=True, help="one run folder per recipe goes here")
    runs = _defaults("neuralcodes.research.recipes", "run_recipes")
    p.add_argument("--recipes", nargs="+", default=list(runs["recipes"]), metavar="RECIPE",
                   help=f"recipes among {', '.join(choices(Recipe))}; the first is the "
                   f"reference (default {' '.join(runs['recipes'])})")
    add_bootstrap_option(p, runs["n_bootstrap"], "the 95 %% intervals and the paired tests",
                         none=False)


def _register_folder_retrieval(subparsers: Any) -> None:
    p = subparsers.add_parser("folder-retrieval", help="retrieval scores on your own labelled "
                              "folder (each image queries the rest)",
                              func=cmd_folder_retrieval, json=True)
    p.add_argument("folder", type=Path, help="one subfolder of images per class")
    g = p.add_mutually_exclusive_group(required=True)
    add_model_option(g)
    g.add_argument("--alexnet", type=Path, metavar="WEIGHTS", help="deprecated: "
                   "--model alexnet:WEIGHTS.pth")
    add_layer_option(p, many=True, default=None, specs=True,
                     default_text="L5 L6 L7 where the network has them, else its default code, "
                     "e.g. cls")
    add_pca_option(p, many=True, default=[])
    add_whiten_option(p, both=False)
    add_pca_fit_option(p, "a folder of images to fit PCA on (default: the evaluated images "
                       "themselves, flagged in the table as optimistic)", old="--pca-fit")
    add_qe_options(p, many=False)
    add_scoring_options(p)
    _add_written_option(p, "folder-retrieval")


def _add_written_option(p: argparse.ArgumentParser, name: str) -> None:
    """``--out DIR``: where ``_show`` writes the table and its JSON."""
    p.add_argument("--out", type=Path, help=f"write {name}.md and {name}.json there "
                   "(default: not written)")


def _defaults(module: str, function: str) -> dict[str, Any]:
    """The keyword defaults of a library function: the CLI shows and uses the same ones."""
    func = getattr(importlib.import_module(module), function)
    return {k: v.default for k, v in inspect.signature(func).parameters.items()}


def _show(args: argparse.Namespace, text: str, data: Any, name: str) -> None:
    """The table on stdout (``--json``: ``data``), and both in ``args.out`` when given."""
    print_result(args.json, data, text)
    if args.out is None:
        return
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / f"{name}.md", text)
    atomic_write_json(args.out / f"{name}.json", jsonable(data))
    log.info("written: %s and %s", args.out / f"{name}.md", args.out / f"{name}.json")


def cmd_sweep(args: argparse.Namespace) -> int:
    from neuralcodes.research.sweep import sweep
    from neuralcodes.research.tables import sweep_markdown, write_sweep

    pools = [p if ":" in p else f"{args.conv_layer}:{p}" for p in args.pool]
    rows = sweep(args.run_dir, codes=[*args.layer, *pools], dims=args.pca,
                 whiten=WHITEN[args.whiten], qe=args.qe, qe_alpha=args.qe_alpha,
                 estimator=args.estimator, n_bootstrap=args.bootstrap, progress=ConsoleProgress())
    files = write_sweep(rows, args.out or args.run_dir)
    print_result(args.json, {"rows": rows, "written": files}, sweep_markdown(rows))
    log.info("written: %s, %s, %s", files["csv"], files["md"], files["png"])
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from neuralcodes.research.finetune import finetune

    r = finetune(args.run_dir, args.data, args.out, epochs=args.epochs, lr=args.lr,
                 val_fraction=args.val_fraction, seed=args.seed, progress=ConsoleProgress())
    print_result(args.json, r, f"fine-tuned {r.epochs} epochs: validation accuracy "
                 f"{r.val_accuracy:.3f}; new head {', '.join(r.reinitialised)}; parent model "
                 f"{r.parent_model_hash} -> {r.model_hash}\nrun folder: {r.run_dir}  (compare: "
                 f"neuralcodes compare {args.run_dir} {r.run_dir})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from neuralcodes.research.compare import COMPARISON_HEADER, compare_runs, comparison_rows

    result = compare_runs(args.run_a, args.run_b, codes=args.layer, data=args.data,
                          estimator=args.estimator, n_bootstrap=args.bootstrap,
                          progress=ConsoleProgress())
    text = (f"A: {result.a}\nB: {result.b}\ntask: {result.task}\n\n"
            + markdown_table(COMPARISON_HEADER, comparison_rows(result)))
    _show(args, text, result.to_dict(), "compare")
    return 0


def cmd_folder_retrieval(args: argparse.Namespace) -> int:
    from neuralcodes.research.folder_retrieval import folder_retrieval, folder_table
    from neuralcodes.research.networks import open_network

    net = open_network(args.model, args.alexnet)
    rows = folder_retrieval(args.folder, net, codes=args.layer, pca=args.pca,
                            whiten=whiten_flag(args.whiten), pca_fit_folder=args.pca_fit_on,
                            qe=args.qe, qe_alpha=args.qe_alpha, estimator=args.estimator,
                            n_bootstrap=args.bootstrap, progress=ConsoleProgress())
    fit = ("" if not args.pca else "PCA fitted on " + (args.pca_fit_on or "the evaluated "
           "images themselves (optimistic: give --pca-fit-on DIR)") + "\n")
    text = f"network: {net.description}\nfolder: {args.folder}\n{fit}\n" + markdown_table(
        *folder_table(rows))
    _show(args, text, [r.to_dict() for r in rows], "folder-retrieval")
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    from neuralcodes.research.recipes import recipes_table, run_recipes

    result = run_recipes(args.out, args.recipes, n_bootstrap=args.bootstrap,
                         progress=ConsoleProgress())
    text = markdown_table(*recipes_table(result))
    _show(args, text, result.to_dict(), "recipes")
    return 0
