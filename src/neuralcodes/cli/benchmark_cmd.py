"""`neuralcodes benchmark NAME ...` and `neuralcodes benchmark download NAME`: the paper's
benchmarks, each a subcommand with the same flags, scored into a result folder.

``--model SPEC`` is any network (a run folder, ``alexnet[:WEIGHTS.pth]``, ``hf:ORG/NAME[@REV]``,
``hf:/folder``): ``neuralcodes.encoder.open_encoder`` gives the benchmarks' ``ImageEncoder``
(images read by the network's own preprocessing).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuralcodes.benchmarks.catalog import DESCRIPTION
from neuralcodes.benchmarks.dataset import NAMES
from neuralcodes.cli.options import (
    add_bootstrap_option,
    add_device_option,
    add_layer_option,
    add_model_option,
    add_pca_fit_option,
    add_pca_option,
    add_whiten_option,
    whiten_flag,
)
from neuralcodes.cli.output import print_result
from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "benchmark", help="the paper's benchmarks (Holidays, Oxford5k, Paris6k, ROxford5k, "
        "RParis6k, UKBench): scores with intervals, codes and a figure in a result folder")
    sub = p.add_subparsers(dest="benchmark_command", metavar="NAME")
    for name in NAMES:
        q = sub.add_parser(name, help=DESCRIPTION[name], description=DESCRIPTION[name],
                           func=cmd_benchmark, json=True)
        _add_run_flags(q, name)
        q.set_defaults(benchmark=name)
    d = sub.add_parser("download", help="fetch a benchmark's official files (resumable)",
                       func=cmd_download)
    d.add_argument("name", choices=NAMES)
    d.add_argument("--dir", type=Path, required=True, help="the dataset goes to DIR/NAME")
    d.add_argument("--mirror", default=None, help="a base URL serving the same file names")
    p.set_defaults(func=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 1


def _add_run_flags(q: argparse.ArgumentParser, name: str) -> None:
    q.add_argument("--data", type=Path, required=True, help="the benchmark's folder, in its "
                   "official layout (see `neuralcodes benchmark download`)")
    add_model_option(q, required=True)
    add_layer_option(q, many=False, default_text="a run's best layer, a network's default code: "
                     "L6 for AlexNet, e.g. cls for DINOv2")
    add_pca_option(q, many=False)
    add_pca_fit_option(q, "a folder of images to fit PCA on (another dataset, e.g. another "
                       "benchmark's folder), or 'self' for this benchmark's own database "
                       "(flagged as optimistic in the result); needed with --pca (default none)")
    add_whiten_option(q, both=False)
    if name == "holidays":
        q.add_argument("--rotated", type=Path, default=None, metavar="DIR", help="a folder of "
                       "manually rotated (upright) copies of Holidays images, same names: each "
                       "replaces its original ('rotated Holidays')")
    q.add_argument("--out", type=Path, default=None, help="the result folder "
                   "(default runs/benchmarks/NAME-LAYER[-pcaD])")
    q.add_argument("--batch-size", type=int, default=64, metavar="N",
                   help="images per forward pass (default %(default)s)")
    q.add_argument("--workers", type=int, default=0, metavar="N", help="decoding threads "
                   "(0: one per core, up to 8) (default %(default)s)")
    add_bootstrap_option(q)
    q.add_argument("--figure", type=int, default=4, metavar="N", help="queries shown in "
                   "figures/queries.png (0: no figure) (default %(default)s)")
    add_device_option(q)


def cmd_benchmark(args: argparse.Namespace) -> int:
    from neuralcodes.benchmarks import BenchmarkConfig, run_benchmark

    config = BenchmarkConfig(
        name=args.benchmark, data=str(args.data), pca=args.pca, pca_fit_on=args.pca_fit_on,
        whiten=whiten_flag(args.whiten),
        rotated=str(args.rotated) if getattr(args, "rotated", None) else None,
        batch_size=args.batch_size, workers=args.workers, n_bootstrap=args.bootstrap,
        figure_queries=args.figure)
    from neuralcodes.encoder import open_encoder

    encoder = open_encoder(args.model, layer=args.layer, device=args.device,
                           batch_size=args.batch_size)
    suffix = f"-pca{args.pca}" if args.pca else ""
    out = args.out or Path("runs/benchmarks") / f"{args.benchmark}-{encoder.layer}{suffix}"
    result = run_benchmark(config, encoder, out, progress=ConsoleProgress())
    print_result(args.json, {"out": result.out, "rows": result.rows},
                 f"{result.text}\nwritten: {result.out}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from neuralcodes.benchmarks import download_benchmark

    print(download_benchmark(args.name, args.dir, mirror=args.mirror, progress=ConsoleProgress()))
    return 0

