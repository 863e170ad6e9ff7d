"""Only the file that was indexed is served, and only once it decoded as an image."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from neuralcodes.index.api import Index

from .photos import id_of, photo

pytest.importorskip("fastapi", reason="needs the serve extra: pip install 'neuralcodes[serve]'")
from fastapi.testclient import TestClient  # noqa: E402

from neuralcodes.serve import create_app  # noqa: E402

SECRET = b"root:x:0:0:root:/root:/bin/bash\nsecret-token-1234\n"


@pytest.fixture
def client(real_index: Index) -> Iterator[TestClient]:
    with TestClient(create_app(real_index, reload_check_s=0)) as c:
        yield c


def _refused(client: TestClient, image_id: int, reason: str) -> None:
    for url in [f"/api/images/{image_id}", f"/api/images/{image_id}?thumb=1"]:
        r = client.get(url)
        assert r.status_code == 404, (url, r.status_code)
        assert reason in r.json()["detail"], r.json()["detail"]
        assert SECRET not in r.content


def test_a_photo_replaced_by_a_link_to_a_secret_file_is_not_served(
    client: TestClient, real_index: Index, tmp_path: Path
) -> None:
    secret = tmp_path / "shadow"
    secret.write_bytes(SECRET)
    beach = real_index.root / "beach.jpg"
    beach.unlink()
    beach.symlink_to(secret)
    _refused(client, id_of(real_index, "beach.jpg"), "resolves outside the indexed folder")
    beach.unlink()  # even a link to the very image that was indexed, kept outside the folder
    outside = tmp_path / "beach-copy.jpg"
    photo(0, (120, 80), "RGB").save(outside, format="JPEG")
    beach.symlink_to(outside)
    _refused(client, id_of(real_index, "beach.jpg"), "resolves outside the indexed folder")


def test_a_link_that_stays_in_the_folder_to_the_indexed_content_is_served(
    client: TestClient, real_index: Index
) -> None:
    night = real_index.root / "trips" / "night.bmp"
    kept = real_index.root / ".originals" / "night.bmp"
    kept.parent.mkdir()
    shutil.move(night, kept)
    night.symlink_to(kept)
    r = client.get(f"/api/images/{id_of(real_index, 'trips/night.bmp')}")
    assert r.status_code == 200 and r.content == kept.read_bytes()
    assert r.headers["content-type"] == "image/bmp"


def test_a_changed_photo_is_served_again_only_after_an_update(
    client: TestClient, real_index: Index
) -> None:
    city = real_index.root / "city.png"
    image_id = id_of(real_index, "city.png")
    original = city.read_bytes()
    os.utime(city, ns=(1, 2))  # touched: the same content is still served
    assert client.get(f"/api/images/{image_id}").content == original
    photo(99, (64, 64), "RGBA").save(city, format="PNG")
    _refused(client, image_id, "no longer the one that was indexed")


def test_bytes_that_are_not_an_image_are_never_streamed(
    client: TestClient, real_index: Index
) -> None:
    """Another content with the indexed size and modification time (say, forged)."""
    path = real_index.root / "trips" / "forest.webp"
    image_id = id_of(real_index, "trips/forest.webp")
    entry = next(e for e in real_index.entries if e.id == image_id)
    path.write_bytes((SECRET * (entry.size // len(SECRET) + 1))[: entry.size])
    os.utime(path, ns=(entry.mtime_ns, entry.mtime_ns))
    r = client.get(f"/api/images/{image_id}")
    assert r.status_code == 404 and "no longer the one that was indexed" in r.json()["detail"]
    r = client.get(f"/api/images/{image_id}?thumb=1")
    assert r.status_code == 404 and "does not decode as an image" in r.json()["detail"]
    assert SECRET[:20] not in r.content


def test_a_fifo_in_place_of_a_photo_is_refused_without_waiting(
    client: TestClient, real_index: Index
) -> None:
    gif = real_index.root / "snow.gif"
    gif.unlink()
    os.mkfifo(gif)
    _refused(client, id_of(real_index, "snow.gif"), "not a regular file")


def test_a_folder_in_place_of_a_photo_is_refused_not_a_server_error(
    client: TestClient, real_index: Index
) -> None:
    """``os.fdopen`` of a folder raised IsADirectoryError: a 500."""
    gif = real_index.root / "snow.gif"
    gif.unlink()
    gif.mkdir()
    _refused(client, id_of(real_index, "snow.gif"), "not a regular file")


def test_a_format_browsers_cannot_show_is_re_encoded(client: TestClient,
                                                     real_index: Index) -> None:
    tiff = real_index.root / "scan.tif"
    photo(5, (60, 40), "RGB").save(tiff, format="TIFF")
    from neuralcodes.index.builder import update_index

    update_index(real_index.index_dir, device="cpu", workers=1)
    r = client.get(f"/api/images/{id_of(real_index.reopen(), 'scan.tif')}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(r.content)) as im:
        assert (im.format, im.size) == ("JPEG", (60, 40))
