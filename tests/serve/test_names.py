"""File names that are not UTF-8 (legal on Linux) in the HTTP API: every answer is JSON, each path
given as text (``path``, U+FFFD for what is not UTF-8) and as its exact bytes (``path_b64``)."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.index.api import Index
from neuralcodes.index.manifest import ARTIFACT, FORMAT
from neuralcodes.index.store import write_generation

from ..images.helpers import encode
from .colours import FINGERPRINT, MeanColourEncoder, entry_of

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402

ROOT = b"ph\xf6tos"  # the photo folder's own name is Latin-1 too
NAMES = {0: (b"caf\xe9.png", (255, 0, 0)), 1: (b"new\nline\x1b[31m.png", (0, 255, 0)),
         2: ("été/ok.png".encode(), (0, 0, 255))}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    """Three solid colours under a photo folder and names that are not all UTF-8."""
    root = tmp_path / os.fsdecode(ROOT)
    entries = []
    for image_id, (name, rgb) in NAMES.items():
        path = root / os.fsdecode(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), rgb).save(path, format="PNG")
        entries.append(entry_of(image_id, path, os.fsdecode(name)))
    manifest = {"artifact": ARTIFACT, "format": FORMAT, **FINGERPRINT, "run_dir": "mean-colour",
                "photos_root": str(root), "pca": None, "dim": 3, "normalized": False,
                "backend": {"kind": "exact"}, "skipped": [], "excluded": [], "next_id": 3}
    vectors = np.array([rgb for _, rgb in NAMES.values()], np.float32) / 255  # (3, 3)
    write_generation(tmp_path / "index", manifest, entries, vectors, {})
    with Index.open(tmp_path / "index", encoder=MeanColourEncoder()) as opened:  # type: ignore[arg-type]
        yield opened


@pytest.fixture
def client(index: Index) -> Iterator[TestClient]:
    with TestClient(create_app(index)) as c:
        yield c


def _bytes(b64: str) -> bytes:
    return base64.b64decode(b64, validate=True)


def test_results_give_each_path_as_text_and_as_its_exact_bytes(
    client: TestClient, index: Index
) -> None:
    r = client.post("/api/search?k=3", content=encode(Image.new("RGB", (4, 4), (250, 0, 0))),
                    headers={"content-type": "image/png"})
    assert r.status_code == 200
    body = r.json()
    hits = body["results"]
    assert [h["id"] for h in hits] == [0, 1, 2]
    assert [h["path"] for h in hits] == ["caf\ufffd.png", "new\nline\x1b[31m.png", "été/ok.png"]
    assert [_bytes(h["path_b64"]) for h in hits] == [name for name, _ in NAMES.values()]
    assert body["photos_root"].endswith("/ph\ufffdtos")
    assert _bytes(body["photos_root_b64"]) == os.fsencode(index.root)


def test_search_by_id_names_its_query_both_ways(client: TestClient) -> None:
    r = client.get("/api/search/0?k=2")
    assert r.status_code == 200
    query = r.json()["query"]
    assert (query["path"], _bytes(query["path_b64"])) == ("caf\ufffd.png", b"caf\xe9.png")


def test_images_info_and_refusals_with_such_names(client: TestClient, index: Index) -> None:
    for image_id in (0, 1):
        assert client.get(f"/api/images/{image_id}?thumb=1").status_code == 200
        assert client.get(f"/api/images/{image_id}").content[:4] == b"\x89PNG"
    info = client.get("/api/info")
    assert info.status_code == 200 and info.json()["photos_root"].endswith("/ph\ufffdtos")
    (index.root / os.fsdecode(b"caf\xe9.png")).unlink()
    r = client.get("/api/images/0?thumb=1")
    assert r.status_code == 404
    assert r.json() == {"detail": "the file of id 0 (caf\\xe9.png) no longer exists"}
    Image.new("RGB", (40, 30), (1, 2, 3)).save(index.root / os.fsdecode(NAMES[1][0]), "PNG")
    r = client.get("/api/images/1")
    assert r.status_code == 404
    assert "(new\\nline\\x1b[31m.png) is no longer the one" in r.json()["detail"]


def test_the_openapi_schema_documents_both_forms(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    hit, response = schemas["Hit"]["properties"], schemas["SearchResponse"]["properties"]
    assert "base64" in hit["path_b64"]["description"] and "U+FFFD" in hit["path"]["description"]
    assert "base64" in response["photos_root_b64"]["description"]
    assert {"path", "path_b64"} <= set(schemas["Hit"]["required"])
