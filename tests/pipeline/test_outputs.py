"""The figures and report steps: PCA curves with their intervals, the report's configuration."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import torch

from neuralcodes.figures import Series
from neuralcodes.pipeline.outputs import pca_series


def test_pca_series_carry_intervals_and_the_uncompressed_map() -> None:
    metrics = {"pca": {"L6": {"4": 0.25, "8": 0.5}, "L7": {"4": 0.375}, "conv5-spoc": {}},
               "pca_ci95": {"L6": {"4": [0.125, 0.375], "8": [0.375, 0.625]}},
               "retrieval": {"L6": {"map": 0.625, "dims": 16}}}
    assert pca_series(metrics) == [
        Series("L6", {4: 0.25, 8: 0.5}, {4: (0.125, 0.375), 8: (0.375, 0.625)}, reference=0.625),
        Series("L7", {4: 0.375}),  # a run made before the intervals: no band; no full code
    ]


def test_training_records_its_environment_and_time_per_epoch(tiny_run: Path) -> None:
    training = json.loads((tiny_run / "metrics.json").read_text())["training"]
    history = json.loads((tiny_run / "history.json").read_text())["epochs"]
    assert training["seconds_per_epoch"] == np.mean([h["seconds"] for h in history])
    env = training["environment"]
    assert (env["torch"], env["numpy"], env["python"]) == (
        torch.__version__, np.__version__, platform.python_version())
    assert env["device"] == "cpu" and env["precision_used"] == "fp32"


def test_the_report_has_the_configuration_and_environment(tiny_run: Path) -> None:
    page = (tiny_run / "report.html").read_text()
    section = page[page.index("<h2>Configuration and environment</h2>"):]
    assert '<table class="text">' in section
    for text in ("notebook, width 0.0625", "split 42, training 0", f"PyTorch {torch.__version__}",
                 "80 training, 10 validation, 10 test images of 5 in-domain classes; 100 "
                 "out-of-domain images of 5 classes", "s per epoch", "the last epoch&#x27;s"):
        assert text in section, text
    assert "<code>pixels</code>" in page and "`" not in page
    md = (tiny_run / "report.md").read_text()
    assert "## Configuration and environment" in md and "| precision | fp32, used fp32 |" in md
