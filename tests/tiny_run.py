"""A run folder holding a tiny randomly initialised model, for the tests that need a network."""

from __future__ import annotations

from pathlib import Path

import torch

from neuralcodes.config import ModelConfig
from neuralcodes.model import create_model, save_model


def make_run(run_dir: Path, seed: int = 0) -> Path:
    """A run folder holding a tiny randomly initialised model (width 1/16, 10 classes, 64x64
    input)."""
    torch.manual_seed(seed)
    cfg = ModelConfig(width=0.0625, num_classes=10)
    run_dir.mkdir(parents=True, exist_ok=True)
    save_model(run_dir / "model.pt", create_model(cfg), cfg)
    return run_dir
