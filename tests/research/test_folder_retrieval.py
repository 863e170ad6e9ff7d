"""Retrieval on one's own labelled folder with a run's model or with AlexNet."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from neuralcodes.codesets import extract_specs, parse_specs
from neuralcodes.config import ModelConfig
from neuralcodes.metrics import retrieval_scores
from neuralcodes.model import create_model
from neuralcodes.models.alexnet import INPUT_SIZE
from neuralcodes.research.folder_retrieval import folder_retrieval
from neuralcodes.research.folders import read_labelled_folder
from neuralcodes.research.networks import Network, open_spec


def test_rows_for_each_code_size_and_qe(tiny_run: Path, labelled: Path) -> None:
    net = open_spec(tiny_run)
    rows = folder_retrieval(labelled, net, codes=["L6", "conv5:spoc"], pca=[4, 64], qe=2,
                            n_bootstrap=20)
    keys = [(r.codes, r.pca, r.qe) for r in rows]
    assert keys == [("L6", None, 0), ("L6", None, 2), ("L6", 4, 0), ("L6", 4, 2),
                    ("conv5-spoc", None, 0), ("conv5-spoc", None, 2), ("conv5-spoc", 4, 0),
                    ("conv5-spoc", 4, 2)]  # 64 > 11 = min(N - 1, D): impossible, left out
    data = read_labelled_folder(labelled, 64)
    codes = extract_specs(net.model, data.images, parse_specs(["L6"]))["L6"]
    expected = retrieval_scores(codes, data.labels, precision_at=(1,), recall_at=(10,)).map
    assert rows[0].score.map == pytest.approx(expected, abs=1e-12)
    assert rows[2].pca_fit_on == "the evaluated images themselves" and rows[2].score.dims == 4


def test_registered_alexnet_scores_a_folder(labelled: Path) -> None:
    torch.manual_seed(0)
    model = create_model(ModelConfig(name="alexnet", num_classes=10, image_size=INPUT_SIZE))
    assert model.code_dims("L6") == 4096 and model.code_dims("pool5") == 256 * 6 * 6
    rows = folder_retrieval(labelled, Network(model, INPUT_SIZE, "random AlexNet"),
                            codes=["L6", "pool5:gem"], n_bootstrap=0)
    assert [(r.codes, r.score.dims) for r in rows] == [("L6", 4096), ("pool5-gem", 256)]
    assert all(0.0 < r.score.map <= 1.0 for r in rows)


