"""`neuralcodes sweep | finetune | compare | folder-retrieval | recipes`: the research tools.

Each handler calls one library function of ``neuralcodes.research``, prints its table (Markdown)
and writes it (with the JSON behind it) when asked.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import atomic_write_json, atomic_write_text
from neuralcodes.cli.progress_cli import ConsoleProgress
from neuralcodes.config import Estimator, Pooling, Recipe, choices
from neuralcodes.tables import markdown_table

POOLINGS = choices(Pooling)
SPECS = "a run folder, alexnet[:WEIGHTS.pth], hf:ORG/NAME[@REV] or hf:/folder"

WHITEN = {"no": (False,), "yes": (True,), "both": (False, True)}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sweep", help="layer x pooling x PCA dims x whitening x query "
                              "expansion on a run's out-of-domain retrieval",
                              description="Sweep the code sets of a neuralcodes run folder (its "
                              "own network and out-of-domain task; for another network use "
                              "folder-retrieval or benchmark with --model SPEC).")
    p.add_argument("run_dir", type=Path, help="a neuralcodes run folder (a trained run)")
    p.add_argument("--layers", nargs="+", default=["L5", "L6", "L7"],
                   help="layers (default L5 L6 L7)")
    p.add_argument("--pool", nargs="*", default=[], help="poolings of --conv-layer "
                   f"({' '.join(POOLINGS)}) or full specs such as conv4:gem (default none)")
    p.add_argument("--conv-layer", default="conv5", help="the map --pool pools (default conv5)")
    p.add_argument("--dims", nargs="+", type=int, default=None,
                   help="PCA sizes (default: the run's, 16 .. 512); the full code is always in")
    p.add_argument("--whiten", choices=sorted(WHITEN), default="no",
                   help="PCA-whitening (default no)")
    p.add_argument("--qe", nargs="+", type=int, default=[0],
                   help="query expansion sizes (0: off; default 0)")
    _add_scoring_flags(p)
    p.add_argument("--out", type=Path, help="where sweep.csv/.md and figures/sweep.png go "
                   "(default: the run folder)")
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser("finetune", help="retrain a run's model on a labelled image folder")
    p.add_argument("run_dir", type=Path, help="the run whose model is retrained")
    p.add_argument("--data", type=Path, required=True, help="a folder with one subfolder per class")
    p.add_argument("--out", type=Path, required=True, help="the new run folder")
    tune = _defaults("neuralcodes.research.finetune", "finetune")
    p.add_argument("--epochs", type=int, default=tune["epochs"],
                   help="at most this many epochs (default %(default)s)")
    p.add_argument("--lr", type=float, default=tune["lr"],
                   help="Adam learning rate (default %(default)s)")
    p.add_argument("--val-fraction", type=float, default=tune["val_fraction"],
                   help="held out per class for early stopping (default %(default)s)")
    p.add_argument("--seed", type=int, default=tune["seed"],
                   help="seed of the new head, the split and the batch order (default %(default)s)")
    p.set_defaults(func=cmd_finetune)

    p = subparsers.add_parser("compare", help="two networks' codes on the same retrieval task, "
                              "with a paired test")
    p.add_argument("run_a", metavar="A", help=f"network A: a model SPEC ({SPECS})")
    p.add_argument("run_b", metavar="B", help="network B: a model SPEC")
    p.add_argument("--layer", nargs="+", default=None,
                   help="codes both networks have: layers or specs such as conv5:spoc (default: "
                   "A's default code, e.g. a run's best layer, with B's own if B lacks it)")
    p.add_argument("--data", type=Path, help="a labelled folder (default: A's out-of-domain "
                   "images when A is a run folder; required otherwise)")
    _add_scoring_flags(p, qe=False)
    p.add_argument("--out", type=Path, help="write compare.md and compare.json there")
    p.set_defaults(func=cmd_compare)

    _register_folder_retrieval(subparsers)

    p = subparsers.add_parser("recipes", help="the demo experiment once per training recipe, "
                              "compared")
    p.add_argument("--out", type=Path, required=True, help="one run folder per recipe goes here")
    runs = _defaults("neuralcodes.research.recipes", "run_recipes")
    p.add_argument("--recipes", nargs="+", default=list(runs["recipes"]), metavar="RECIPE",
                   help=f"recipes among {', '.join(choices(Recipe))}; the first is the "
                   f"reference (default {' '.join(runs['recipes'])})")
    p.add_argument("--bootstrap", type=int, default=runs["n_bootstrap"],
                   help="resamples of the 95 %% CI and the paired test (default %(default)s)")
    p.set_defaults(func=cmd_recipes)


def _register_folder_retrieval(subparsers: Any) -> None:
    p = subparsers.add_parser("folder-retrieval", help="retrieval scores on your own labelled "
                              "folder (each image queries the rest)")
    p.add_argument("folder", type=Path, help="one subfolder of images per class")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--model", metavar="SPEC", help=f"the network: {SPECS}")
    g.add_argument("--alexnet", type=Path, metavar="WEIGHTS", help="deprecated: "
                   "--model alexnet:WEIGHTS.pth")
    p.add_argument("--layers", nargs="+", default=None,
                   help="layers or specs such as conv5:spoc (default L5 L6 L7 where the network "
                   "has them, else its default code, e.g. cls)")
    p.add_argument("--pca", nargs="*", type=int, default=[],
                   help="PCA sizes, e.g. 128 (default none)")
    p.add_argument("--whiten", action="store_true", help="PCA-whiten (default off)")
    p.add_argument("--pca-fit", type=Path, help="a folder to fit PCA on (default: the evaluated "
                   "images themselves, flagged in the table)")
    p.add_argument("--qe", type=int, default=0, help="query expansion size (default 0: off)")
    _add_scoring_flags(p)
    p.add_argument("--out", type=Path, help="write folder-retrieval.md and .json there")
    p.set_defaults(func=cmd_folder_retrieval)


def _add_scoring_flags(p: argparse.ArgumentParser, qe: bool = True) -> None:
    p.add_argument("--estimator", choices=choices(Estimator), default="spec",
                   help="AP estimator: spec (docs/protocol.md) or trapezoid (the Oxford/Holidays "
                   "code) (default spec)")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="resamples of the 95 %% CI (default 1000)")
    if qe:
        p.add_argument("--alpha", type=float, default=0.0,
                       help="alpha-QE exponent (default 0: average QE)")


def _defaults(module: str, function: str) -> dict[str, Any]:
    """The keyword defaults of a library function: the CLI shows and uses the same ones."""
    func = getattr(importlib.import_module(module), function)
    return {k: v.default for k, v in inspect.signature(func).parameters.items()}


def _write(out: Path | None, name: str, text: str, data: Any) -> None:
    if out is None:
        return
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{name}.md", text)
    atomic_write_json(out / f"{name}.json", data)
    print(f"\nwritten: {out / (name + '.md')} and {out / (name + '.json')}")


def cmd_sweep(args: argparse.Namespace) -> int:
    from neuralcodes.research.sweep import sweep
    from neuralcodes.research.tables import sweep_markdown, write_sweep
    from neuralcodes.runs import RunDir, load_config

    pools = [p if ":" in p else f"{args.conv_layer}:{p}" for p in args.pool]
    dims = args.dims or list(load_config(RunDir(args.run_dir)).retrieval.pca_dims)
    rows = sweep(args.run_dir, codes=[*args.layers, *pools], dims=dims,
                 whiten=WHITEN[args.whiten], qe=args.qe, qe_alpha=args.alpha,
                 estimator=args.estimator, n_bootstrap=args.bootstrap, progress=ConsoleProgress())
    files = write_sweep(rows, args.out or args.run_dir)
    print(sweep_markdown(rows))
    print(f"written: {files['csv']}, {files['md']}, {files['png']}")
    return 0


def cmd_finetune(args: argparse.Namespace) -> int:
    from neuralcodes.research.finetune import finetune

    r = finetune(args.run_dir, args.data, args.out, epochs=args.epochs, lr=args.lr,
                 val_fraction=args.val_fraction, seed=args.seed, progress=ConsoleProgress())
    print(f"fine-tuned {r.epochs} epochs: validation accuracy {r.val_accuracy:.3f}; new head "
          f"{', '.join(r.reinitialised)}; parent model {r.parent_model_hash} -> {r.model_hash}")
    print(f"run folder: {r.run_dir}  (compare: neuralcodes compare {args.run_dir} {r.run_dir})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from neuralcodes.research.compare import COMPARISON_HEADER, compare_runs, comparison_rows

    result = compare_runs(args.run_a, args.run_b, codes=args.layer, data=args.data,
                          estimator=args.estimator, n_bootstrap=args.bootstrap,
                          progress=ConsoleProgress())
    text = (f"A: {result.a}\nB: {result.b}\ntask: {result.task}\n\n"
            + markdown_table(COMPARISON_HEADER, comparison_rows(result)))
    print(text)
    _write(args.out, "compare", text, result.to_dict())
    return 0


def cmd_folder_retrieval(args: argparse.Namespace) -> int:
    from neuralcodes.research.folder_retrieval import folder_retrieval, folder_table
    from neuralcodes.research.networks import open_network

    net = open_network(args.model, args.alexnet)
    rows = folder_retrieval(args.folder, net, codes=args.layers, pca=args.pca,
                            whiten=args.whiten, pca_fit_folder=args.pca_fit, qe=args.qe,
                            qe_alpha=args.alpha, estimator=args.estimator,
                            n_bootstrap=args.bootstrap, progress=ConsoleProgress())
    fit = ("" if not args.pca else "PCA fitted on " + (str(args.pca_fit) if args.pca_fit else
           "the evaluated images themselves (optimistic: give --pca-fit FOLDER)") + "\n")
    text = f"network: {net.description}\nfolder: {args.folder}\n{fit}\n" + markdown_table(
        *folder_table(rows))
    print(text)
    _write(args.out, "folder-retrieval", text, [r.to_dict() for r in rows])
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    from neuralcodes.research.recipes import recipes_table, run_recipes

    result = run_recipes(args.out, args.recipes, n_bootstrap=args.bootstrap,
                         progress=ConsoleProgress())
    text = markdown_table(*recipes_table(result))
    print(text)
    _write(args.out, "recipes", text, result.to_dict())
    return 0
