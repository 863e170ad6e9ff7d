"""Two networks' codes on the same retrieval task, with a paired test: is B better than A by
more than the noise?

A and B are model SPECs (run folders, ``alexnet:WEIGHTS.pth``, ``hf:ORG/NAME``, ``hf:/folder``).
The task is RUN_A's out-of-domain images (each queries all the others) when A is a run folder, or
a labelled folder (``data``, required otherwise). Each network reads the same images by its own
image policy (two run folders: the same pixels, so they must take the same input size). Per-query
APs are compared with a paired bootstrap interval of the mean difference (B minus A) and a
sign-flip permutation p-value (``neuralcodes.stats``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.codesets import CodeSpec, extract_specs, parse_specs
from neuralcodes.config import Estimator
from neuralcodes.errors import ConfigError
from neuralcodes.images import load_image
from neuralcodes.models.spec import ModelSpec, parse_spec
from neuralcodes.pipeline.prepare import open_run_data
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.folders import read_labelled_folder
from neuralcodes.research.networks import Network, open_spec
from neuralcodes.results import CodeSetScore, PairedComparison
from neuralcodes.runs import RunDir
from neuralcodes.scoring import compare_scores, score_codes
from neuralcodes.tables import ci_text, map_text, p_value_text, yes_no

Spec = str | os.PathLike[str] | ModelSpec


@dataclass(frozen=True)
class CompareRow:
    """One code spec scored with both models, and B minus A."""

    codes: str  # "L6", "conv5-mac"
    a: CodeSetScore
    b: CodeSetScore
    b_minus_a: PairedComparison

    def to_dict(self) -> dict[str, Any]:
        return {"codes": self.codes, "a": self.a.to_dict(), "b": self.b.to_dict(),
                "b_minus_a": self.b_minus_a.to_dict()}


@dataclass(frozen=True)
class Comparison:
    """Two models (their descriptions) on one retrieval task, one row per code spec."""

    task: str
    a: str
    b: str
    estimator: Estimator
    rows: tuple[CompareRow, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "a": self.a, "b": self.b, "estimator": self.estimator,
                "rows": [r.to_dict() for r in self.rows]}


def compare_runs(
    run_a: Spec,
    run_b: Spec,
    *,
    codes: Sequence[str] | None = None,
    data: str | Path | None = None,
    estimator: Estimator = "spec",
    n_bootstrap: int = 1000,
    batch_size: int = 500,
    device: str = "auto",
    progress: Progress | None = None,
) -> Comparison:
    """Networks A and B (SPECs) on RUN_A's out-of-domain task (or the labelled folder ``data``).

    ``codes``: code specs both networks have (default: A's default code, paired with B's when B
    has no code of that name)."""
    spec_a = parse_spec(run_a)
    if data is None and spec_a.kind != "run":
        raise ConfigError(f"A ({spec_a}) is not a run folder, so there is no run's "
                          "out-of-domain task: give a labelled folder with --data FOLDER (one "
                          "subfolder of images per class)")
    a, b = open_spec(spec_a, device=device), open_spec(run_b, device=device)
    if a.is_run and b.is_run and a.image_size != b.image_size:
        raise ConfigError(f"the two models take different image sizes ({a.image_size} and "
                          f"{b.image_size}); compare models of the same input size")
    pairs = _code_pairs(a, b, codes)
    task, labels, images = _task(spec_a, data, (a, b), progress)
    encoded = [extract_specs(net.model, pixels, list(dict.fromkeys(p[i] for p in pairs)),
                             batch_size=batch_size, progress=progress)
               for i, (net, pixels) in enumerate(zip((a, b), images, strict=True))]
    rows = []
    for spec_of_a, spec_of_b in pairs:
        sa, sb = (score_codes(c[s.name], labels, estimator=estimator, n_bootstrap=n_bootstrap)
                  for c, s in zip(encoded, (spec_of_a, spec_of_b), strict=True))
        diff = compare_scores(sb.ap, sa.ap, n_resamples=n_bootstrap)
        name = spec_of_a.name if spec_of_a == spec_of_b else (
            f"{spec_of_a.name} vs {spec_of_b.name}")
        rows.append(CompareRow(name, sa.score, sb.score, diff))
        ensure(progress).log(f"{name}: A {sa.score.map:.4f}  B {sb.score.map:.4f}  "
                             f"B - A {diff.mean_diff:+.4f}")
    return Comparison(task, a.description, b.description, estimator, tuple(rows))


def _code_pairs(a: Network, b: Network,
                codes: Sequence[str] | None) -> list[tuple[CodeSpec, CodeSpec]]:
    """(A's code, B's code) per row: the named codes for both, or the default codes."""
    if codes:
        return [(spec, spec) for spec in parse_specs(codes)]
    [spec_a] = parse_specs([a.default_layer])
    [spec_b] = parse_specs([a.default_layer if a.default_layer in b.layers else b.default_layer])
    return [(spec_a, spec_b)]


def _task(spec_a: ModelSpec, data: str | Path | None, nets: Sequence[Network],
          progress: Progress | None) -> tuple[str, np.ndarray, list[np.ndarray]]:
    """A description of the retrieval task, its labels (N,) and each network's images
    (N, S, S, 3), read by that network's image policy."""
    if data is not None:
        first = read_labelled_folder(data, nets[0].image_policy, progress=progress)
        folders = [first] + [first if net.image_policy == nets[0].image_policy else
                             read_labelled_folder(data, net.image_policy, progress=progress)
                             for net in nets[1:]]
        labels = first.labels
        if any(f.files != first.files for f in folders):
            raise ConfigError(f"{data}: the two networks could not read the same images")
        return (f"labelled folder {data} ({len(labels)} images)", labels,
                [f.images for f in folders])
    assert spec_a.path is not None
    run_data = open_run_data(RunDir(spec_a.path), progress=progress)
    ood = run_data.split.ood
    pixels = np.asarray(run_data.cache.images[ood])  # (N, S_run, S_run, 3)
    labels = np.asarray(run_data.cache.labels)[ood].astype(np.int64)
    images = [pixels if pixels.shape[1] == net.image_size and net.is_run
              else np.stack([load_image(x, net.image_policy) for x in pixels]) for net in nets]
    return f"out-of-domain images of {spec_a.path} ({len(ood)} images)", labels, images


COMPARISON_HEADER = ("codes", "A mAP [95 % CI]", "B mAP [95 % CI]", "B - A", "95 % CI",
                     "p-value", "larger than the noise")


def comparison_rows(result: Comparison) -> list[tuple[str, ...]]:
    """Table rows: codes, A mAP [CI], B mAP [CI], B - A, its CI, p-value, beyond the noise."""
    return [(r.codes, map_text(r.a), map_text(r.b), f"{r.b_minus_a.mean_diff:+.4f}",
             ci_text(r.b_minus_a.ci95, signed=True), p_value_text(r.b_minus_a.p_value),
             yes_no(r.b_minus_a.significant)) for r in result.rows]
