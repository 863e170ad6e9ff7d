from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from neuralcodes.images import ordered_map, usable_cores
from neuralcodes.images.pool import start_method


def _slow_square(x: int) -> tuple[int, int]:
    time.sleep(0.02 * (x % 3))  # later tasks often finish first
    return x * x, os.getpid()


def test_usable_cores() -> None:
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork is used on Linux only")
def test_start_method_forks_only_without_other_python_threads() -> None:
    if threading.active_count() == 1:
        assert start_method() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:
        assert start_method() == "forkserver"
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("workers", [1, 2])
def test_ordered_map_keeps_the_order(workers: int) -> None:
    out = list(ordered_map(_slow_square, range(12), workers=workers, in_flight=2))
    assert [r for r, _ in out] == [x * x for x in range(12)]
    pids = {pid for _, pid in out}
    assert (pids == {os.getpid()}) if workers == 1 else (os.getpid() not in pids)


def test_ordered_map_beside_a_running_thread() -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    try:  # workers from the fork server: they import what they run (here a builtin)
        out = list(ordered_map(hex, range(40), workers=2, in_flight=1))
    finally:
        stop.set()
        thread.join()
    assert out == [hex(i) for i in range(40)]


def test_a_consumer_that_stops_early_stops_the_workers() -> None:
    it = ordered_map(_slow_square, range(10_000), workers=2, in_flight=1)
    assert next(it)[0] == 0
    start = time.perf_counter()
    it.close()  # cancels what is queued, waits only for the tasks already running
    assert time.perf_counter() - start < 5
