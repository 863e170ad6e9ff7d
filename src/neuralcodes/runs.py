"""Locating run folders: the default output folder, and "the newest run" when no flag names one."""

from __future__ import annotations

import time
from pathlib import Path

from neuralcodes.errors import DataError

DEFAULT_RUNS_ROOT = Path("runs")


def new_run_dir(root: str | Path = DEFAULT_RUNS_ROOT, name: str = "run") -> Path:
    """A fresh folder name ``root/<name>-YYYYmmdd-HHMMSS`` (not created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{name}-{stamp}"
    n = 1
    while path.exists():
        n += 1
        path = Path(root) / f"{name}-{stamp}-{n}"
    return path


def latest_run(root: str | Path = DEFAULT_RUNS_ROOT) -> Path:
    """The most recently modified folder under ``root`` that holds a trained ``model.pt``."""
    root = Path(root)
    candidates = [p.parent for p in root.glob("*/model.pt")] if root.is_dir() else []
    if not candidates:
        raise DataError(
            root, "no run folder with a trained model.pt here; train one with `neuralcodes run` "
            "or name it with --model RUN_DIR"
        )
    return max(candidates, key=lambda p: (p / "model.pt").stat().st_mtime)
