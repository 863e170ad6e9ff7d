"""The whole experiment in one call: every step in order on one run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralcodes.allocator import tune_once
from neuralcodes.config import RunConfig
from neuralcodes.pipeline.outputs import figures_step, report_step
from neuralcodes.pipeline.prepare import prepare
from neuralcodes.pipeline.retrieval_steps import codes_step, retrieval_step
from neuralcodes.pipeline.training_steps import evaluate_step, train_step
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import RunDir, read_metrics


def run_experiment(run_dir: str | Path, cfg: RunConfig, *, resume: bool = False,
                   workers: int | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Prepare, train, evaluate, extract codes, score retrieval, draw and report.

    With ``resume`` an interrupted run continues: training from its last checkpoint, and the
    steps after it run again (they are cheap next to training).
    """
    tune_once()  # the allocator of `neuralcodes run` (neuralcodes.allocator)
    log = ensure(progress).log
    run = RunDir(Path(run_dir))
    log(f"run folder: {run.root}")
    data = prepare(run.root, cfg, workers=workers, progress=progress)
    log(f"data: {len(data.split.train)} train / {len(data.split.val)} val / "
        f"{len(data.split.test)} test / {len(data.split.ood)} out-of-domain images")
    train_step(run.root, resume=resume, data=data, progress=progress)
    evaluate_step(run.root, data=data, progress=progress)
    codes_step(run.root, data=data, progress=progress)
    retrieval_step(run.root, progress=progress)
    figures_step(run.root, data=data)
    md, page = report_step(run.root)
    log(f"report: {md} and {page}")
    return read_metrics(run)
