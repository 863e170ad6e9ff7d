"""The one worker pool for decoding images in parallel: one start method, one core counter.

Decoding is CPU-bound Python and C, so it runs in processes. The start-method policy:

- "fork" on Linux while this process runs no other Python thread. Forking is what makes a pool
  start in milliseconds (the pixel cache of a small dataset decodes in about a second), and it
  needs no ``if __name__ == "__main__":`` guard in a user's script. Native threads do not stop
  it: OpenBLAS (NumPy) and PyTorch's OpenMP pool reset themselves in a forked child through
  their fork handlers, and the decoding workers never call PyTorch (PyTorch's own DataLoader
  forks its workers the same way beside its intra-op threads).
- "forkserver" otherwise (or "spawn" where the platform has no fork server): another Python
  thread (a progress bar's monitor, a web server, a DataLoader's pin-memory thread) may hold an
  interpreter-level lock (logging, imports, a file's buffer) at the moment of a fork and
  deadlock the child. The fork server is a fresh single-threaded process that forks the workers,
  with NumPy, Pillow and this package imported once (``PRELOAD``). A script that starts a pool
  from such a process needs the ``if __name__ == "__main__":`` guard, as with any non-fork start.

``ordered_map`` gives the results in the order of the tasks, with at most ``in_flight`` tasks
per worker submitted ahead: memory stays bounded however many tasks, and a consumer that stops
early stops the workers.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

PRELOAD = ["numpy", "PIL.Image", "neuralcodes.images.load", "neuralcodes.images.readfile"]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform tells it)."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def start_method() -> str:
    """"fork" on Linux while no other Python thread runs, else "forkserver" (or "spawn")."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def worker_context() -> BaseContext:
    """The multiprocessing context of every decoding pool."""
    method = start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        ctx.set_forkserver_preload(PRELOAD)  # no effect once this process's server runs
    return ctx


def ordered_map(
    fn: Callable[[T], R], tasks: Iterable[T], *, workers: int, in_flight: int = 4
) -> Iterator[R]:
    """``map(fn, tasks)`` on ``workers`` processes (in this process when ``workers`` <= 1), in
    order, with at most ``in_flight * workers`` tasks submitted and not yet consumed."""
    if workers <= 1:
        yield from map(fn, tasks)
        return
    pool = ProcessPoolExecutor(workers, mp_context=worker_context())
    try:
        pending: deque[Future[R]] = deque()
        todo = iter(tasks)
        for task in todo:
            pending.append(pool.submit(fn, task))
            if len(pending) >= in_flight * workers:
                break
        while pending:
            done = pending.popleft().result()
            for task in todo:  # one more in, if any is left
                pending.append(pool.submit(fn, task))
                break
            yield done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # an abandoned map stops its workers
