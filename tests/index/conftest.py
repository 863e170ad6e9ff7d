"""Shared fixtures: a tiny random model in a run folder, and folders of generated photos."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ..tiny_run import make_run


def make_photo(path: Path, seed: int, size: tuple[int, int] = (80, 60), fmt: str | None = None,
               mode: str = "RGB") -> Path:
    """A distinct picture (smooth colour blobs + noise) saved at ``path``."""
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = rng.uniform(0, 255, 3)
    freq = rng.uniform(2, 9, 3)
    pixels = np.stack([base[c] * (0.5 + 0.5 * np.sin(freq[c] * (xx + c * yy) * np.pi))
                       for c in range(3)], axis=2)
    pixels = np.clip(pixels + rng.normal(0, 10, pixels.shape), 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).convert(mode).save(path, format=fmt)
    return path


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "run-a", seed=0)


@pytest.fixture(scope="session")
def other_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_run(tmp_path_factory.mktemp("run") / "run-b", seed=1)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """20 photos in nested folders and several formats, plus things that must be ignored."""
    root = tmp_path / "photos"
    exts = [("a", ".jpg", "JPEG"), ("a", ".png", "PNG"), ("b/c", ".JPEG", "JPEG"),
            ("b", ".webp", "WEBP"), ("b", ".bmp", "BMP")]
    for i in range(20):
        folder, ext, fmt = exts[i % len(exts)]
        make_photo(root / folder / f"img{i:02d}{ext}", seed=i, size=(60 + 3 * i, 50 + 2 * i),
                   fmt=fmt)
    (root / "notes.txt").write_text("not an image")
    make_photo(root / ".hidden" / "secret.png", seed=99, fmt="PNG")
    return root


@pytest.fixture
def new_photo() -> Callable[..., Path]:
    """``make_photo`` as a fixture, for tests that add files to a folder."""
    return make_photo


@pytest.fixture
def new_run() -> Callable[..., Path]:
    """``make_run`` as a fixture, for tests that need a model of their own."""
    return make_run
