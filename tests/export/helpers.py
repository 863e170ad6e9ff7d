"""Helpers of the export tests: a run folder with a tiny random model, and images."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from neuralcodes.config import ModelConfig
from neuralcodes.model import create_model, save_model

TINY = ModelConfig(width=0.05, num_classes=10)
CLASS_NAMES = [f"class {i}" for i in range(12)]  # 10 in-domain classes first, then 2 OOD ones


def make_run(run_dir: Path, seed: int = 0, cfg: ModelConfig = TINY) -> Path:
    """A run folder: ``model.pt`` (random weights, seeded) and a ``split.json`` with names."""
    torch.manual_seed(seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    save_model(run_dir / "model.pt", create_model(cfg), cfg)
    (run_dir / "split.json").write_text(json.dumps({"class_names": CLASS_NAMES}))
    return run_dir


def make_images(n: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """(n, size, size, 3) uint8: smooth colour gradients plus noise, one per seed offset."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size  # (S, S) each
    base = rng.uniform(0, 255, (n, 1, 1, 3)) * (0.5 + 0.5 * np.sin(7 * (xx + yy)))[..., None]
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


def to_onnx_input(images: np.ndarray) -> np.ndarray:
    """(N, S, S, 3) uint8 -> (N, 3, S, S) float32 in [0, 1], as the export's metadata says."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2), dtype=np.float32) / 255
