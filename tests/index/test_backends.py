from __future__ import annotations

import sys

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.index.backends import (
    ExactBackend,
    build_backend,
    load_backend,
    measure_recall,
    require_faiss,
)

pytest.importorskip("faiss")


def _clustered(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Normalised vectors around 50 centres: the structure real neural codes have."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, d))
    x = centres[rng.integers(0, 50, n)] + 0.3 * rng.normal(size=(n, d))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_exact_matches_brute_force() -> None:
    x = _clustered(300, 16)
    q = _clustered(5, 16, seed=1)
    dist, rows = ExactBackend(x).search(q, 7)
    full = np.linalg.norm(q[:, None] - x[None], axis=2)  # (5, 300)
    np.testing.assert_array_equal(rows, np.argsort(full, axis=1, kind="stable")[:, :7])
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7], atol=1e-5)


def test_exact_clamps_k() -> None:
    dist, rows = ExactBackend(_clustered(4, 8)).search(_clustered(2, 8), 10)
    assert rows.shape == (2, 4)


@pytest.mark.parametrize("kind", ["ivfpq", "hnsw"])
def test_approximate_backends(kind: str) -> None:
    x = _clustered(3000, 32)
    backend = build_backend(kind, x)
    assert "structure" not in backend.params  # a real IVF-PQ / HNSW, not the flat fallback
    recall = measure_recall(backend, x, k=10, n_queries=200)
    assert recall >= 0.8
    dist, rows = backend.search(x[:5], 10)
    exact = np.linalg.norm(x[rows] - x[:5, None], axis=2)  # distances of the returned rows
    np.testing.assert_allclose(dist, exact, atol=1e-3)
    assert np.all(np.diff(dist, axis=1) >= -1e-6)
    again = load_backend(kind, x, backend.serialize(), backend.params)  # type: ignore[attr-defined]
    np.testing.assert_array_equal(again.search(x[:5], 10)[1], rows)


def test_small_collections_use_a_flat_index() -> None:
    x = _clustered(50, 8)
    backend = build_backend("ivfpq", x)
    assert "flat" in backend.params["structure"]
    assert measure_recall(backend, x) == 1.0


def test_recall_of_exact_is_one() -> None:
    x = _clustered(100, 8)
    assert measure_recall(ExactBackend(x), x, n_queries=20) == 1.0


def test_unknown_backend() -> None:
    with pytest.raises(ConfigError, match="unknown backend 'annoy'"):
        build_backend("annoy", _clustered(10, 4))


def test_missing_faiss_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ConfigError, match=r"pip install 'neuralcodes\[index\]'"):
        require_faiss()
