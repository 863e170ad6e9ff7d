"""The library's messages are ``logging`` records under the ``neuralcodes`` logger.

Modules log with their own logger (``logging.getLogger(__name__)``). The one-line messages a
library function hands its ``Progress`` object (``progress.log("...")``) become records too
(``emit``): of the logger of the module that called ``log`` (``neuralcodes.index.builder``...),
at INFO unless the caller says otherwise, so an application routes or silences them like any
other record (``logging.getLogger("neuralcodes").setLevel(logging.WARNING)``). The library adds
no handler: without one, Python shows warnings and errors on stderr and drops the rest. The
command line installs its own (``neuralcodes.cli.console``). Another library's chatter is
turned off where the library calls it (``silenced``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator, Sequence

ROOT = "neuralcodes"
# Modules whose frames are plumbing between the caller and the record, never its source.
_PLUMBING = frozenset({__name__, "neuralcodes.progress", "neuralcodes.cli.progress_cli"})


def emit(message: str, level: int = logging.INFO) -> None:
    """Log ``message`` as a record of the calling module's logger (``neuralcodes`` when the
    caller is not a neuralcodes module). Frames of ``log`` methods (a ``Progress`` that wraps
    another) are skipped, so the record names the code that had something to say."""
    frame = sys._getframe(1)
    depth = 1  # frames between emit and ``frame``
    while frame.f_back is not None and (
        frame.f_globals.get("__name__") in _PLUMBING or frame.f_code.co_name == "log"
    ):
        frame, depth = frame.f_back, depth + 1
    name = str(frame.f_globals.get("__name__", ROOT))
    logger = logging.getLogger(name if name.split(".")[0] == ROOT else ROOT)
    if logger.isEnabledFor(level):
        logger.log(level, message, stacklevel=depth + 1)


@contextlib.contextmanager
def silenced(*names: str, level: int = logging.CRITICAL,
             ignore: Sequence[type[Warning]] = ()) -> Iterator[None]:
    """While the block runs, the loggers ``names`` drop their records below ``level`` and
    warnings of the categories ``ignore`` are not shown; the loggers' levels are restored after."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        with warnings.catch_warnings():
            for category in ignore:
                warnings.simplefilter("ignore", category)
            yield
    finally:
        for logger, saved in zip(loggers, levels, strict=True):
            logger.setLevel(saved)
