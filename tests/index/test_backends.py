from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.index.ann_params import AnnParams, check_params
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


def test_filled_block_by_block_from_a_memory_map_equals_the_one_shot_build(
    tmp_path: Path,
) -> None:
    """The Ray build fills its index shard by shard from a memory map: the same IVF-PQ."""
    x = _clustered(1500, 32)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    bounds = [(a, min(a + 400, 1500)) for a in range(0, 1500, 400)]
    streamed = build_backend("ivfpq", mapped, blocks=bounds)
    whole = build_backend("ivfpq", x)
    assert streamed.params == whole.params and streamed.params["nlist"] > 1
    d1, i1 = streamed.search(x[:50], 10)
    d2, i2 = whole.search(x[:50], 10)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, rtol=1e-6)


def test_small_collections_say_they_are_flat() -> None:
    x = np.eye(8, dtype=np.float32)
    backend = build_backend("hnsw", x, blocks=[(0, 5), (5, 8)])
    _, rows = backend.search(x, 1)
    assert rows[:, 0].tolist() == list(range(8))
    assert backend.structure == "Flat"
    with pytest.raises(ConfigError, match="nprobe does not apply to this hnsw index: it is Flat"):
        backend.tune(nprobe=2)  # type: ignore[attr-defined]


def test_ivfpq_knobs() -> None:
    backend = build_backend("ivfpq", _clustered(2000, 32), params=AnnParams(nlist=8, nprobe=3))
    assert backend.structure == "IVF8,PQ4x5"
    assert {k: backend.params[k] for k in ("nlist", "m", "nbits", "nprobe")} == {
        "nlist": 8, "m": 4, "nbits": 5, "nprobe": 3}
    assert backend.index.nprobe == 3  # type: ignore[attr-defined]
    with pytest.raises(ConfigError, match="nlist 3000: an IVF index needs at least as many"):
        build_backend("ivfpq", _clustered(2000, 32), params=AnnParams(nlist=3000))


def test_hnsw_knobs() -> None:
    params = AnnParams(hnsw_m=8, ef_construction=20, ef_search=30)
    backend = build_backend("hnsw", _clustered(1200, 16), params=params)
    assert backend.structure == "HNSW8"
    assert backend.params == {"M": 8, "efConstruction": 20, "efSearch": 30}
    hnsw = backend.index.hnsw  # type: ignore[attr-defined]
    assert (hnsw.efConstruction, hnsw.efSearch) == (20, 30)


def test_a_faiss_factory_string_is_built_and_tuned() -> None:
    faiss = require_faiss()
    x = _clustered(1200, 16)
    backend = build_backend("faiss", x, params=AnnParams(factory="IVF16,Flat", nprobe=4))
    assert backend.structure == "IVF16,Flat"
    assert backend.params == {"factory": "IVF16,Flat", "rerank": 10, "trained_on": 1200,
                              "nprobe": 4}
    assert faiss.extract_index_ivf(backend.index).nprobe == 4  # type: ignore[attr-defined]
    assert measure_recall(backend, x, n_queries=100) >= 0.8
    blob = backend.serialize()  # type: ignore[attr-defined]
    again = load_backend("faiss", x, blob, backend.params, nprobe=16)
    assert faiss.extract_index_ivf(again.index).nprobe == 16  # type: ignore[attr-defined]
    assert again.params["nprobe"] == 16
    with pytest.raises(ConfigError, match="efSearch does not apply to this faiss index: it is "
                       "IVF16,Flat"):
        load_backend("faiss", x, blob, backend.params, ef_search=5)


def test_a_bad_factory_string_is_refused_before_any_work() -> None:
    with pytest.raises(ConfigError, match="FAISS cannot build the faiss index "
                       r"\{'factory': 'IVF16,PQ7'\}: .*multiple of the number of subquantizers"):
        check_params("faiss", AnnParams(factory="IVF16,PQ7"), 16)
    with pytest.raises(ConfigError, match="could not parse index string garbage"):
        check_params("faiss", AnnParams(factory="garbage"), 16)


def test_search_knobs_on_an_exact_index_are_refused() -> None:
    with pytest.raises(ConfigError, match="nprobe and efSearch apply to approximate indexes"):
        load_backend("exact", _clustered(10, 4), None, {}, nprobe=4)


@pytest.mark.parametrize(("kind", "params", "message"), [
    ("hnsw", AnnParams(nlist=4), "nlist does not apply to the hnsw backend .*fit: ivfpq"),
    ("exact", AnnParams(nprobe=4, ef_search=9), "nprobe, efSearch do not apply to the exact "
     "backend .*fit: faiss"),
    ("faiss", AnnParams(nprobe=4), "the faiss backend needs a FAISS factory string"),
])
def test_knobs_that_do_not_apply(kind: str, params: AnnParams, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        params.check_for(kind)


@pytest.mark.parametrize(("params", "message"), [
    ({"nlist": 0}, "nlist must be a positive integer, got 0"),
    ({"hnsw_m": True}, "M must be a positive integer, got True"),
    ({"factory": " "}, "factory must be a FAISS index_factory string"),
])
def test_bad_knob_values(params: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AnnParams(**params)


def test_knobs_round_trip_by_their_faiss_names() -> None:
    params = AnnParams(nlist=64, hnsw_m=16, ef_construction=40, ef_search=50)
    assert params.to_manifest() == {"nlist": 64, "M": 16, "efConstruction": 40, "efSearch": 50}
    assert AnnParams.from_manifest(params.to_manifest()) == params
