"""Retrieval scores of any network on one's own labelled folder: each image queries the rest.

The paper's setting on one's own data: codes of chosen layers (or pooled conv maps) of any
network (a run's model, ImageNet AlexNet, a Hugging Face model: a model SPEC), its images read
by its own preprocessing, optionally PCA-compressed and whitened, optionally with query
expansion, each scored with mAP and its 95 % bootstrap interval, precision@k and recall@k. PCA
needs images to be fitted on: a second folder (``pca_fit_folder``) keeps the evaluation honest;
without one, PCA is fitted on the evaluated images themselves and every such row says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.codesets import extract_specs, parse_specs
from neuralcodes.config import Estimator
from neuralcodes.postprocess.pca import apply_pca, fit_pca
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.folders import read_labelled_folder
from neuralcodes.research.networks import Network
from neuralcodes.results import CodeSetScore
from neuralcodes.scoring import score_codes
from neuralcodes.stats import max_pca_dims
from neuralcodes.tables import ci_text


@dataclass(frozen=True)
class FolderRow:
    """One code set at one size, with or without query expansion, scored on the folder."""

    codes: str  # "L6", "conv5-spoc"
    pca: int | None  # PCA dimensions; None: the full code
    whiten: bool
    qe: int  # query expansion size (0: none)
    pca_fit_on: str | None  # what PCA was fitted on (None without PCA)
    score: CodeSetScore

    def to_dict(self) -> dict[str, Any]:
        return {**self.score.to_dict(), "codes": self.codes, "pca": self.pca,
                "whiten": self.whiten, "qe": self.qe, "pca_fit_on": self.pca_fit_on}


def folder_retrieval(
    folder: str | Path,
    net: Network,
    *,
    codes: Sequence[str] | None = None,
    pca: Sequence[int] = (),
    whiten: bool = False,
    pca_fit_folder: str | Path | None = None,
    qe: int = 0,
    qe_alpha: float = 0.0,
    estimator: Estimator = "spec",
    n_bootstrap: int = 1000,
    batch_size: int = 100,
    progress: Progress | None = None,
) -> list[FolderRow]:
    """One row per code set x (full, each PCA size) x (no QE, QE if asked). ``codes`` default:
    L5, L6, L7 where the network has them, else its default code."""
    data = read_labelled_folder(folder, net.image_policy, progress=progress)
    specs = parse_specs(codes or net.default_codes())
    found = extract_specs(net.model, data.images, specs, batch_size=batch_size, progress=progress)
    fit_codes = found
    if pca and pca_fit_folder is not None:
        fit_images = read_labelled_folder(pca_fit_folder, net.image_policy, progress=progress)
        fit_codes = extract_specs(net.model, fit_images.images, specs, batch_size=batch_size,
                                  progress=progress)
    fit_on = "the evaluated images themselves" if pca_fit_folder is None else str(pca_fit_folder)
    rows = []
    for name, x in found.items():
        variants: list[tuple[int | None, np.ndarray]] = [(None, x)]
        limit = max_pca_dims(*fit_codes[name].shape)
        variants += [(d, apply_pca(fit_pca(fit_codes[name], d, whiten=whiten), x))
                     for d in pca if d <= limit]  # the PCA sizes this fit set allows
        for d, compressed in variants:
            for n in sorted({0, qe}):
                s = score_codes(compressed, data.labels, estimator=estimator, qe=n,
                                qe_alpha=qe_alpha, n_bootstrap=n_bootstrap).score
                rows.append(FolderRow(name, d, bool(d and whiten), n, fit_on if d else None, s))
        ensure(progress).log(f"{name}: mAP {rows[-1].score.map:.4f}")
    return rows


def folder_table(rows: Sequence[FolderRow]) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """(header, rows) of the printed and written table."""
    ps = sorted({k for r in rows for k in r.score.precision_at})
    rs = sorted({k for r in rows for k in r.score.recall_at})
    header = ("codes", "dims", "PCA", "QE", "mAP", "95 % CI", *(f"P@{k}" for k in ps),
              *(f"R@{k}" for k in rs))
    body = []
    for r in rows:
        s = r.score
        pca = "no" if r.pca is None else ("whitened" if r.whiten else "yes")
        body.append((r.codes, str(s.dims), pca, str(r.qe) if r.qe else "–", f"{s.map:.4f}",
                     ci_text(s.ci95), *(f"{s.precision_at.get(k, float('nan')):.3f}" for k in ps),
                     *(f"{s.recall_at.get(k, float('nan')):.3f}" for k in rs)))
    return header, body
