"""Step 1: the run folder is made once per configuration, and a configuration that cannot run
is refused before anything is written."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from neuralcodes.config import RunConfig, replace
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.pipeline import RunDir, prepare
from neuralcodes.pipeline.prepare import check_run_config, open_run_data
from neuralcodes.runs import load_config


def test_a_run_folder_refuses_another_configuration(tiny_run: Path, tiny_dataset: Path) -> None:
    other = replace(load_config(RunDir(tiny_run)), **{"train.lr": 0.5})
    with pytest.raises(ArtifactMismatchError, match="train.lr"):
        prepare(tiny_run, other)


def _tiny(source: Path, **changes: object) -> RunConfig:
    return replace(RunConfig(), **{"data.source": str(source), "data.n_in_domain": 7,
                                   "model.num_classes": 7, **changes})


def test_the_default_config_is_refused_before_any_side_effect(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path / "home"))
    with pytest.raises(ConfigError, match="n_in_domain=190.*synthetic dataset has 40 classes"):
        prepare(tmp_path / "run", RunConfig())
    assert not (tmp_path / "home").exists() and not (tmp_path / "run").exists()


def test_a_missing_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="nowhere"):
        check_run_config(_tiny(tmp_path / "nowhere"))
    check_run_config(_tiny(tmp_path / "nowhere"), to_download=True)
    with pytest.raises(ConfigError, match="Tiny ImageNet has 200 classes"):
        check_run_config(_tiny(tmp_path / "x", **{"data.n_in_domain": 200,
                                                 "model.num_classes": 200}), to_download=True)


@pytest.mark.parametrize(("changes", "message"), [
    ({"model.num_classes": 190}, "model.num_classes=190"),
    ({"retrieval.pooled": ("L6:spoc",)}, "feature map"),
    ({"retrieval.layers": ("L9",)}, "unknown layers"),
])
def test_what_would_fail_late_is_refused_early(tiny_dataset: Path, changes: dict[str, object],
                                                message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_run_config(_tiny(tiny_dataset, **changes))


def test_the_check_leaves_the_random_stream_alone(tiny_dataset: Path) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    check_run_config(_tiny(tiny_dataset))
    assert torch.equal(torch.rand(3), expected)


def test_a_non_utf8_file_name_in_a_class_folder(tiny_dataset: Path, tmp_path: Path) -> None:
    data = Path(shutil.copytree(tiny_dataset, tmp_path / "tiny-imagenet-200"))
    images = data / "train" / sorted(os.listdir(data / "train"))[0] / "images"
    first = sorted(images.iterdir())[0]
    shutil.copy(first, os.fsencode(images) + b"/caf\xe9.JPEG")
    cfg = replace(RunConfig(), **{"data.source": str(data), "data.n_in_domain": 7,
                                  "model.num_classes": 7})
    prepared = prepare(tmp_path / "run", cfg)
    name = next(f for f in prepared.cache.files if "caf" in f)
    assert os.fsencode(name).endswith(b"/caf\xe9.JPEG") and len(prepared.cache) == 201
    split = json.loads((tmp_path / "run" / "split.json").read_text(encoding="utf-8"))
    assert name in split["train"] + split["val"] + split["test"] + split["ood"]
    reopened = open_run_data(RunDir(tmp_path / "run"))
    assert reopened.cache.files == prepared.cache.files
