"""`neuralcodes benchmark NAME ...` and `neuralcodes benchmark download NAME`: the paper's
benchmarks, each a subcommand with the same flags, scored into a result folder.

``--model SPEC`` is any network (a run folder, ``alexnet[:WEIGHTS.pth]``, ``hf:ORG/NAME[@REV]``,
``hf:/folder``): ``neuralcodes.encoder.open_encoder`` gives the benchmarks' ``ImageEncoder``
(images read by the network's own preprocessing).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from neuralcodes.benchmarks.catalog import DESCRIPTION
from neuralcodes.benchmarks.dataset import NAMES
from neuralcodes.cli.progress_cli import ConsoleProgress


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "benchmark", help="the paper's benchmarks (Holidays, Oxford5k, Paris6k, ROxford5k, "
        "RParis6k, UKBench): scores with intervals, codes and a figure in a result folder")
    sub = p.add_subparsers(dest="benchmark_command", metavar="NAME")
    for name in NAMES:
        q = sub.add_parser(name, help=DESCRIPTION[name], description=DESCRIPTION[name])
        _add_run_flags(q, name)
        q.set_defaults(func=cmd_benchmark, benchmark=name)
    d = sub.add_parser("download", help="fetch a benchmark's official files (resumable)")
    d.add_argument("name", choices=NAMES)
    d.add_argument("--dir", type=Path, required=True, help="the dataset goes to DIR/NAME")
    d.add_argument("--mirror", default=None, help="a base URL serving the same file names")
    d.set_defaults(func=cmd_download)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(p: argparse.ArgumentParser) -> int:
    p.print_help()
    return 1


def _add_run_flags(q: argparse.ArgumentParser, name: str) -> None:
    q.add_argument("--data", type=Path, required=True, help="the benchmark's folder, in its "
                   "official layout (see `neuralcodes benchmark download`)")
    q.add_argument("--model", metavar="SPEC", required=True, help="the network: a run folder, "
                   "alexnet[:WEIGHTS.pth], hf:ORG/NAME[@REV] or hf:/folder")
    q.add_argument("--layer", default=None, help="the code (default: a run's best layer, a "
                   "network's default code: L6 for AlexNet, e.g. cls for DINOv2)")
    q.add_argument("--pca", type=int, default=None, help="PCA-compress the codes to D dims")
    q.add_argument("--pca-fit-on", default=None, metavar="DIR", help="a folder of images to fit "
                   "PCA on (another dataset, e.g. another benchmark's folder), or 'self' for this "
                   "benchmark's own database (flagged as optimistic in the result)")
    q.add_argument("--whiten", action="store_true", help="PCA-whitening")
    if name == "holidays":
        q.add_argument("--rotated", type=Path, default=None, metavar="DIR", help="a folder of "
                       "manually rotated (upright) copies of Holidays images, same names: each "
                       "replaces its original ('rotated Holidays')")
    q.add_argument("--out", type=Path, default=None, help="the result folder "
                   "(default runs/benchmarks/NAME-LAYER[-pcaD])")
    q.add_argument("--batch-size", type=int, default=64)
    q.add_argument("--workers", type=int, default=0, help="decoding threads (0: one per core, "
                   "up to 8)")
    q.add_argument("--bootstrap", type=int, default=1000, help="resamples of the 95 %% CI")
    q.add_argument("--figure", type=int, default=4, metavar="N", help="queries shown in "
                   "figures/queries.png (default 4; 0: no figure)")
    q.add_argument("--device", default="auto", help="auto (default), cpu, cuda, mps")


def cmd_benchmark(args: argparse.Namespace) -> int:
    from neuralcodes.benchmarks import BenchmarkConfig, run_benchmark

    config = BenchmarkConfig(
        name=args.benchmark, data=str(args.data), pca=args.pca, pca_fit_on=args.pca_fit_on,
        whiten=args.whiten, rotated=str(args.rotated) if getattr(args, "rotated", None) else None,
        batch_size=args.batch_size, workers=args.workers, n_bootstrap=args.bootstrap,
        figure_queries=args.figure)
    from neuralcodes.encoder import open_encoder

    encoder = open_encoder(args.model, layer=args.layer, device=args.device,
                           batch_size=args.batch_size)
    suffix = f"-pca{args.pca}" if args.pca else ""
    out = args.out or Path("runs/benchmarks") / f"{args.benchmark}-{encoder.layer}{suffix}"
    _show_logs()
    result = run_benchmark(config, encoder, out, progress=ConsoleProgress())
    print(result.text)
    print(f"written: {result.out}")
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    from neuralcodes.benchmarks import download_benchmark

    _show_logs()
    print(download_benchmark(args.name, args.dir, mirror=args.mirror, progress=ConsoleProgress()))
    return 0


class _Stderr(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a message comes."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


def _show_logs() -> None:
    """The library's messages (skipped images, steps) on stderr, once."""
    log = logging.getLogger("neuralcodes.benchmarks")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        log.addHandler(_Stderr())
        log.setLevel(logging.INFO)
