"""Cross-entropy, accuracy and top-5 on hand-built cases with exact expected values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.config import ModelConfig
from neuralcodes.evaluate import evaluate
from neuralcodes.model import create_model

PROBS = torch.tensor(
    [
        [0.10, 0.10, 0.50, 0.10, 0.10, 0.10],
        [0.05, 0.20, 0.30, 0.15, 0.10, 0.20],
    ],
    dtype=torch.float64,
)


class TableModel(nn.Module):
    """Logits log(PROBS[row]) where ``row`` is read from the image's first pixel."""

    def __init__(self) -> None:
        super().__init__()
        self.table = nn.Parameter(PROBS.log().float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = (x[:, 0, 0, 0] * 255).round().long()  # (B,)
        return self.table[rows]  # (B, 6)


def _images(rows: list[int]) -> np.ndarray:
    images = np.zeros((len(rows), 4, 4, 3), np.uint8)
    images[:, 0, 0, 0] = rows
    return images


@pytest.mark.parametrize("batch_size", [1, 3, 500])
def test_exact_loss_accuracy_and_top5(batch_size: int) -> None:
    # row 0 label 2: p 0.5, top-1. row 1 label 0: p 0.05, the smallest: outside the top 5.
    # row 1 label 4: p 0.1, 5th largest: top-5 only. row 1 label 2: p 0.3, top-1.
    images, labels = _images([0, 1, 1, 1]), np.array([2, 0, 4, 2], np.int64)
    model = TableModel().train()
    m = evaluate(model, images, labels, batch_size=batch_size)
    expected_loss = -(math.log(0.5) + math.log(0.05) + math.log(0.1) + math.log(0.3)) / 4
    assert m["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert m["accuracy"] == 0.5 and m["top5"] == 0.75
    assert model.training  # mode restored


def test_fewer_than_five_classes_count_every_class_in_the_top_k() -> None:
    model = TableModel()
    model.table = nn.Parameter(model.table[:, :3].clone())
    m = evaluate(model, _images([0, 1]), np.array([0, 1], np.int64))
    assert (m["accuracy"], m["top5"]) == (0.0, 1.0)


def test_evaluate_matches_cross_entropy_of_the_network_in_eval_mode() -> None:
    torch.manual_seed(0)
    model = create_model(ModelConfig(num_classes=5, width=1 / 16))
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (7, 64, 64, 3), dtype=np.uint8)
    labels = rng.integers(0, 5, 7).astype(np.int64)
    m = evaluate(model, images, labels, batch_size=3)
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255)
    expected = F.cross_entropy(logits, torch.from_numpy(labels)).item()
    assert m["loss"] == pytest.approx(expected, rel=1e-5)
    assert m["accuracy"] == (logits.argmax(1).numpy() == labels).mean()
    bf16 = evaluate(model, images, labels, precision="bf16", channels_last=True)
    assert bf16["loss"] == pytest.approx(expected, rel=2e-2)


def test_mismatched_labels_are_refused() -> None:
    with pytest.raises(ValueError, match="labels"):
        evaluate(TableModel(), _images([0, 1]), np.array([0], np.int64))
