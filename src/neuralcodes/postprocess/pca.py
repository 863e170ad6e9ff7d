"""PCA compression (and whitening) of neural codes: the paper's short codes.

``fit_pca`` learns the projection on one set of codes (never the database being evaluated, see
docs/protocol.md); ``apply_pca`` projects, optionally whitens, and L2-normalises again. A fitted
PCA is saved as ``.npz`` with a provenance header saying what it was fitted on, and refuses codes
of another dimensionality or a header that does not match what the caller expects.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import atomic_write_bytes, check_provenance, provenance
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError


@dataclass(frozen=True)
class PCA:
    """A fitted projection ``y = (x - mean) @ components.T``, then whitened, then L2-normalised."""

    mean: np.ndarray  # (D,) float64
    components: np.ndarray  # (dims, D) float64, orthonormal rows, largest-|entry| positive
    explained_variance: np.ndarray  # (dims,) float64, decreasing (unbiased, / (N - 1))
    whiten: bool
    eps: float
    fitted_on: dict[str, Any] = field(default_factory=dict)  # e.g. {"layer": "L6", "split": "test"}

    @property
    def dims(self) -> int:
        return int(self.components.shape[0])


def fit_pca(
    x: np.ndarray,
    dims: int,
    *,
    whiten: bool = False,
    eps: float = 1e-8,
    fitted_on: Mapping[str, Any] | None = None,
) -> PCA:
    """Fit PCA with ``dims`` components on the rows of ``x`` (N, D), in float64.

    Centred data has rank at most ``min(N - 1, D)``, so that is the most components possible.
    Eigen-decomposes the smaller of the (D, D) covariance and the (N, N) Gram matrix.
    """
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2:
        raise ConfigError(f"PCA: expected (N, D) codes, got shape {data.shape}")
    n, d = data.shape
    limit = min(n - 1, d)
    if not 1 <= dims <= limit:
        raise ConfigError(
            f"PCA: cannot keep {dims} dims of {n} codes of {d} dims; the maximum possible is "
            f"{limit} (min(N - 1, D))"
        )
    mean = data.mean(axis=0)  # (D,)
    centred = data - mean  # (N, D)
    values, vectors = _top_eigen(centred, dims)  # (dims,), (dims, D)
    return PCA(
        mean=mean,
        components=_fix_signs(vectors),
        explained_variance=np.maximum(values, 0.0) / (n - 1),
        whiten=whiten,
        eps=float(eps),
        fitted_on=dict(fitted_on or {}),
    )


def _top_eigen(centred: np.ndarray, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest ``dims`` eigenvalues of ``centred.T @ centred`` and their unit eigenvectors."""
    n, d = centred.shape
    if d <= n:
        values, vecs = np.linalg.eigh(centred.T @ centred)  # ascending, (D,), (D, D)
        top = np.argsort(values)[::-1][:dims]
        return values[top], vecs[:, top].T
    values, u = np.linalg.eigh(centred @ centred.T)  # (N,), (N, N)
    top = np.argsort(values)[::-1][:dims]
    vecs = centred.T @ u[:, top]  # (D, dims) = V * S
    vecs /= np.linalg.norm(vecs, axis=0, keepdims=True)
    return values[top], vecs.T


def _fix_signs(components: np.ndarray) -> np.ndarray:
    """Flip each row so that its largest-magnitude entry (the first, on ties) is positive."""
    idx = np.argmax(np.abs(components), axis=1)  # (dims,)
    signs = np.sign(components[np.arange(len(idx)), idx])
    return components * np.where(signs == 0, 1.0, signs)[:, None]


def apply_pca(pca: PCA, x: np.ndarray) -> np.ndarray:
    """Project (N, D) codes to (N, dims) float32, whitened if fitted so, L2-normalised again."""
    data = np.asarray(x, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != pca.mean.shape[0]:
        raise ArtifactMismatchError(
            f"PCA fitted on {pca.mean.shape[0]}-dim codes {pca.fitted_on or ''} cannot be applied "
            f"to codes of shape {data.shape}"
        )
    y = (data - pca.mean) @ pca.components.T  # (N, dims)
    if pca.whiten:
        y /= np.sqrt(pca.explained_variance + pca.eps)[None, :]
    norms = np.linalg.norm(y, axis=1, keepdims=True)  # (N, 1)
    return (y / np.where(norms > 0, norms, 1.0)).astype(np.float32)


def pca_bytes(pca: PCA) -> bytes:
    """``pca`` as ``.npz`` bytes with its provenance header (JSON): what ``save_pca`` writes."""
    header = provenance(
        "pca", dims=pca.dims, input_dims=int(pca.mean.shape[0]), whiten=pca.whiten,
        eps=pca.eps, fitted_on=pca.fitted_on,
    )
    buf = io.BytesIO()
    np.savez(
        buf, header=np.array(json.dumps(header)), mean=pca.mean, components=pca.components,
        explained_variance=pca.explained_variance,
    )
    return buf.getvalue()


def save_pca(pca: PCA, path: str | Path) -> None:
    """Write ``pca`` atomically as ``.npz`` with its provenance header (JSON)."""
    atomic_write_bytes(path, pca_bytes(pca))


def load_pca(path: str | Path, expected: Mapping[str, Any] | None = None) -> PCA:
    """Read a PCA written by ``save_pca``; ``expected`` header keys must match (e.g. fitted_on)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            header = json.loads(str(f["header"]))
            arrays = {k: np.asarray(f[k]) for k in ("mean", "components", "explained_variance")}
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except (OSError, ValueError, KeyError) as e:
        raise DataError(path, f"not a PCA file written by neuralcodes ({e})") from None
    if header.get("artifact") != "pca":
        raise DataError(path, f"not a PCA file (artifact is {header.get('artifact')!r})")
    check_provenance(header, expected or {}, where=path)
    return PCA(
        mean=arrays["mean"], components=arrays["components"],
        explained_variance=arrays["explained_variance"], whiten=bool(header["whiten"]),
        eps=float(header["eps"]), fitted_on=dict(header.get("fitted_on", {})),
    )
