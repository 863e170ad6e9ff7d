"""Steps 4 and 5: neural codes of the out-of-domain images, then their retrieval scores.

codes/ holds one ``ood_<name>.npy`` per code set ((N_ood, D) float32, L2-normalised): the layers,
the raw-pixel baseline and the untrained network's layers; ``test_<layer>.npy``, codes of held-out
in-domain images that PCA is fitted on (never the retrieval database); ``labels.npy``; and
``manifest.json``, which ties them to the model they came from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralcodes.artifacts import atomic_save_npy, atomic_write_json, check_provenance, provenance
from neuralcodes.codes import extract_codes, l2_normalize
from neuralcodes.config import RunConfig
from neuralcodes.metrics import retrieval_scores
from neuralcodes.model import create_model, load_model
from neuralcodes.pipeline.prepare import RunData, open_run_data
from neuralcodes.pipeline.rundir import RunDir, load_config, update_metrics
from neuralcodes.postprocess.pca import apply_pca, fit_pca
from neuralcodes.progress import Progress, ensure
from neuralcodes.stats import bootstrap_ci
from neuralcodes.device import pick_device


def codes_step(run_dir: str | Path, *, data: RunData | None = None,
               progress: Progress | None = None) -> dict[str, Any]:
    """Extract and save every code set that the retrieval step scores."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    data = data or open_run_data(run, progress=progress)
    loaded = load_model(run.require(run.model, "train"))
    ood = data.cache.images[data.split.ood]  # (N_ood, H, W, 3) uint8
    fit_split = getattr(data.split, cfg.retrieval.pca_fit_on)  # never the OOD database
    fit = data.cache.images[fit_split[: cfg.retrieval.pca_fit_samples]]
    layers = list(cfg.retrieval.layers)
    sets = {f"ood_{k}": v for k, v in _codes(loaded.model, ood, layers, cfg, progress).items()}
    sets |= {f"test_{k}": v for k, v in _codes(loaded.model, fit, layers, cfg, progress).items()}
    if "pixels" in cfg.retrieval.baselines:
        sets["ood_pixels"] = l2_normalize(ood.reshape(len(ood), -1).astype(np.float32) / 255.0)
    if "untrained" in cfg.retrieval.baselines:
        torch.manual_seed(cfg.train.seed)  # the very initialisation the training started from
        untrained = _codes(create_model(cfg.model), ood, layers, cfg, progress)
        sets |= {f"ood_untrained_{k}": v for k, v in untrained.items()}
    run.codes.mkdir(parents=True, exist_ok=True)
    for name, codes in sets.items():
        atomic_save_npy(run.codes / f"{name}.npy", codes)
    labels = np.asarray(data.cache.labels)[data.split.ood]
    atomic_save_npy(run.codes / "labels.npy", labels.astype(np.int64))
    manifest = {**provenance("codes", model_hash=loaded.header["model_hash"]),
                "sets": {n: list(c.shape) for n, c in sets.items()}, "normalised": True}
    atomic_write_json(run.codes / "manifest.json", manifest)
    ensure(progress).log(f"codes: {', '.join(f'{n} {c.shape[1]}-d' for n, c in sets.items())}")
    return manifest


def _codes(model: torch.nn.Module, images: np.ndarray, layers: list[str], cfg: RunConfig,
           progress: Progress | None) -> dict[str, np.ndarray]:
    return extract_codes(model, images, layers, batch_size=cfg.retrieval.batch_size,
                         device=pick_device(cfg.train.device), precision=cfg.train.precision,
                         progress=progress)


def load_code_sets(run: RunDir) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The saved code sets (``ood_*`` and ``test_*``) and OOD labels, checked against model.pt."""
    from neuralcodes.artifacts import read_json

    manifest = read_json(run.require(run.codes / "manifest.json", "codes"))
    loaded = load_model(run.require(run.model, "train"))
    check_provenance(manifest, {"model_hash": loaded.header["model_hash"]},
                     where=f"{run.codes} (re-run `neuralcodes codes {run.root}`)")
    sets = {n: np.load(run.codes / f"{n}.npy", mmap_mode="r") for n in manifest["sets"]}
    return sets, np.load(run.codes / "labels.npy")


def retrieval_step(run_dir: str | Path, *, progress: Progress | None = None) -> dict[str, Any]:
    """mAP (with a 95 % bootstrap interval) and precision@k of every code set, and the PCA curve."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run).retrieval
    sets, labels = load_code_sets(run)
    results = {}
    for name in (n for n in sets if n.startswith("ood_")):
        key = name[4:].replace("_", " ")  # "L6", "pixels", "untrained L6"
        results[key] = score(np.asarray(sets[name]), labels, cfg.precision_at, cfg.bootstrap)
        ensure(progress).log(f"{key:>14}: mAP {results[key]['map']:.4f}")
    curves = {layer: pca_curve(np.asarray(sets[f"test_{layer}"]), np.asarray(sets[f"ood_{layer}"]),
                               labels, cfg.pca_dims) for layer in cfg.layers}
    fit_on = f"{len(sets[f'test_{cfg.layers[0]}'])} held-out in-domain test images"
    update_metrics(run, retrieval=results, pca=curves, pca_fit_on=fit_on)
    return results


def score(codes: np.ndarray, labels: np.ndarray, precision_at: tuple[int, ...],
          n_bootstrap: int) -> dict[str, Any]:
    s = retrieval_scores(codes, labels, precision_at=precision_at)
    out: dict[str, Any] = {"map": float(s.map), "dims": int(codes.shape[1]),
                           "n_queries": int(len(labels)),
                           "precision_at": {str(k): float(v) for k, v in s.precision_at.items()}}
    if n_bootstrap:
        low, high = bootstrap_ci(s.ap, n_resamples=n_bootstrap, seed=0)
        out["ci95"] = [float(low), float(high)]
    return out


def pca_curve(fit: np.ndarray, database: np.ndarray, labels: np.ndarray,
              dims: tuple[int, ...]) -> dict[str, float]:
    """mAP of PCA-compressed codes for each possible size (fitted on ``fit``, never the database)."""
    limit = min(fit.shape[0], fit.shape[1])
    curve = {}
    for d in (d for d in dims if d <= limit):
        pca = fit_pca(fit, d)
        curve[str(d)] = float(retrieval_scores(apply_pca(pca, database), labels).map)
    return curve
