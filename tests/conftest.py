"""Shared fixtures: ``tiny_dataset``, a small synthetic dataset in the Tiny ImageNet layout;
``tiny_run``, a finished run on it (the whole pipeline, 1 epoch, width 1/16); ``tuned``, that
run fine-tuned on ``labelled``, a tiny labelled folder of generated images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.config import RunConfig, replace
from neuralcodes.data.synthetic import make_synthetic
from neuralcodes.pipeline import run_experiment


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``tiny-imagenet-200`` folder: 10 classes x 20 JPEGs of 64x64 (some grayscale). Read-only:
    copy it before changing it."""
    return make_synthetic(tmp_path_factory.mktemp("tiny"), n_classes=10, per_class=20, seed=0)


TINY = {"data.n_in_domain": 5, "model.width": 0.0625, "train.epochs": 1,
        "train.batch_size": 20, "retrieval.bootstrap": 50, "retrieval.pca_dims": (4, 8),
        "retrieval.pooled": ("conv5:spoc",), "retrieval.qe": 2, "retrieval.figure_queries": 2}


def tiny_config(source: Path, **changes: object) -> RunConfig:
    """The experiment on ``source`` at the smallest size that still exercises every step."""
    cfg = replace(RunConfig(), **{**TINY, "data.source": str(source), **changes})
    return replace(cfg, **{"model.num_classes": cfg.data.n_in_domain})


@pytest.fixture(scope="session")
def tiny_run(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run folder (read-only: copy it before changing it): 80 training images of 5
    classes, 100 out-of-domain images of 5 classes."""
    out = tmp_path_factory.mktemp("research") / "run"
    run_experiment(out, tiny_config(tiny_dataset))
    return out


def write_labelled_folder(root: Path, n_classes: int = 3, per_class: int = 4,
                          size: int = 40) -> Path:
    """``root/class<c>/img<i>.png``: each class a colour, each image its own noise."""
    rng = np.random.default_rng(0)
    colours = rng.uniform(30, 220, (n_classes, 3))
    for c in range(n_classes):
        for i in range(per_class):
            pixels = np.clip(colours[c] + rng.normal(0, 25, (size, size, 3)), 0, 255)
            (root / f"class{c}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(pixels.astype(np.uint8)).save(root / f"class{c}" / f"img{i}.png")
    return root


@pytest.fixture
def make_labelled() -> Callable[..., Path]:
    """``write_labelled_folder`` as a fixture, for tests that need a folder of their own."""
    return write_labelled_folder


@pytest.fixture
def make_config() -> Callable[..., RunConfig]:
    """``tiny_config`` as a fixture."""
    return tiny_config


@pytest.fixture(scope="session")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 4 PNG images of 40x40 (read-only)."""
    return write_labelled_folder(tmp_path_factory.mktemp("labelled") / "photos")


@pytest.fixture(scope="session")
def tuned(tiny_run: Path, labelled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tiny_run`` fine-tuned for 1 epoch on ``labelled`` (read-only)."""
    from neuralcodes.research.finetune import finetune

    out = tmp_path_factory.mktemp("tuned") / "run"
    finetune(tiny_run, labelled, out, epochs=1, lr=1e-3)
    return out


@pytest.fixture(scope="session")
def hf_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random DINOv2 saved with ``save_pretrained`` (and facebook/dinov2-small's
    processor config scaled down: shorter side 36, crop 32), as a user's ``hf:/folder``. Nothing
    downloads. Read-only: copy it before changing it."""
    pytest.importorskip("transformers")
    from .models.helpers import save_model

    return save_model("dinov2", tmp_path_factory.mktemp("hf") / "tinydino")
