"""What the command line writes to the terminal: never a traceback for a name or a closed pipe.

- ``safe_streams()``: stdout and stderr write what they cannot encode as backslash escapes
  instead of raising (a file name that is not UTF-8 on a strict UTF-8 or ASCII stdout:
  ``PYTHONIOENCODING=utf-8``, the C locale). Names are also escaped where they are printed
  (``names.shown``: control characters and bytes that are not UTF-8), so this is the safety net.
- ``quiet_on_broken_pipe(command)``: runs the command (``main``'s body) and flushes stdout; when
  the reader of stdout went away (``neuralcodes index info | head``), the Python documentation's
  recipe: stdout pointed at ``/dev/null`` (the flush at exit does not fail again), a quiet exit.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable

BROKEN_PIPE_STATUS = 1  # as the recipe of the Python documentation (signal module, SIGPIPE)


def safe_streams() -> None:
    """Make ``sys.stdout`` and ``sys.stderr`` escape what their encoding cannot write."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            with contextlib.suppress(ValueError, OSError):  # a closed or detached stream
                stream.reconfigure(errors="backslashreplace")


def quiet_on_broken_pipe(command: Callable[[], int]) -> int:
    """``command()``'s exit status, stdout flushed; a closed stdout ends it quietly."""
    try:
        try:
            status = command()
        except SystemExit:  # argparse's --help, --version and usage errors: flushed all the same
            sys.stdout.flush()
            raise
        sys.stdout.flush()
        return status
    except BrokenPipeError:  # its reader has gone: stdout pointed at /dev/null
        with contextlib.suppress(OSError, ValueError, AttributeError, io.UnsupportedOperation):
            # no file descriptor behind stdout (a test's capture): nothing is flushed to a pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        return BROKEN_PIPE_STATUS
