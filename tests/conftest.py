"""Shared fixtures: ``tiny_dataset`` is a small synthetic dataset in the Tiny ImageNet layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodes.data.synthetic import make_synthetic


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``tiny-imagenet-200`` folder: 10 classes x 20 JPEGs of 64x64 (some grayscale). Read-only:
    copy it before changing it."""
    return make_synthetic(tmp_path_factory.mktemp("tiny"), n_classes=10, per_class=20, seed=0)
