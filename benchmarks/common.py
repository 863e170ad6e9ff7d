"""Shared benchmark machinery: result rows, alternating subprocess runs, medians, the machine.

Why subprocesses: TensorFlow and PyTorch each keep their own thread pools spinning, and an allocator
can only be chosen when a process starts, so every measurement runs in a fresh process. A worker
gets its allocator exactly as the ``neuralcodes`` command gets it: ``$NEURALCODES_ALLOCATOR`` (and
``LD_PRELOAD`` for a library, from ``neuralcodes.allocator.preload_environment``) set by the
coordinator, ``neuralcodes.allocator.tune_malloc()`` called first thing by the worker
(``apply_allocator``).
Why alternating: the peers are run in turns (ours, peer, ours, peer...) so that a slow spell of the
machine (another tenant, thermal limits) hits both sides alike; the table keeps the medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORK_DIR = Path(os.environ.get("NEURALCODES_HOME", "/tmp/neuralcodes-bench"))
DEFAULT_ALLOCATOR = "tuned"  # what `neuralcodes` and `make demo` use when nothing is set
LIBRARY_ALLOCATORS = ("tcmalloc", "jemalloc", "mimalloc")  # measured only where installed


@dataclass
class Row:
    """One line of the table: ``impl`` measured ``len(values)`` times on benchmark ``bench``."""

    bench: str  # e.g. "training step, batch 100, full width"
    impl: str  # e.g. "neuralcodes bf16"
    unit: str  # "images/s", "s", "MB"
    values: list[float]
    higher_is_better: bool
    peer: str | None = None  # the impl of the same bench that the ratio is taken against
    note: str = ""
    extra: dict[str, float] = field(default_factory=dict)  # other medians (e.g. peak MB)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")


def ratio(row: Row, rows: Sequence[Row]) -> float | None:
    """How many times better ``row`` is than its peer (speed-up for times, ratio for rates)."""
    if row.peer is None:
        return None
    peers = [r for r in rows if r.bench == row.bench and r.impl == row.peer]
    if not peers or not row.values or not peers[0].values:
        return None
    ours, theirs = row.median, peers[0].median
    if ours <= 0 or theirs <= 0:
        return None
    return ours / theirs if row.higher_is_better else theirs / ours


def installed_allocators() -> dict[str, str]:
    """``{kind: shared library}`` of the allocator libraries this machine has (usually none)."""
    from neuralcodes.allocator import library_path

    found = {kind: library_path(kind) for kind in LIBRARY_ALLOCATORS}
    return {kind: path for kind, path in found.items() if path is not None}


def allocator_label(kind: str) -> str:
    """How an allocator is named in the table's implementation column."""
    if kind == DEFAULT_ALLOCATOR:
        return "tuned glibc malloc (the default)"
    if kind == "glibc":
        return "glibc malloc untuned"
    return f"{kind} (installed by hand)"


def allocator_environment(kind: str, env: dict[str, str]) -> dict[str, str]:
    """``env`` for a worker using allocator ``kind``, as the ``neuralcodes`` command sets it up:
    ``$NEURALCODES_ALLOCATOR``, and the library in ``LD_PRELOAD`` for tcmalloc & co."""
    from neuralcodes.allocator import ALLOCATOR_ENV, preload_environment

    env = {k: v for k, v in env.items() if k != "LD_PRELOAD"}
    env[ALLOCATOR_ENV] = kind
    if kind in LIBRARY_ALLOCATORS:
        preloaded = preload_environment(kind, env)
        if preloaded is None:
            raise RuntimeError(f"allocator {kind} asked for, but its library is not installed")
        env = preloaded
    return env


def apply_allocator() -> dict[str, Any]:
    """In a worker, first thing: the allocator as ``neuralcodes.cli.main`` applies it to a
    command that trains or extracts codes; ``{"allocator": what this process uses}``."""
    from neuralcodes import allocator

    allocator.tune_malloc()
    return {"allocator": allocator.describe()}


def check_allocator(kind: str, described: str) -> None:
    """Refuse a worker's result whose allocator (``describe()``) is not the one asked for."""
    expected = {"tuned": "glibc malloc, tuned", "glibc": "glibc malloc, untuned"}.get(
        kind, f"{kind} (preloaded)")
    if expected not in described:
        raise RuntimeError(f"asked for allocator {kind!r}, the worker used {described!r}")


def mapped_allocators() -> str:
    """The allocator libraries mapped into this process ('glibc malloc' when there is none)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "unknown"
    names = {Path(ln.split()[-1]).name for ln in maps.splitlines()
             if any(k in ln for k in LIBRARY_ALLOCATORS)}
    return ", ".join(sorted(names)) or "glibc malloc"


def usage() -> dict[str, float]:
    """This process's minor page faults and user / kernel CPU seconds so far (all threads)."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"minflt": float(ru.ru_minflt), "utime": ru.ru_utime, "stime": ru.ru_stime}


def run_worker(
    module: str,
    args: Sequence[str],
    *,
    allocator: str | None = None,
    timeout: float = 1800,
    memory: bool = False,
) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> worker ARGS`` in a fresh process; its last JSON line.

    ``allocator``: the worker's allocator ("tuned", "glibc", "tcmalloc"...: see
    ``allocator_environment``); None leaves the environment as it is. ``memory``: sample the
    worker's process tree and add its peak summed PSS as ``"peak_mb"``.
    """
    from benchmarks.memory import watch

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if allocator is not None:
        env = allocator_environment(allocator, env)
    cmd = [sys.executable, "-m", f"benchmarks.{module}", "worker", *args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        peak = watch(proc) if memory else 0.0
        code = proc.wait(timeout=timeout)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if code != 0 or not lines:
        raise RuntimeError(f"{' '.join(cmd)} failed ({code}):\n{(stderr or stdout)[-2000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if memory:
        result["peak_mb"] = peak
    return result


def alternate(
    runs: Sequence[tuple[str, Callable[[], float]]], rounds: int, log: Callable[[str], None]
) -> dict[str, list[float]]:
    """Call every ``(name, run)`` once per round, in turn; ``{name: [value per round]}``."""
    out: dict[str, list[float]] = {name: [] for name, _ in runs}
    for r in range(rounds):
        for name, run in runs:
            value = run()
            out[name].append(value)
            log(f"  round {r + 1}/{rounds} {name}: {value:.4g}")
    return out


def emit(result: dict[str, Any]) -> None:
    """A worker's answer: one JSON line on stdout (the coordinator reads the last one)."""
    print(json.dumps(result), flush=True)


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
