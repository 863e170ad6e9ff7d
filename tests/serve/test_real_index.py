"""The API over a real index: a few generated photos, indexed with a tiny random network."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from neuralcodes.index.api import Index

from ..images.helpers import png_declaring
from .photos import PHOTOS, build_real_index, photo

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    return build_real_index(tmp_path_factory.mktemp("serve-real"))


@pytest.fixture(scope="module")
def client(index: Index) -> Iterator[TestClient]:
    with TestClient(create_app(index)) as c:
        yield c


def id_of(index: Any, rel: str) -> int:
    return next(i for i in range(100) if _path(index, i).endswith(rel))


def _path(index: Any, i: int) -> str:
    try:
        return str(index.path_of(i))
    except Exception:
        return ""


def test_info_and_health(client: TestClient, index: Any) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "images": len(PHOTOS)}
    info = client.get("/api/info").json()
    assert info["count"] == info["images"] == len(PHOTOS)
    assert info["layer"] == "L6" and info["photos_root"] == str(index.root)


def test_upload_of_an_indexed_file_finds_it_first(client: TestClient, index: Any) -> None:
    for rel, *_ in PHOTOS:
        data = (index.root / rel).read_bytes()
        r = client.post("/api/search?k=4", files={"file": (Path(rel).name, data)})
        assert r.status_code == 200, r.text
        hits = r.json()["results"]
        # ~0: the exact backend's |q|^2 + |x|^2 - 2 q.x in float32 leaves up to ~5e-4
        assert hits[0]["path"] == rel and hits[0]["distance"] == pytest.approx(0.0, abs=2e-3)
        expected = index.search(data, k=4)  # the library's own answer
        assert [h["id"] for h in hits] == [int(i) for i in expected.ids]
        np.testing.assert_allclose([h["distance"] for h in hits], expected.distances, atol=1e-6)
        timings = r.json()["timings"]
        assert all(timings[f"{p}_ms"] > 0 for p in ("decode", "encode", "search"))


def test_query_of_any_size_and_mode(client: TestClient) -> None:
    for mode, size in [("1", (1, 1)), ("L", (2000, 3)), ("RGBA", (7, 300)), ("I;16", (40, 30)),
                       ("P", (33, 33))]:
        buf = io.BytesIO()
        photo(9, size, "RGB").convert(mode).save(buf, format="PNG")
        r = client.post("/api/search?k=3", files={"file": ("q.png", buf.getvalue())})
        assert r.status_code == 200, (mode, r.text)
        assert len(r.json()["results"]) == 3


def test_search_by_id_matches_the_library(client: TestClient, index: Any) -> None:
    image_id = id_of(index, "trips/forest.webp")
    r = client.get(f"/api/search/{image_id}?k=10")
    assert r.status_code == 200
    body = r.json()
    expected = index.search_by_id(image_id, k=10)
    assert [h["id"] for h in body["results"]] == [int(i) for i in expected.ids]
    assert image_id not in [h["id"] for h in body["results"]]
    assert len(body["results"]) == len(PHOTOS) - 1
    assert body["query"]["path"] == "trips/forest.webp"


def test_images_and_thumbnails(client: TestClient, index: Any) -> None:
    for rel, _, size, _ in PHOTOS:
        image_id = id_of(index, rel)
        assert client.get(f"/api/images/{image_id}").content == (index.root / rel).read_bytes()
        thumb = client.get(f"/api/images/{image_id}?thumb=1")
        with Image.open(io.BytesIO(thumb.content)) as im:
            assert (im.format, im.mode, im.size) == ("JPEG", "RGB", size)
    unknown = max(id_of(index, rel) for rel, *_ in PHOTOS) + 1
    assert client.get(f"/api/images/{unknown}").status_code == 404
    assert client.get(f"/api/search/{unknown}").status_code == 404


def test_bad_uploads_then_a_good_one(client: TestClient, index: Any) -> None:
    good = (index.root / "beach.jpg").read_bytes()
    cases = [(b"not an image at all", 415), (good[: len(good) // 3], 400),
             (png_declaring(30000, 30000), 413), (b"\xff" * (21 * 1024 * 1024), 413)]
    for data, status in cases:
        r = client.post("/api/search", files={"file": ("bad.jpg", data)})
        assert r.status_code == status, (status, r.text)
        assert r.json()["detail"]
    r = client.post("/api/search?k=1", files={"file": ("beach.jpg", good)})
    assert r.status_code == 200 and r.json()["results"][0]["path"] == "beach.jpg"
