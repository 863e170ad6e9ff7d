"""The options that several commands share, each defined once: one spelling per concept.

| concept | spelling |
|---|---|
| network | ``--model SPEC`` (``index update``, ``search``...: only when it has moved) |
| index | ``INDEX_DIR``, the first argument |
| downloads | ``--dir``, ``--url`` |
| layers (code sets) | ``--layer L6 [L7 ...]`` (one value where a command makes one thing) |
| PCA | ``--pca D [D ...]``, fitted where ``--pca-fit-on`` says |
| whitening | ``--whiten [{no,yes,both}]`` (``--whiten`` alone: yes) |
| query expansion | ``--qe N [N ...]``, ``--qe-alpha A`` |
| AP estimator, intervals | ``--estimator``, ``--bootstrap`` |
| messages | ``-q`` (warnings and errors only, no progress), ``-v`` (debug): every command |
| machine-readable output | ``--json``: every command whose output is a table or a record |

Old spellings (``--layers``, ``--dims``, ``--alpha``, ``--pca-fit``) are hidden aliases that
still work and log a one-line deprecation warning.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from neuralcodes.cli.console import QUIET, VERBOSE
from neuralcodes.config import Estimator, choices

log = logging.getLogger(__name__)
SPECS = "a run folder, alexnet[:WEIGHTS.pth], hf:ORG/NAME[@REV] or hf:/folder"
WHITEN = {"no": (False,), "yes": (True,), "both": (False, True)}


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose every command takes ``-q``/``-v`` (dest ``verbosity``, a
    ``logging`` level, absent when neither is given: read it with ``verbosity(args)``).

    ``add_parser(name, func=handler, json=True, ...)`` makes a command: ``func`` is its handler
    ``(args) -> int``; ``json`` adds ``--json`` (its output is a table or a record)."""

    def __init__(self, *args: Any, func: Callable[[argparse.Namespace], int] | None = None,
                 json: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        g = self.add_mutually_exclusive_group()
        g.add_argument("-q", "--quiet", dest="verbosity", action="store_const", const=QUIET,
                       default=argparse.SUPPRESS, help="warnings and errors only, no progress "
                       "(by default: messages and progress on stderr)")
        g.add_argument("-v", "--verbose", dest="verbosity", action="store_const",
                       const=VERBOSE, default=argparse.SUPPRESS,
                       help="debug messages too (not shown by default)")
        if json:
            self.add_argument("--json", action="store_true",
                              help="print the result as JSON on stdout (by default: a table or "
                              "text for people); messages stay on stderr")
        if func is not None:
            self.set_defaults(func=func)


def verbosity(args: argparse.Namespace) -> int:
    return int(getattr(args, "verbosity", logging.INFO))


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option: stores like it and says which one to use instead."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, replacement: str,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.replacement = replacement

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        log.warning("%s is deprecated; use %s", option_string, self.replacement)
        setattr(namespace, self.dest, values)


def _alias(p: argparse.ArgumentParser, old: str, new: str, **kwargs: Any) -> None:
    p.add_argument(old, dest=new.lstrip("-").replace("-", "_"), action=DeprecatedAlias,
                   replacement=new, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **kwargs)


def add_model_option(p: Any, *, recorded: bool = False, default_text: str | None = None,
                     required: bool = False) -> None:
    """``--model SPEC``, the network; ``recorded``: the one an index records, given only when it
    has moved (``p``: a parser or a group)."""
    if recorded:
        text = (f"the network's SPEC, if it is not where the index records it ({SPECS}); "
                "checked against the index")
    else:
        text = f"the network: {SPECS}" + (f" (default: {default_text})" if default_text else "")
    p.add_argument("--model", metavar="SPEC", required=required, help=text)


def add_index_dir_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("index_dir", metavar="INDEX_DIR",
                   help="an index folder made by `neuralcodes index build`")


def add_layer_option(p: argparse.ArgumentParser, *, many: bool, default: Any = None,
                     default_text: str | None = None, specs: bool = False) -> None:
    """``--layer L6`` (``many``: ``--layer L6 [L7 ...]``, old spelling ``--layers``)."""
    what = "layers" if many else "the layer"
    what += ", or specs such as conv5:spoc" if specs else ", e.g. L6"
    text = default_text or " ".join(default)
    p.add_argument("--layer", nargs="+" if many else None, default=default, metavar="LAYER",
                   help=f"{what} (default {text})")
    if many:
        _alias(p, "--layers", "--layer", nargs="+")


def add_pca_option(p: argparse.ArgumentParser, *, many: bool, default: Any = None,
                   default_text: str = "none: the full codes", sizes: str = "") -> None:
    """``--pca 128`` (``many``: ``--pca 16 [32 ...]``, old spelling ``--dims``); ``sizes``
    says which are allowed, when the command limits them."""
    what = "PCA sizes: compress the codes to D dimensions" if many else \
        "compress the codes to D dimensions with PCA"
    what += f" ({sizes})" if sizes else ""
    p.add_argument("--pca", nargs="+" if many else None, type=int, default=default, metavar="D",
                   help=f"{what}, L2-normalised again (default {default_text})")
    if many:
        _alias(p, "--dims", "--pca", nargs="+", type=int)


def add_pca_fit_option(p: argparse.ArgumentParser, help: str, *, old: str | None = None) -> None:
    p.add_argument("--pca-fit-on", metavar="DIR", default=None, help=help)
    if old:
        _alias(p, old, "--pca-fit-on")


def add_whiten_option(p: argparse.ArgumentParser, *, both: bool) -> None:
    """``--whiten [{no,yes}]``; ``both`` (a sweep) adds ``both``. ``--whiten`` alone is yes.
    The value is a name of ``WHITEN``; ``whiten_flag`` turns a no/yes into a bool."""
    names = ["no", "yes", "both"] if both else ["no", "yes"]
    p.add_argument("--whiten", nargs="?", const="yes", default="no", choices=names,
                   help="PCA-whitening" + (" (both: with and without)" if both else "")
                   + "; --whiten alone is yes (default %(default)s)")


def whiten_flag(value: str) -> bool:
    return value == "yes"


def add_qe_options(p: argparse.ArgumentParser, *, many: bool) -> None:
    """``--qe N`` (``many``: ``--qe N [N ...]``) and ``--qe-alpha`` (old spelling ``--alpha``)."""
    p.add_argument("--qe", nargs="+" if many else None, type=int, default=[0] if many else 0,
                   metavar="N", help="query expansion" + (" sizes" if many else "") + ": each "
                   "query averaged with its N first results (0: off) (default 0)")
    p.add_argument("--qe-alpha", type=float, default=0.0, metavar="A",
                   help="alpha-QE: weight the expanded results by similarity^A (default "
                   "%(default)s, average QE)")
    _alias(p, "--alpha", "--qe-alpha", type=float)


def add_bootstrap_option(p: argparse.ArgumentParser, default: int = 1000,
                         what: str = "the 95 %% intervals", none: bool = True) -> None:
    """``--bootstrap N``; ``none``: 0 leaves the intervals out (a paired test needs them)."""
    zero = " (0: none)" if none else ""
    p.add_argument("--bootstrap", type=int, default=default, metavar="N",
                   help=f"bootstrap resamples of {what}{zero} (default %(default)s)")


def add_scoring_options(p: argparse.ArgumentParser, **bootstrap: Any) -> None:
    """``--estimator`` and ``--bootstrap`` (``bootstrap``: ``add_bootstrap_option``'s)."""
    p.add_argument("--estimator", choices=choices(Estimator), default="spec",
                   help="AP estimator: spec (docs/protocol.md) or trapezoid (the Oxford/Holidays "
                   "code) (default %(default)s)")
    add_bootstrap_option(p, **bootstrap)


def add_download_options(p: argparse.ArgumentParser, file: str, home: str) -> None:
    """``--dir`` (where the downloaded file is kept) and ``--url`` (another copy of ``file``)."""
    p.add_argument("--dir", type=Path, help=f"where to keep it (default {home})")
    p.add_argument("--url", help=f"another copy of {file} (default: the official one)")


def add_device_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", metavar="DEVICE",
                   help="auto (CUDA, then Apple MPS, then the CPU), cpu, cuda, cuda:N or mps "
                   "(default %(default)s)")
