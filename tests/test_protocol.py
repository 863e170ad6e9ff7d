"""``RunConfig()`` is the seed notebook's experiment (docs/protocol.md).

Every default that decides the protocol's numbers is pinned here: the split, the network, the
training recipe and the retrieval layers and estimator. Defaults that only decide speed or where
things run (device, threads, channels-last, compile, batch size of feature extraction) and the
extensions (PCA, bootstrap, pooling...) are not protocol and are not pinned.
"""

from __future__ import annotations

from typing import Any

import pytest

from neuralcodes.config import RunConfig
from neuralcodes.recipes import apply_recipe

PROTOCOL: dict[str, dict[str, Any]] = {
    "data": {
        "n_in_domain": 190,  # classes 0..189 train the network, 190..199 are out-of-domain
        "val_fraction": 0.1,  # 9,500 of 95,000
        "test_fraction": 0.1,  # 9,500 of 95,000
        "seed": 42,  # np.random.seed(42)
        "split_order": "notebook",  # the legacy global generator, as the notebook drew it
        "image_size": 64,
    },
    "model": {
        "name": "notebook",
        "num_classes": 190,
        "image_size": 64,
        "width": 1.0,  # 96, 192, 288, 288, 256 filters; 2048-unit L6 and L7
        "dropout": 0.5,
        "batchnorm": False,
    },
    "train": {
        "recipe": "notebook",
        "epochs": 100,
        "batch_size": 100,
        "lr": 1e-4,
        "amsgrad": True,
        "weight_decay": 0.0,
        "lr_schedule": "constant",
        "augment": False,
        "patience": 0,
        "min_delta": 0.0,
        "restore_best": False,  # Keras keeps the last epoch's weights
        "precision": "fp32",
    },
    "retrieval": {
        "layers": ("L5", "L6", "L7"),
        "estimator": "spec",  # AP = (1 / P) * sum of precision@k at the relevant ranks
    },
}


@pytest.mark.parametrize("part", sorted(PROTOCOL))
def test_run_config_defaults_are_the_notebooks(part: str) -> None:
    section = getattr(RunConfig(), part)
    got = {key: getattr(section, key) for key in PROTOCOL[part]}
    assert got == PROTOCOL[part]


def test_the_notebook_recipe_changes_no_default() -> None:
    cfg = RunConfig()
    assert apply_recipe("notebook", cfg.train, cfg.model) == (cfg.train, cfg.model)
