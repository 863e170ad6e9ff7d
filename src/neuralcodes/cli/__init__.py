"""The command line: a thin map from subcommand to one library function.

Each command group lives in its own module with a ``register(subparsers)`` function that adds its
parsers and sets ``func`` to a handler ``(args) -> int``. Library errors (``NeuralCodesError``)
become one-line messages and exit status 2; nothing else is caught.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from neuralcodes import __version__
from neuralcodes.cli import (
    benchmark_cmd,
    experiment,
    export_cmd,
    index_cmd,
    research,
    scale,
    search_cmd,
    serve_cmd,
    weights_cmd,
)
from neuralcodes.errors import NeuralCodesError

# Commands that train or extract codes: they tune the allocator (neuralcodes.allocator) and say
# which one they use. A server does not: it must give memory back.
HEAVY_COMMANDS = frozenset({"run", "demo", "train", "train-ddp", "codes", "index", "sweep",
                            "finetune", "compare", "folder-retrieval", "recipes", "benchmark"})
# The modules that register subcommands, in the order of `neuralcodes --help`.
COMMAND_MODULES = (experiment, index_cmd, search_cmd, serve_cmd, research, scale, benchmark_cmd,
                   export_cmd, weights_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="neuralcodes",
        description="Content-based image retrieval with neural codes (Babenko et al., ECCV 2014).",
    )
    parser.add_argument("--version", action="version", version=f"neuralcodes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from neuralcodes import allocator

    if argv is None:  # a real command line: restart with tcmalloc/jemalloc/mimalloc if asked for
        allocator.reexec_with_allocator(sys.argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        if argv is None and args.command in HEAVY_COMMANDS:  # a real process, not a test
            allocator.tune_once()
            print(f"neuralcodes: {allocator.describe()}", file=sys.stderr)
        return int(args.func(args) or 0)
    except NeuralCodesError as e:
        print(f"neuralcodes: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neuralcodes: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
