"""The terminal side of the library's logging: one handler on the ``neuralcodes`` logger.

The library logs (``neuralcodes.logs``); the command line shows the records on stderr, one
line each (``neuralcodes: message``, ``neuralcodes: warning: message``), written around the
progress bars, at the level ``-q`` (warnings and errors only) or ``-v`` (debug) asks for.
Results (tables, JSON) go to stdout, never through logging.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from neuralcodes.logs import ROOT
from neuralcodes.names import shown

QUIET, NORMAL, VERBOSE = logging.WARNING, logging.INFO, logging.DEBUG


class TerminalFormatter(logging.Formatter):
    """``neuralcodes: message``; warnings and errors say what they are. The message is one
    printable line: control characters and bytes of names that are not UTF-8 are escaped
    (``names.shown``)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return shown(super().formatMessage(record))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if record.levelno >= logging.ERROR:
            return f"neuralcodes: error: {text}"
        if record.levelno >= logging.WARNING:
            return f"neuralcodes: warning: {text}"
        return f"neuralcodes: {text}"


class TerminalHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes, above any progress bar."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(TerminalFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            from tqdm import tqdm

            tqdm.write(text, file=sys.stderr)  # clears and redraws the bars on that stream
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def terminal_logging(level: int = NORMAL) -> Iterator[TerminalHandler]:
    """Show the library's records on stderr from ``level`` up while the block runs; the
    logger's handlers and level are restored after it (a test calls ``main`` many times)."""
    logger = logging.getLogger(ROOT)
    handler, saved = TerminalHandler(), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def set_level(level: int) -> None:
    logging.getLogger(ROOT).setLevel(level)


def info_shown() -> bool:
    """Whether INFO records are shown (not ``-q``): progress output follows it."""
    return logging.getLogger(ROOT).isEnabledFor(logging.INFO)
