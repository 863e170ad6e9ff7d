"""Uploads are decoded a few at a time, on threads of their own: searches by id never wait."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralcodes.encoder import Encoder  # the encoder Index queries through
from neuralcodes.index.api import Index

from .live import live_server
from .photos import id_of

pytest.importorskip("uvicorn", reason="needs the serve extra: pip install 'neuralcodes[serve]'")

from neuralcodes.serve import create_app  # noqa: E402


def _post(url: str, data: bytes, out: list[Any]) -> None:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "image/jpeg"})
    with urllib.request.urlopen(request, timeout=60) as r:
        out.append(r.status)


def test_a_search_by_id_does_not_wait_behind_an_upload(
    real_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    encoding, release = threading.Event(), threading.Event()
    original = Encoder.encode

    def held(self: Encoder, images: np.ndarray) -> np.ndarray:
        encoding.set()
        release.wait(30)  # an upload that takes long to decode and encode
        return original(self, images)

    monkeypatch.setattr(Encoder, "encode", held)
    statuses: list[Any] = []
    data = (real_index.root / "beach.jpg").read_bytes()
    with live_server(create_app(real_index)) as url:
        upload = threading.Thread(target=_post, args=(f"{url}/api/search", data, statuses))
        upload.start()
        assert encoding.wait(30)
        start = time.monotonic()
        try:
            with urllib.request.urlopen(f"{url}/api/search/{id_of(real_index, 'city.png')}?k=3",
                                        timeout=10) as r:
                assert r.status == 200
            waited = time.monotonic() - start
        finally:
            release.set()
            upload.join(60)
    assert waited < 5 and statuses == [200]


def test_no_more_than_the_pool_s_workers_decode_at_once(
    real_index: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    import neuralcodes.serve.service as service
    from neuralcodes.serve.decoding import decode_reduced

    lock, running, most = threading.Lock(), [0], [0]

    def counted(data: bytes, size: int, *, max_pixels: int) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.2)
        try:
            return decode_reduced(data, size, max_pixels=max_pixels)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(service, "decode_reduced", counted)
    data = (real_index.root / "beach.jpg").read_bytes()
    statuses: list[Any] = []
    with live_server(create_app(real_index)) as url:
        threads = [threading.Thread(target=_post, args=(f"{url}/api/search", data, statuses))
                   for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert statuses == [200] * 6 and most[0] == service.DECODE_WORKERS == 2


def test_paths_are_relative_and_the_photo_folder_is_named_once(real_index: Index) -> None:
    from neuralcodes.serve.service import SearchService

    body = SearchService(real_index).search_id(id_of(real_index, "trips/forest.webp"), 10)
    assert body["photos_root"] == str(real_index.root) == str(Path(body["photos_root"]))
    assert body["query"]["path"] == "trips/forest.webp"
    assert all(not Path(h["path"]).is_absolute() for h in body["results"])
    assert {h["path"] for h in body["results"]} < {e.path for e in real_index.entries}
