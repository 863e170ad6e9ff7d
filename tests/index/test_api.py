from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from neuralcodes.errors import ConfigError
from neuralcodes.images import load_image
from neuralcodes.index import Encoder, Index, build_index


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


def test_many_queries_at_once_give_faiss_shaped_arrays(index: Index, photos: Path) -> None:
    queries = [photos / "a" / "img00.jpg", photos / "b" / "img13.webp", photos / "a" / "img01.png"]
    dist, ids = index.search([str(q) for q in queries], k=4)
    assert dist.shape == ids.shape == (3, 4)
    assert dist.dtype == np.float32 and ids.dtype == np.int64
    for row, query in enumerate(queries):  # the same as one query at a time
        one = index.search(query, k=4)
        assert ids[row].tolist() == one.ids.tolist()
        np.testing.assert_allclose(dist[row], one.distances, atol=1e-3)  # ~0: float error
    assert [paths[0] for paths in index.paths_of(ids)] == [str(q.resolve()) for q in queries]
    mixed = index.search((Image.open(queries[0]), queries[1].read_bytes()), k=2)[1]
    np.testing.assert_array_equal(mixed, ids[:2, :2])
    empty_d, empty_i = index.search([], k=4)
    assert empty_d.shape == empty_i.shape == (0, 4)


def test_a_search_reports_its_timings_and_generation(index: Index, photos: Path) -> None:
    result = index.search(photos / "a" / "img00.jpg", k=3)
    assert set(result.timings) == {"decode_ms", "encode_ms", "search_ms"}
    assert all(v > 0 for v in result.timings.values())
    assert result.generation == index.generation == "gen-000001"
    assert result.root == str(index.root)
    by_id = index.search_by_id(index.entries[0].id, k=3)
    assert set(by_id.timings) == {"search_ms"} and by_id.generation == "gen-000001"


def test_reprs_say_what_the_index_and_the_result_hold(index: Index, photos: Path) -> None:
    text = repr(index)
    for part in ["20 images", "gen-000001", "L6 (128-d", "exact search", str(index.root)]:
        assert part in text, part
    result = index.search(photos / "a" / "img00.jpg", k=2)
    lines = repr(result).splitlines()
    assert lines[0].startswith("SearchResult: 2 images from gen-000001 (decode ")
    assert lines[1].split()[:2] == ["1", f"{result.distances[0]:.4f}"]
    assert lines[1].endswith("a/img00.jpg")
    html = result._repr_html_()
    assert html.count('<img src="data:image/jpeg;base64,') == 2 and "a/img00.jpg" in html


def test_reopen_follows_the_manifest(index: Index, photos: Path, run_dir: Path,
                                     new_photo: Any) -> None:
    from neuralcodes.index import update_index

    assert index.reopen() is index
    new_photo(photos / "a" / "new.png", seed=77, fmt="PNG")
    update_index(index.index_dir, run_dir=run_dir, device="cpu", workers=1)
    newer = index.reopen()
    assert (newer.generation, len(newer), len(index)) == ("gen-000002", 21, 20)
    assert newer.encoder is index.encoder  # the model is not loaded again
    assert newer.search(photos / "a" / "new.png", k=1).paths == [str(photos / "a" / "new.png")]
