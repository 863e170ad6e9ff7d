"""The server over an index built with a pretrained network (a tiny random ``hf:/folder``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodes.index.api import Index
from neuralcodes.index.builder import build_index

from .photos import PHOTOS, photo

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402


def test_an_upload_is_read_by_the_networks_own_preprocessing(hf_folder: Path,
                                                              tmp_path: Path) -> None:
    for seed, (rel, fmt, size, mode) in enumerate(PHOTOS):
        (tmp_path / "photos" / rel).parent.mkdir(parents=True, exist_ok=True)
        photo(seed, size, mode).save(tmp_path / "photos" / rel, format=fmt)
    build_index(tmp_path / "photos", tmp_path / "index", model=f"hf:{hf_folder}", workers=1,
                device="cpu")
    index = Index.open(tmp_path / "index", device="cpu")
    assert index.image_policy.fit == "shorter-side-crop" and index.image_policy.resize == 36
    with TestClient(create_app(index)) as client:
        data = (tmp_path / "photos" / "beach.jpg").read_bytes()
        r = client.post("/api/search?k=3", files={"file": ("q.jpg", data, "image/jpeg")})
        assert r.status_code == 200 and r.json()["results"][0]["path"] == "beach.jpg"
        info = client.get("/api/info").json()
        assert (info["kind"], info["model_name"], info["layer"]) == ("hf", "dinov2", "cls")
        assert info["model"] == f"hf:{hf_folder.resolve()}"
        assert info["preprocess"]["resize_to"] == 36
