"""Peak memory of a process and its children, sampled while a benchmark runs.

``ru_maxrss`` counts one process only (and, for children, only the largest one), while parallel
decoding spreads the work over a pool. The sampler sums the proportional set size (PSS, from
``/proc/<pid>/smaps_rollup``) of a worker process and every descendant every few milliseconds, from
the coordinator: pages shared between processes (a forked parent's, a memory-mapped output file's)
are counted once.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def watch(proc: subprocess.Popen[str], interval: float = 0.02) -> float:
    """Poll ``proc``'s process tree until it exits; its peak summed PSS in MB.

    Sampling from outside keeps the measured process single-threaded (a sampler thread inside it
    would, for one, make the decoder choose "spawn" over "fork" for its worker pool).
    """
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, sum(_pss_kb(p) for p in _descendants(proc.pid)) / 1024)
        time.sleep(interval)
    return peak


