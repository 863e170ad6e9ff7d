"""Does bf16 training hurt? Test accuracy and OOD mAP of two finished runs, paired bootstrap.

Run the demo twice with the same seeds, once per precision, then compare the run folders:

    neuralcodes demo --out runs/fp32 --precision fp32
    neuralcodes demo --out runs/bf16 --precision bf16
    python -m benchmarks.precision_compare runs/fp32 runs/bf16 [--out result.json]

Both runs see the same test images and the same OOD queries, so every difference is paired: per
test image (correct or not, top-1) and per OOD query (its AP, for each layer). The 95 % intervals
are paired percentile bootstraps of the mean difference (``neuralcodes.stats``), B minus A.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralcodes.data.tensors import to_input
from neuralcodes.device import autocast, resolve_precision
from neuralcodes.metrics import retrieval_scores
from neuralcodes.model import load_model
from neuralcodes.pipeline.prepare import open_run_data
from neuralcodes.runs import RunDir, load_code_sets, load_config
from neuralcodes.stats import bootstrap_ci, paired_comparison


def test_correct(run_dir: Path, batch: int = 500) -> np.ndarray:
    """(N_test,) bool: whether the run's model gets each test image right (its own precision)."""
    run = RunDir(run_dir)
    cfg = load_config(run)
    data = open_run_data(run)
    model = load_model(run.model).model.eval()
    cpu = torch.device("cpu")
    precision = resolve_precision(cfg.train.precision, cpu)
    images = data.cache.images[data.split.test]  # (N, H, W, 3) uint8
    labels = torch.from_numpy(np.asarray(data.cache.labels)[data.split.test].astype(np.int64))
    out = []
    with torch.inference_mode(), autocast(precision, cpu):
        for s in range(0, len(images), batch):
            logits = model(to_input(images[s : s + batch], cpu, channels_last=True))  # (b, K)
            out.append((logits.float().argmax(1) == labels[s : s + batch]).numpy())
    return np.concatenate(out)


def per_query_ap(run_dir: Path, layer: str) -> np.ndarray:
    """(N_ood,) AP of every OOD query with the run's saved ``layer`` codes."""
    sets, labels = load_code_sets(RunDir(run_dir))
    return retrieval_scores(np.asarray(sets[f"ood_{layer}"]), labels).ap


def compare(a: Path, b: Path, layers: tuple[str, ...] = ("L5", "L6", "L7")) -> dict[str, Any]:
    """``{metric: {a, b, a_ci, b_ci, diff, diff_ci, p}}`` for test accuracy and each layer's mAP."""
    pairs = {"test accuracy": (test_correct(a).astype(float), test_correct(b).astype(float))}
    for layer in layers:
        pairs[f"OOD mAP {layer}"] = (per_query_ap(a, layer), per_query_ap(b, layer))
    result: dict[str, Any] = {}
    for name, (va, vb) in pairs.items():
        paired = paired_comparison(vb, va, n_resamples=2000, seed=0)
        result[name] = {
            "a": float(va.mean()),
            "a_ci": bootstrap_ci(va, n_resamples=2000),
            "b": float(vb.mean()),
            "b_ci": bootstrap_ci(vb, n_resamples=2000),
            "diff": paired.mean_diff,
            "diff_ci": (paired.ci_low, paired.ci_high),
            "p": paired.p_value,
            "n": int(len(va)),
        }
    return result


def markdown(result: dict[str, Any], a_name: str, b_name: str) -> str:
    lines = [
        f"| metric | {a_name} [95 % CI] | {b_name} [95 % CI] | {b_name} - {a_name} "
        "[paired 95 % CI] | p | n |",
        "|---|---|---|---|---:|---:|",
    ]
    for name, r in result.items():
        lines.append(
            f"| {name} | {r['a']:.4f} [{r['a_ci'][0]:.4f}, {r['a_ci'][1]:.4f}] | {r['b']:.4f} "
            f"[{r['b_ci'][0]:.4f}, {r['b_ci'][1]:.4f}] | {r['diff']:+.4f} [{r['diff_ci'][0]:+.4f}, "
            f"{r['diff_ci'][1]:+.4f}] | {r['p']:.3f} | {r['n']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("a", type=Path, help="the reference run folder (fp32)")
    p.add_argument("b", type=Path, help="the other run folder (bf16)")
    p.add_argument("--out", type=Path, help="also write the numbers as JSON here")
    args = p.parse_args(argv)
    result = compare(args.a, args.b)
    print(markdown(result, args.a.name, args.b.name))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
