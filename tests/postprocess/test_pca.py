"""PCA on a hand-worked matrix, whitening, sign convention, save/load with provenance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.postprocess.pca import apply_pca, fit_pca, load_pca, save_pca

# centred already; covariance X^T X / 3 = diag(2/3, 8/3, 0): components e2 then e1
X = np.array([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, -2.0, 0.0]]) + [5, 1, 0]


def test_hand_worked_components() -> None:
    pca = fit_pca(X, 2, fitted_on={"layer": "L6"})
    np.testing.assert_allclose(pca.mean, [5.0, 1.0, 0.0])
    np.testing.assert_allclose(pca.components, [[0, 1, 0], [1, 0, 0]], atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance, [8 / 3, 2 / 3])
    y = apply_pca(pca, X)  # projections (0, 1), (0, -1), (2, 0), (-2, 0), then L2-normalised
    np.testing.assert_allclose(y, [[0, 1], [0, -1], [1, 0], [-1, 0]], atol=1e-7)
    assert y.dtype == np.float32


def test_whitening_exact() -> None:
    pca = fit_pca(X, 2, whiten=True, eps=0.0)
    probe = np.array([[6.0, 2.0, 0.0]])  # centred (1, 1, 0): projection (1, 1)
    # whitened: (1 / sqrt(8/3), 1 / sqrt(2/3)) = (sqrt(3/8), sqrt(3/2)), then normalised
    v = np.array([np.sqrt(3 / 8), np.sqrt(3 / 2)])
    np.testing.assert_allclose(apply_pca(pca, probe), [v / np.linalg.norm(v)], rtol=1e-6)
    whitened = apply_pca(fit_pca(X, 2, whiten=True), X)
    np.testing.assert_allclose(np.linalg.norm(whitened, axis=1), 1.0, rtol=1e-6)


def test_sign_convention_and_both_eigen_paths() -> None:
    rng = np.random.default_rng(0)
    wide = rng.standard_normal((10, 30))  # N < D: the Gram-matrix path
    tall = rng.standard_normal((40, 6))  # N > D: the covariance path
    for data, dims in ((wide, 5), (tall, 4)):
        pca = fit_pca(data, dims)
        _, s, vt = np.linalg.svd(data - data.mean(axis=0), full_matrices=False)
        np.testing.assert_allclose(pca.explained_variance, s[:dims] ** 2 / (len(data) - 1))
        np.testing.assert_allclose(np.abs(pca.components @ vt[:dims].T), np.eye(dims), atol=1e-9)
        peak = pca.components[np.arange(dims), np.abs(pca.components).argmax(axis=1)]
        assert (peak > 0).all()
        np.testing.assert_array_equal(fit_pca(-data, dims).components, pca.components)


def test_too_many_dims_says_the_maximum() -> None:
    with pytest.raises(ConfigError, match="maximum possible is 3"):
        fit_pca(X, 4)
    with pytest.raises(ConfigError, match="maximum possible is 4"):
        fit_pca(np.random.default_rng(0).standard_normal((5, 10)), 5)


def test_save_load_round_trip_and_provenance(tmp_path: Path) -> None:
    pca = fit_pca(X, 2, whiten=True, fitted_on={"layer": "L6", "split": "test"})
    path = tmp_path / "pca.npz"
    save_pca(pca, path)
    back = load_pca(path, expected={"fitted_on": {"layer": "L6", "split": "test"}})
    np.testing.assert_array_equal(apply_pca(back, X), apply_pca(pca, X))
    assert back.whiten and back.fitted_on == {"layer": "L6", "split": "test"}
    with pytest.raises(ArtifactMismatchError, match="fitted_on"):
        load_pca(path, expected={"fitted_on": {"layer": "L7", "split": "test"}})
    with pytest.raises(ArtifactMismatchError, match="3-dim"):
        apply_pca(back, np.zeros((2, 5)))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.npz"):
        load_pca(tmp_path / "bad.npz")
    with pytest.raises(DataError, match="not found"):
        load_pca(tmp_path / "missing.npz")
