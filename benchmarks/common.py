"""Shared benchmark machinery: result rows, alternating subprocess runs, medians, the machine.

Why subprocesses: TensorFlow and PyTorch each keep their own thread pools spinning, and an allocator
(tcmalloc) can only be chosen when a process starts, so every measurement runs in a fresh process.
Why alternating: the peers are run in turns (ours, peer, ours, peer...) so that a slow spell of the
machine (another tenant, thermal limits) hits both sides alike; the table keeps the medians.
"""

from __future__ import annotations

import json
import os
import platform
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
TCMALLOC_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4",
    "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
    "/usr/lib/aarch64-linux-gnu/libtcmalloc.so.4",
)


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


def tcmalloc_path() -> str | None:
    """The tcmalloc shared library if the system has one (Debian: libgoogle-perftools4)."""
    return next((p for p in TCMALLOC_CANDIDATES if os.path.exists(p)), None)


def run_worker(
    module: str,
    args: Sequence[str],
    *,
    preload: str | None = None,
    timeout: float = 1800,
    memory: bool = False,
) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> worker ARGS`` in a fresh process; its last JSON line.

    ``preload``: a shared library put in ``LD_PRELOAD`` (an allocator). ``memory``: sample the
    worker's process tree and add its peak summed PSS as ``"peak_mb"``.
    """
    from benchmarks.memory import watch

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if preload:
        env["LD_PRELOAD"] = preload
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


def machine() -> dict[str, str]:
    """The CPU model (lscpu), core count, bf16/AMX support, Python, torch and numpy versions."""
    import numpy
    import torch

    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        text = ""
    fields = dict(ln.split(":", 1) for ln in text.splitlines() if ":" in ln)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    if "Model name" in fields:
        info["cpu"] = f"{fields.get('Vendor ID', '')} {fields['Model name']}".strip()
        info["cpu"] += (
            f" (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')})"
        )
    flags = set(fields.get("Flags", "").split())
    info["bf16"] = ", ".join(f for f in ("avx512_bf16", "amx_bf16") if f in flags) or "no"
    info["python"] = platform.python_version()
    info["torch"] = torch.__version__
    info["numpy"] = numpy.__version__
    info["tensorflow (peer)"] = _version("tensorflow-cpu") or _version("tensorflow") or "absent"
    info["faiss (peer)"] = _version("faiss-cpu") or "absent"
    info["tcmalloc"] = tcmalloc_path() or "not installed"
    return info


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def stderr_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
