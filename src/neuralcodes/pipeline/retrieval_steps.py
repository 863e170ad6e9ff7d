"""Steps 4 and 5: neural codes of the out-of-domain images, then their retrieval scores.

codes/ holds one ``ood_<name>.npy`` per code set ((N_ood, D) float32, L2-normalised): the layers,
the pooled convolutional codes (``RetrievalConfig.pooled``, e.g. ``conv5-spoc``), the raw-pixel
baseline and the untrained network's layers; ``test_<name>.npy``, codes of held-out in-domain
images that PCA is fitted on (never the retrieval database, unless ``pca_fit_on="database"`` is
asked for); ``labels.npy``; and ``manifest.json``, which ties them to the model they came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from neuralcodes.artifacts import read_json
from neuralcodes.codes import l2_normalize
from neuralcodes.codesets import CodeSpec, code_specs, extract_specs
from neuralcodes.config import Estimator, RetrievalConfig, RunConfig
from neuralcodes.device import pick_device
from neuralcodes.model import create_model, load_model
from neuralcodes.pipeline.prepare import RunData, open_run_data
from neuralcodes.postprocess.pca import apply_pca, fit_pca
from neuralcodes.progress import Progress, ensure
from neuralcodes.results import CodeSetScore, PcaCurve, PcaFit
from neuralcodes.runs import RunDir, load_code_sets, load_config, save_code_sets, update_metrics
from neuralcodes.scoring import pairwise, score_codes
from neuralcodes.stats import max_pca_dims


def codes_step(run_dir: str | Path, *, data: RunData | None = None,
               progress: Progress | None = None) -> dict[str, Any]:
    """Extract and save every code set that the retrieval step scores; returns the manifest."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run)
    data = data or open_run_data(run, progress=progress)
    loaded = load_model(run.require(run.model, "train"))
    ood = data.cache.images[data.split.ood]  # (N_ood, H, W, 3) uint8
    specs = code_specs(cfg.retrieval)
    sets = extract_sets(loaded.model, data, specs, cfg, progress)
    if "pixels" in cfg.retrieval.baselines:
        sets["ood_pixels"] = l2_normalize(ood.reshape(len(ood), -1).astype(np.float32) / 255.0)
    if "untrained" in cfg.retrieval.baselines:
        torch.manual_seed(cfg.train.seed)  # the very initialisation the training started from
        plain = [s for s in specs if s.pool is None]
        untrained = _codes(create_model(cfg.model), ood, plain, cfg, progress)
        sets |= {f"ood_untrained_{k}": v for k, v in untrained.items()}
    labels = np.asarray(data.cache.labels)[data.split.ood]
    manifest = save_code_sets(run, sets, labels, loaded.header["model_hash"], normalised=True,
                              pca_fit_on=cfg.retrieval.pca_fit_on)
    ensure(progress).log(f"codes: {', '.join(f'{n} {c.shape[1]}-d' for n, c in sets.items())}")
    return manifest


def extract_sets(model: torch.nn.Module, data: RunData, specs: list[CodeSpec], cfg: RunConfig,
                 progress: Progress | None) -> dict[str, np.ndarray]:
    """``{"ood_<name>": (N_ood, D), "test_<name>": (M, D)}`` of ``specs``: the codes of the
    out-of-domain images, and of the images PCA is fitted on (never the OOD database; none with
    ``pca_fit_on="database"``, where PCA is fitted on the ood_ codes)."""
    parts = {"ood": data.split.ood}
    if cfg.retrieval.pca_fit_on != "database":
        fit_split = getattr(data.split, cfg.retrieval.pca_fit_on)
        parts["test"] = fit_split[: cfg.retrieval.pca_fit_samples]
    sets: dict[str, np.ndarray] = {}
    for prefix, idx in parts.items():
        codes = _codes(model, data.cache.images[idx], specs, cfg, progress)
        sets |= {f"{prefix}_{name}": c for name, c in codes.items()}
    return sets


def _codes(model: torch.nn.Module, images: np.ndarray, specs: list[CodeSpec], cfg: RunConfig,
           progress: Progress | None) -> dict[str, np.ndarray]:
    return extract_specs(model, images, specs, batch_size=cfg.retrieval.batch_size,
                         device=pick_device(cfg.train.device), precision=cfg.train.precision,
                         progress=progress)


