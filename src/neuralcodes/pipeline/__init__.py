"""The experiment as steps over a run folder (docs/ARCHITECTURE.md, "The run folder").

Each step reads what the steps before it wrote and writes its own outputs atomically, so any step
can be re-run alone: ``prepare`` -> ``train`` -> ``evaluate`` -> ``codes`` -> ``retrieval`` ->
``figures`` -> ``report``. ``run_experiment`` runs them all.
"""

from neuralcodes.pipeline.experiment import run_experiment
from neuralcodes.pipeline.outputs import figures_step, report_step
from neuralcodes.pipeline.prepare import prepare
from neuralcodes.pipeline.retrieval_steps import codes_step, retrieval_step
from neuralcodes.pipeline.training_steps import evaluate_step, train_step
from neuralcodes.runs import RunDir

__all__ = [
    "RunDir", "prepare", "train_step", "evaluate_step", "codes_step", "retrieval_step",
    "figures_step", "report_step", "run_experiment",
]
