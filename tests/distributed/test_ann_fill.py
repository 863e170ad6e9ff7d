"""An approximate backend trained on a sample and filled shard by shard equals the one built
from all vectors at once (IVF-PQ: same training sample, same lists)."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.distributed.ann_fill import fill_backend
from neuralcodes.index.backends import build_backend

pytest.importorskip("faiss")


def test_ivfpq_filled_per_shard_equals_the_one_shot_build() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1500, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    bounds = [(a, min(a + 400, 1500)) for a in range(0, 1500, 400)]
    streamed = fill_backend("ivfpq", x, bounds)
    whole = build_backend("ivfpq", x)
    assert streamed.params == whole.params and streamed.params["nlist"] > 1
    d1, i1 = streamed.search(x[:50], 10)
    d2, i2 = whole.search(x[:50], 10)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_allclose(d1, d2, rtol=1e-6)


def test_small_collections_get_a_flat_index() -> None:
    x = np.eye(8, dtype=np.float32)
    backend = fill_backend("hnsw", x, [(0, 5), (5, 8)])
    _, rows = backend.search(x, 1)
    assert rows[:, 0].tolist() == list(range(8))
    assert "flat" in backend.params["structure"]
