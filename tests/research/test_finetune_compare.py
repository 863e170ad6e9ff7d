"""Retraining on a labelled folder, then comparing the two models on the same task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from neuralcodes.config import ModelConfig
from neuralcodes.errors import ArtifactMismatchError, ConfigError
from neuralcodes.model import create_model, load_model
from neuralcodes.research.compare import compare_runs
from neuralcodes.research.finetune import finetune, transfer_weights


def test_transfer_keeps_everything_but_the_head() -> None:
    torch.manual_seed(0)
    parent = create_model(ModelConfig(width=0.0625, num_classes=5))
    child = create_model(ModelConfig(width=0.0625, num_classes=3))
    assert transfer_weights(parent, child) == ("fc8.weight", "fc8.bias")
    torch.testing.assert_close(child.state_dict()["fc6.weight"], parent.state_dict()["fc6.weight"])


def test_finetuned_run_records_its_parent(tiny_run: Path, tuned: Path) -> None:
    parent = load_model(tiny_run / "model.pt")
    child = load_model(tuned / "model.pt")
    assert child.extra["parent_model_hash"] == parent.header["model_hash"]
    assert child.extra["class_names"] == ["class0", "class1", "class2"]
    assert child.config.num_classes == 3 and child.extra["reinitialised"] == ["fc8.weight",
                                                                              "fc8.bias"]
    info = json.loads((tuned / "finetune.json").read_text())
    assert (info["n_train"], info["n_val"], info["epochs"]) == (9, 3, 1)
    assert (tuned / "split.json").read_bytes() == (tiny_run / "split.json").read_bytes()
    with pytest.raises(ArtifactMismatchError, match="already holds"):
        finetune(tiny_run, tuned, tuned)


def test_a_run_compared_with_itself_shows_no_difference(tiny_run: Path) -> None:
    result = compare_runs(tiny_run, tiny_run, codes=["L6", "conv5:mac"], n_bootstrap=50)
    assert [r.codes for r in result.rows] == ["L6", "conv5-mac"]
    d = result.rows[0].b_minus_a
    assert d.mean_diff == 0.0 and d.p_value == 1.0 and not d.significant
    assert result.rows[0].a.n_queries == 100


def test_compare_refuses_models_of_other_input_sizes(tiny_run: Path, tmp_path: Path) -> None:
    from neuralcodes.model import save_model

    cfg = ModelConfig(width=0.0625, num_classes=5, image_size=32)
    (tmp_path / "small").mkdir()
    save_model(tmp_path / "small" / "model.pt", create_model(cfg), cfg)
    with pytest.raises(ConfigError, match="image sizes"):
        compare_runs(tiny_run, tmp_path / "small")
