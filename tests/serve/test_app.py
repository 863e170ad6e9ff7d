"""The HTTP API over a real index whose network is replaced by mean colours (see colours.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image

from neuralcodes.index.api import Index

from ..images.helpers import encode, png_declaring
from .colours import COLOURS, entry_of

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402


@pytest.fixture
def client(colour_index: Index) -> Iterator[TestClient]:
    app = create_app(colour_index, max_upload_bytes=100_000, max_pixels=1_000_000)
    with TestClient(app) as c:
        yield c


def upload(client: TestClient, data: bytes, k: int = 3, name: str = "q.png") -> Any:
    return client.post(f"/api/search?k={k}", files={"file": (name, data, "image/png")})


def test_health_and_info(client: TestClient, colour_index: Index) -> None:
    assert client.get("/api/health").json() == {"status": "ok", "images": 6}
    info = client.get("/api/info").json()
    assert info["photos_root"] == str(colour_index.root)
    assert (info["layer"], info["dim"], info["images"]) == ("L6", 3, 6)
    assert info["server"] == {"max_upload_bytes": 100_000, "max_pixels": 1_000_000, "max_k": 100}


def test_upload_finds_the_nearest_colours(client: TestClient) -> None:
    r = upload(client, encode(Image.new("RGB", (50, 20), (230, 0, 0))), k=3)
    assert r.status_code == 200
    body = r.json()
    assert [h["id"] for h in body["results"]] == [0, 1, 5]  # red, dark red, grey
    assert [h["rank"] for h in body["results"]] == [1, 2, 3]
    assert body["results"][0]["distance"] == pytest.approx(25 / 255, abs=1e-6)
    assert body["results"][1]["distance"] == pytest.approx(102 / 255, abs=1e-6)
    assert body["results"][0]["path"] == "reds/red.png"
    assert body["results"][0]["thumbnail_url"] == "/api/images/0?thumb=1"
    assert body["query"] == {"format": "PNG", "width": 50, "height": 20, "mode": "RGB",
                             "bytes": len(encode(Image.new("RGB", (50, 20), (230, 0, 0))))}
    timings = body["timings"]
    assert set(timings) == {"decode_ms", "encode_ms", "search_ms", "total_ms"}
    parts = timings["decode_ms"] + timings["encode_ms"] + timings["search_ms"]
    assert 0 < parts <= timings["total_ms"]


def test_upload_of_an_indexed_colour_and_what_a_search_by_id_times(client: TestClient) -> None:
    r = upload(client, encode(Image.new("RGB", (5, 5), (0, 0, 255))))
    assert r.json()["results"][0] == {
        "rank": 1, "id": 4, "path": "blue.webp", "path_b64": "Ymx1ZS53ZWJw", "distance": 0.0,
        "thumbnail_url": "/api/images/4?thumb=1", "image_url": "/api/images/4"}
    timings = client.get("/api/search/4?k=2").json()["timings"]
    assert (timings["decode_ms"], timings["encode_ms"]) == (None,) * 2  # nothing decoded
    assert 0 < timings["search_ms"] <= timings["total_ms"]


def set_entry(index: Index, image_id: int, file: Any, stored: str) -> None:
    """Make the index (made for one test) record ``file``, stored as ``stored``, for the id."""
    row = next(i for i, e in enumerate(index.entries) if e.id == image_id)
    index.entries[row] = entry_of(image_id, file, stored)


def test_upload_as_raw_body_and_k_is_clamped_to_the_index(client: TestClient) -> None:
    data = encode(Image.new("RGB", (8, 8), (0, 0, 250)), "JPEG")
    r = client.post("/api/search?k=50", content=data, headers={"Content-Type": "image/jpeg"})
    assert r.status_code == 200
    ids = [h["id"] for h in r.json()["results"]]
    assert ids[0] == 4 and sorted(ids) == sorted(COLOURS)


def test_query_of_any_mode_and_size_works(client: TestClient) -> None:
    for mode, size in [("1", (1, 1)), ("L", (3000, 2)), ("LA", (9, 9)), ("P", (5, 7)),
                       ("RGBA", (64, 64)), ("I;16", (20, 10)), ("I", (4, 4)), ("F", (6, 6)),
                       ("CMYK", (5, 5))]:
        fmt = "TIFF" if mode in ("I", "F", "CMYK") else "PNG"
        r = upload(client, encode(Image.new(mode, size), fmt))
        assert r.status_code == 200, (mode, r.text)
        assert len(r.json()["results"]) == 3


def test_bad_k_is_422(client: TestClient) -> None:
    data = encode(Image.new("RGB", (8, 8)))
    assert upload(client, data, k=0).status_code == 422
    assert upload(client, data, k=101).status_code == 422


def test_search_by_id(client: TestClient) -> None:
    r = client.get("/api/search/7?k=3")
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == {"id": 7, "path": "yellow.gif", "path_b64": "eWVsbG93LmdpZg==",
                             "thumbnail_url": "/api/images/7?thumb=1"}
    assert [h["id"] for h in body["results"]] == [5, 0, 2]  # grey, then red and green (a tie)
    grey = 128 / 255
    assert body["results"][0]["distance"] == pytest.approx(
        (2 * (1 - grey) ** 2 + grey**2) ** 0.5, abs=1e-6)
    assert body["results"][1]["distance"] == pytest.approx(1.0, abs=1e-6)
    assert body["results"][2]["distance"] == pytest.approx(1.0, abs=1e-6)


def test_unknown_and_negative_ids(client: TestClient) -> None:
    for url in ["/api/search/3", "/api/images/6", "/api/images/6?thumb=1", "/api/images/99"]:
        r = client.get(url)
        assert r.status_code == 404, url
        assert "no indexed image has id" in r.json()["detail"]
    assert client.get("/api/search/-1").status_code == 422
    assert client.get("/api/images/-1").status_code == 422


def test_image_and_thumbnail(client: TestClient, colour_index: Index) -> None:
    r = client.get("/api/images/1")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"
    assert r.content == (colour_index.root / "reds/dark red.jpg").read_bytes()
    assert client.get("/api/images/4").headers["content-type"] == "image/webp"
    thumb = client.get("/api/images/7?thumb=1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(thumb.content)) as im:
        assert (im.format, im.size) == ("JPEG", (40, 30))  # never enlarged
        pixels = np.asarray(im.convert("RGB"), dtype=np.int64)  # (30, 40, 3)
        assert np.abs(pixels - [255, 255, 0]).max() < 16  # yellow, within JPEG error


def test_deleted_file_is_404(client: TestClient, colour_index: Index) -> None:
    (colour_index.root / "green.png").unlink()
    for url in ["/api/images/2", "/api/images/2?thumb=1"]:
        r = client.get(url)
        assert r.status_code == 404
        assert "no longer exists" in r.json()["detail"]


def test_not_an_image_is_415(client: TestClient) -> None:
    r = upload(client, b"just some text, not a picture", name="notes.txt")
    assert r.status_code == 415
    assert "not an image" in r.json()["detail"]


def test_truncated_image_is_400(client: TestClient) -> None:
    data = encode(Image.effect_noise((200, 200), 50).convert("RGB"))
    r = upload(client, data[: len(data) // 2])
    assert r.status_code == 400
    assert "cannot decode the image" in r.json()["detail"]


def test_too_large_upload_is_413(client: TestClient) -> None:
    big = b"\x89PNG" + b"\x00" * 100_001
    r = upload(client, big)
    assert r.status_code == 413
    assert "exceeds the limit of 0.1 MiB" in r.json()["detail"]
    r = client.post("/api/search", content=big, headers={"Content-Type": "image/png"})
    assert r.status_code == 413


def test_body_without_content_length_is_cut_at_the_limit(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # the test client buffers them: see test_live.py
        for _ in range(1000):
            yield b"\x00" * 10_000

    r = client.post("/api/search", content=chunks(), headers={"Content-Type": "image/png"})
    assert r.status_code == 413
    assert "content-length" not in {k.lower() for k in r.request.headers}


def test_decompression_bomb_is_refused_without_decoding(
    client: TestClient, colour_index: Index
) -> None:
    for width, height in [(30000, 30000), (2000, 1000)]:  # Pillow's limit, then the server's
        r = upload(client, png_declaring(width, height))
        assert r.status_code == 413
        assert "decompression bomb" in r.json()["detail"]
    assert colour_index.encoder.queries == []  # type: ignore[attr-defined]  # never encoded


def test_form_without_file_and_malformed_form_are_400(client: TestClient) -> None:
    r = client.post("/api/search", files={"note": (None, "no file here")})
    assert r.status_code == 400 and "no file in the form" in r.json()["detail"]
    r = client.post("/api/search", data={"note": "a url-encoded form is no image"})
    assert r.status_code == 415
    r = client.post("/api/search", content=b"--x\r\nbroken",
                    headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 400
    r = client.post("/api/search", content=b"", headers={"Content-Type": "image/png"})
    assert r.status_code == 400 and "empty upload" in r.json()["detail"]


def test_server_keeps_serving_after_bad_uploads(client: TestClient) -> None:
    upload(client, png_declaring(30000, 30000))
    upload(client, b"garbage")
    upload(client, b"\x00" * 200_000)
    assert client.get("/api/health").status_code == 200
    r = upload(client, encode(Image.new("RGB", (8, 8), (0, 250, 0))))
    assert r.status_code == 200 and r.json()["results"][0]["id"] == 2


def test_only_indexed_files_are_served(client: TestClient, colour_index: Index) -> None:
    secret = colour_index.root.parent / "secret.txt"
    secret.write_text("do not serve me")
    for url in ["/api/images/..%2Fsecret.txt", "/api/images/../secret.txt",
                "/api/images/%2E%2E/secret.txt", "/static/..%2F..%2Fsecret.txt",
                "/static/../app.py", "/static/__init__.py", "/api/images/0/../../secret.txt"]:
        r = client.get(url)
        assert r.status_code in (404, 422), url
        assert b"do not serve me" not in r.content


def test_indexed_file_that_is_not_an_image_is_refused(
    client: TestClient, colour_index: Index
) -> None:
    (colour_index.root.parent / "secret.txt").write_text("do not serve me")
    set_entry(colour_index, 5, colour_index.root.parent / "secret.txt", "../secret.txt")
    for url in ["/api/images/5", "/api/images/5?thumb=1"]:
        r = client.get(url)
        assert r.status_code == 404 and "is not an image file" in r.json()["detail"]
        assert b"do not serve me" not in r.content


def test_file_added_from_outside_the_folder_is_served_with_its_absolute_path(
    client: TestClient, colour_index: Index
) -> None:
    outside = colour_index.root.parent / "elsewhere" / "blue.png"
    outside.parent.mkdir()
    Image.new("RGB", (4, 4), (0, 0, 255)).save(outside)
    set_entry(colour_index, 4, outside, str(outside))
    assert client.get("/api/images/4").content == outside.read_bytes()
    hits = client.get("/api/search/5?k=6").json()["results"]
    assert str(outside) in [h["path"] for h in hits]


def test_openapi_and_offline_pages(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/api/health", "/api/info", "/api/search", "/api/search/{image_id}",
            "/api/images/{image_id}"} <= set(spec["paths"])
    body = spec["paths"]["/api/search"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body
    for url in ["/", "/docs", "/static/app.js", "/static/style.css", "/static/docs.js"]:
        r = client.get(url)
        assert r.status_code == 200, url
        assert "http://" not in r.text and "https://" not in r.text, url  # nothing from a CDN
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/redoc").status_code == 404
    assert 'id="file-input"' in client.get("/").text


def test_uploads_are_served_again_after_a_restart_of_the_app(colour_index: Index) -> None:
    app = create_app(colour_index)
    for _ in range(2):  # the lifespan's end stops the decoding threads; the next start has them
        with TestClient(app) as c:
            r = upload(c, encode(Image.new("RGB", (8, 8), (0, 250, 0))))
            assert r.status_code == 200 and r.json()["results"][0]["id"] == 2
