"""Shared fixtures: a run folder with a tiny random model (width 0.05, 10 classes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import make_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Read-only: copy it before changing it."""
    return make_run(tmp_path_factory.mktemp("export") / "run-a")
