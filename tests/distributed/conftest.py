"""Fixtures of the distributed tests: a tiny model in a run folder, generated photos, and one
local 2-CPU Ray session per test module (Ray takes seconds to start)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..tiny_run import make_run


def make_photos(root: Path, n: int, *, bad: int = 1, seed: int = 0) -> Path:
    """``n`` distinct photos (JPEG and PNG, various sizes) in two folders, plus ``bad`` files
    with an image extension that are not images."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = 48 + int(rng.integers(0, 60)), 48 + int(rng.integers(0, 60))
        pixels = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        path = root / ("a" if i % 2 else "b") / f"img{i:04d}.{'png' if i % 3 else 'jpg'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path)
    for j in range(bad):
        (root / "a" / f"broken{j}.jpg").write_bytes(b"not a jpeg")
    return root


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "run")


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    """A local Ray with 2 CPUs for the whole module, shut down afterwards."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def photo_maker() -> Callable[..., Path]:
    """``make_photos`` for tests that generate their own folder."""
    return make_photos
