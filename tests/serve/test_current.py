"""The server follows the index: after `index update` it answers from the new generation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuralcodes.index.api import Index
from neuralcodes.index.builder import update_index

from .photos import id_of, photo

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402


@pytest.fixture
def client(real_index: Index) -> Iterator[TestClient]:
    with TestClient(create_app(real_index, reload_check_s=0)) as c:
        yield c


def _upload(client: TestClient, path: Path) -> dict:
    r = client.post("/api/search?k=3", files={"file": (path.name, path.read_bytes())})
    assert r.status_code == 200, r.text
    return r.json()


def test_after_an_update_the_server_answers_from_the_new_generation(
    client: TestClient, real_index: Index
) -> None:
    root = real_index.root
    gone, changed = id_of(real_index, "snow.gif"), id_of(real_index, "beach.jpg")
    assert gone in [h["id"] for h in client.get(f"/api/search/{changed}?k=10").json()["results"]]
    (root / "snow.gif").unlink()
    for seed, name in [(50, "new.png"), (51, "trips/new2.png")]:
        photo(seed, (100, 70), "RGB").save(root / name)
    photo(52, (120, 80), "RGB").save(root / "beach.jpg", format="JPEG")  # another picture
    update_index(real_index.index_dir, device="cpu", workers=1)

    info = client.get("/api/info").json()
    assert (info["images"], info["generation"]) == (7, "gen-000002")
    body = client.get(f"/api/search/{changed}?k=10").json()
    assert gone not in [h["id"] for h in body["results"]] and len(body["results"]) == 6
    assert body["generation"] == "gen-000002"
    assert client.get(f"/api/search/{gone}").status_code == 404
    assert client.get(f"/api/images/{gone}?thumb=1").status_code == 404
    for name in ["new.png", "trips/new2.png"]:
        hit = _upload(client, root / name)["results"][0]
        assert hit["path"] == name and hit["distance"] == pytest.approx(0.0, abs=2e-3)
        assert client.get(hit["thumbnail_url"]).status_code == 200
    hit = _upload(client, root / "beach.jpg")["results"][0]  # its new code, under its old id
    assert hit["id"] == changed and hit["distance"] == pytest.approx(0.0, abs=2e-3)
    assert client.get(f"/api/images/{changed}").content == (root / "beach.jpg").read_bytes()


def test_a_version_that_cannot_be_opened_leaves_the_server_on_the_current_one(
    client: TestClient, real_index: Index, caplog: pytest.LogCaptureFixture
) -> None:
    manifest = real_index.index_dir / "manifest.json"
    broken = {**json.loads(manifest.read_text()), "generation": "gen-000099"}
    manifest.write_text(json.dumps(broken))
    body = client.get(f"/api/search/{id_of(real_index, 'city.png')}?k=2").json()
    assert body["generation"] == "gen-000001" and len(body["results"]) == 2
    assert "cannot open the new version" in caplog.text
    assert "still serving gen-000001" in caplog.text


def test_the_manifest_is_looked_at_no_more_often_than_asked(real_index: Index) -> None:
    from neuralcodes.serve.current import CurrentIndex

    current = CurrentIndex(real_index, check_s=3600)
    (real_index.root / "snow.gif").unlink()
    update_index(real_index.index_dir, device="cpu", workers=1)
    assert current.get() is real_index  # not looked at yet
    current.check_s = 0
    newer = current.get()
    assert (newer.generation, len(newer)) == ("gen-000002", 5)
    assert current.get() is newer


def test_the_old_generation_is_freed_and_its_memory_given_back_after_a_swap(
    real_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neuralcodes.serve import current as current_mod

    released: list[bool] = []
    monkeypatch.setattr(current_mod, "release_memory", lambda: released.append(True) or True)
    monkeypatch.setattr(current_mod, "RELEASE_AFTER_S", 0.0)
    current = current_mod.CurrentIndex(real_index, check_s=0)
    (real_index.root / "snow.gif").unlink()
    update_index(real_index.index_dir, device="cpu", workers=1)
    newer = current.get()
    assert newer is not real_index and released == []  # requests on the old one may still run
    assert current.get() is newer and released == [True]  # then freed and trimmed, once
    assert current.get() is newer and released == [True]