def retrieval_step(run_dir: str | Path, *,
                   progress: Progress | None = None) -> dict[str, CodeSetScore]:
    """mAP (95 % bootstrap interval), P@k, R@k and per-class AP of every code set (with query
    expansion too if asked), paired comparisons between code sets, and the PCA curves."""
    run = RunDir(Path(run_dir))
    cfg = load_config(run).retrieval
    sets, labels = load_code_sets(run)
    results, aps = {}, {}
    trained = {s.name for s in code_specs(cfg)}
    for name in (n for n in sets if n.startswith("ood_")):
        key = name[4:].replace("_", " ")  # "L6", "conv5-spoc", "pixels", "untrained L6"
        for qe in (0, cfg.qe) if cfg.qe and key in trained else (0,):
            label = f"{key} +QE{qe}" if qe else key
            scored = score_codes(np.asarray(sets[name]), labels, precision_at=cfg.precision_at,
                                 recall_at=cfg.recall_at, estimator=cfg.estimator, qe=qe,
                                 qe_alpha=cfg.qe_alpha, n_bootstrap=cfg.bootstrap)
            results[label], aps[label] = scored.score, scored.ap
            ensure(progress).log(f"{label:>14}: mAP {scored.score.map:.4f}")
    comparisons = pairwise(aps, cfg.compare, n_resamples=cfg.bootstrap)
    curves, fit = pca_curves(sets, labels, cfg)
    update_metrics(run, retrieval={k: v.to_dict() for k, v in results.items()},
                   comparisons=[c.to_dict() for c in comparisons],
                   pca={k: c.to_dict() for k, c in curves.items()},
                   pca_ci95={k: c.ci_to_dict() for k, c in curves.items()}, pca_fit_on=fit.text,
                   pca_fit=fit.to_dict(), ood_classes=_ood_classes(run, labels))
    return results


def pca_curves(sets: dict[str, np.ndarray], labels: np.ndarray,
               cfg: RetrievalConfig) -> tuple[dict[str, PcaCurve], PcaFit]:
    """The PCA curve of every trained code set, and what PCA was fitted on."""
    on_db = cfg.pca_fit_on == "database"
    curves: dict[str, PcaCurve] = {}
    n_fit = 0
    for spec in code_specs(cfg):
        database = np.asarray(sets[f"ood_{spec.name}"])
        fit = database if on_db else np.asarray(sets[f"test_{spec.name}"])
        n_fit = len(fit)
        curves[spec.name] = pca_curve(fit, database, labels, cfg.pca_dims,
                                      whiten=cfg.pca_whiten, estimator=cfg.estimator,
                                      n_bootstrap=cfg.bootstrap)
    split = "images of the retrieval database itself (pca_fit_on='database')" if on_db else (
        f"held-out in-domain {cfg.pca_fit_on} images")
    text = f"{n_fit} {split}" + (", whitened" if cfg.pca_whiten else "")
    return curves, PcaFit(cfg.pca_fit_on, n_fit, cfg.pca_whiten, on_db, text)


def pca_curve(fit: np.ndarray, database: np.ndarray, labels: np.ndarray,
              dims: Sequence[int], *, whiten: bool = False, estimator: Estimator = "spec",
              qe: int = 0, qe_alpha: float = 0.0, n_bootstrap: int = 0) -> PcaCurve:
    """mAP of PCA-compressed codes (with query expansion if ``qe`` > 0) for each possible size
    (fitted on ``fit``), with its 95 % bootstrap interval when ``n_bootstrap`` > 0; sizes above
    min(N_fit - 1, D) are left out (PCA cannot have them)."""
    limit = max_pca_dims(*fit.shape)
    curve, ci = {}, {}
    for d in (d for d in dims if d <= limit):
        pca = fit_pca(fit, d, whiten=whiten)
        codes = apply_pca(pca, database)  # (N, d) L2-normalised
        score = score_codes(codes, labels, precision_at=(), recall_at=(), estimator=estimator,
                            qe=qe, qe_alpha=qe_alpha, n_bootstrap=n_bootstrap).score
        curve[d] = score.map
        if score.ci95 is not None:
            ci[d] = score.ci95
    return PcaCurve(curve, ci)


def _ood_classes(run: RunDir, labels: np.ndarray) -> dict[str, str]:
    """OOD label -> class name (from split.json), for the per-class table of the report."""
    names = read_json(run.split).get("class_names", []) if run.split.exists() else []
    return {str(c): (names[c] if c < len(names) else str(c)) for c in np.unique(labels).tolist()}
