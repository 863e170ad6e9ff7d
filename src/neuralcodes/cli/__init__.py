# PYTHON_ARGCOMPLETE_OK
"""The command line: a thin map from subcommand to one library function.

Each command group lives in its own module with a ``register(subparsers)`` function that adds its
parsers and sets ``func`` to a handler ``(args) -> int``; options that several commands share
come from ``cli.options`` (one spelling per concept), and every command takes ``-q``/``-v``.
The library's ``logging`` records are shown on stderr (``cli.console``) at the level these ask
for. Library errors (``NeuralCodesError``) become one-line messages and exit status 2; a closed
stdout (``| head``) ends the command quietly, and names are never a reason for a traceback
(``cli.terminal``); nothing else is caught. With ``argcomplete`` installed,
``eval "$(register-python-argcomplete neuralcodes)"`` completes commands and options in the shell.
"""

from __future__ import annotations

import argparse
import logging
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
    terminal,
    weights_cmd,
)
from neuralcodes.cli.console import set_level, terminal_logging
from neuralcodes.cli.options import CommandParser, verbosity
from neuralcodes.errors import NeuralCodesError
from neuralcodes.names import shown

log = logging.getLogger(__name__)

# Commands that train or extract codes: they tune the allocator (neuralcodes.allocator) and say
# which one they use. A server does not: it must give memory back.
HEAVY_COMMANDS = frozenset({"run", "demo", "train", "train-ddp", "codes", "index", "sweep",
                            "finetune", "compare", "folder-retrieval", "recipes", "benchmark"})
# The modules that register subcommands, in the order of `neuralcodes --help`.
COMMAND_MODULES = (experiment, index_cmd, search_cmd, serve_cmd, research, scale, benchmark_cmd,
                   export_cmd, weights_cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = CommandParser(
        prog="neuralcodes",
        description="Content-based image retrieval with neural codes (Babenko et al., ECCV 2014).",
    )
    parser.add_argument("--version", action="version", version=f"neuralcodes {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=CommandParser)
    for module in COMMAND_MODULES:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    terminal.safe_streams()
    return terminal.quiet_on_broken_pipe(lambda: _main(argv))


def _main(argv: Sequence[str] | None) -> int:
    from neuralcodes import allocator

    real_process = argv is None  # a real command line, not a test
    if real_process:  # restart with tcmalloc/jemalloc/mimalloc if asked for
        allocator.reexec_with_allocator(sys.argv)
    parser = build_parser()
    _complete(parser)
    with terminal_logging():  # deprecated spellings are reported while parsing
        args = parser.parse_args(argv)
        set_level(verbosity(args))
        if not getattr(args, "func", None):
            parser.print_help()
            return 1
        try:
            if real_process and args.command in HEAVY_COMMANDS:
                allocator.tune_once()  # logs which allocator the run uses, once
            return int(args.func(args) or 0)
        except NeuralCodesError as e:
            print(f"neuralcodes: error: {shown(str(e))}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("neuralcodes: interrupted", file=sys.stderr)
            return 130


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion when argcomplete is installed (it exits here when completing)."""
    try:
        import argcomplete
    except ImportError:
        return
    argcomplete.autocomplete(parser)


if __name__ == "__main__":
    sys.exit(main())
