from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.errors import ConfigError
from neuralcodes.index import Encoder, Index, build_index
from neuralcodes.index.images import load_image


@pytest.fixture
def index(photos: Path, run_dir: Path, tmp_path: Path) -> Index:
    build_index(photos, tmp_path / "idx", run_dir=run_dir, device="cpu", workers=1)
    return Index.open(tmp_path / "idx", device="cpu")


def _brute_force(index: Index, query: np.ndarray, k: int) -> tuple[np.ndarray, list[str]]:
    """Reference: every stored file encoded afresh, all distances computed, sorted."""
    enc = Encoder.from_run(index.encoder.run_dir, device="cpu")
    paths = sorted(str(p) for p in (index.root.rglob("*")) if p.suffix.lower() in
                   {".jpg", ".jpeg", ".png", ".webp", ".bmp"} and ".hidden" not in p.parts)
    codes = enc.encode(np.stack([load_image(p) for p in paths]))  # (N, D)
    d = np.linalg.norm(codes - enc.encode(query[None]), axis=1)  # (N,)
    order = np.argsort(d, kind="stable")[:k]
    return d[order], [paths[i] for i in order]


def test_search_matches_brute_force(index: Index, photos: Path) -> None:
    query_path = photos / "b" / "img13.webp"
    result = index.search(query_path, k=6)
    dist, paths = _brute_force(index, load_image(query_path), 6)
    assert result.paths == paths
    np.testing.assert_allclose(result.distances, dist, atol=1e-4)
    assert result.paths[0] == str(query_path.resolve()) and result.distances[0] < 1e-3
    assert [index.path_of(int(i)) for i in result.ids] == result.paths


def test_a_new_image_of_any_size_and_mode(index: Index, tmp_path: Path) -> None:
    img = Image.effect_noise((333, 91), 40).convert("LA")  # odd size, grey + alpha
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    from_bytes = index.search(buf.getvalue(), k=4)
    dist, paths = _brute_force(index, load_image(img), 4)
    assert from_bytes.paths == paths
    np.testing.assert_allclose(from_bytes.distances, dist, atol=1e-4)
    for other in (img, np.asarray(img.convert("RGB"))):
        assert index.search(other, k=4).paths == paths


def test_search_many_images_and_codes(index: Index, photos: Path) -> None:
    images = np.stack([load_image(photos / "a" / f"img{i:02d}.jpg") for i in (0, 5, 10)])
    dist, ids = index.search_many(images, k=3)
    assert dist.shape == ids.shape == (3, 3)
    codes = index.embed(images)
    dist2, ids2 = index.search_many(codes, k=3)
    np.testing.assert_array_equal(ids, ids2)
    assert [index.path_of(int(i)).endswith(f"img{n:02d}.jpg") for i, n in
            zip(ids[:, 0], (0, 5, 10), strict=True)] == [True] * 3
    with pytest.raises(ConfigError, match="queries must be"):
        index.search_many(np.zeros((2, 7), np.float32), k=3)


def test_search_by_id_leaves_the_image_out(index: Index) -> None:
    first = index.entries[4].id
    result = index.search_by_id(first, k=5)
    assert len(result.ids) == 5 and first not in result.ids.tolist()
    ref = index.search_many(index.vectors[4:5], k=6)[1][0].tolist()
    assert result.ids.tolist() == [i for i in ref if i != first][:5]
    with pytest.raises(ConfigError, match="no image with id 999"):
        index.search_by_id(999)


def test_len_info_and_k_larger_than_the_index(index: Index) -> None:
    assert len(index) == 20
    info = index.info()
    assert info["count"] == 20 and info["layer"] == "L6" and info["dim"] == 128
    assert info["backend"] == {"kind": "exact"} and info["pca"] is None
    assert len(index.search_by_id(index.entries[0].id, k=100).ids) == 19
    with pytest.raises(ConfigError, match="k must be at least 1"):
        index.search_vectors(index.vectors[:1], 0)


def test_result_as_json_rows(index: Index, photos: Path) -> None:
    rows = index.search(photos / "a" / "img00.jpg", k=2).to_list()
    assert [r["rank"] for r in rows] == [1, 2] and rows[0]["path"].endswith("img00.jpg")
    assert isinstance(rows[0]["id"], int) and isinstance(rows[0]["distance"], float)


def test_search_refuses_a_bomb_before_decoding(index: Index) -> None:
    from neuralcodes.errors import DataError

    buf = io.BytesIO()
    Image.new("L", (400, 400)).save(buf, format="PNG")
    with pytest.raises(DataError, match="decompression bomb"):
        index.search(buf.getvalue()[:80], max_pixels=10_000)



def test_query_expansion_searches_again_with_the_expanded_query(index: Index) -> None:
    """qe=n: a second search with the query averaged with its n first results."""
    from neuralcodes.postprocess.query_expansion import expand_queries

    q = np.asarray(index.vectors[:2], np.float32)  # (2, D)
    _, rows = index.backend.search(q, 3)  # (2, 3) rows of the stored vectors
    expanded = expand_queries(q, np.asarray(index.vectors), rows, n=3)
    want = index.search_vectors(expanded, 5)
    got = index.search_vectors(q, 5, qe=3)
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    assert not np.array_equal(expanded, q)  # the expansion changed the queries
