from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuralcodes.data.download import download, ensure_tiny_imagenet, extract_zip
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.errors import DataError
from neuralcodes.progress import Recorder

from ..file_server import FileServer, serve_files
from .helpers import zip_folder


@pytest.fixture()
def server() -> Iterator[FileServer]:
    with serve_files() as files:
        yield files


PAYLOAD = bytes(range(256)) * 1000  # 256,000 bytes
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


def test_full_download_with_checksum(server: FileServer, tmp_path: Path) -> None:
    server.files["/f.bin"] = PAYLOAD
    dest = download(server.url + "/f.bin", tmp_path / "f.bin", sha256=DIGEST, chunk=10_000)
    assert dest.read_bytes() == PAYLOAD and server.ranges == [None]
    assert not (tmp_path / "f.bin.part").exists()
    assert (tmp_path / "f.bin.sha256").read_text() == f"{DIGEST}  f.bin\n"
    download(server.url + "/f.bin", dest, sha256=DIGEST)  # present and verified: no request
    assert len(server.ranges) == 1


def test_resume_from_part_file(server: FileServer, tmp_path: Path) -> None:
    server.files["/f.bin"] = PAYLOAD
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD[:100_000])
    rec = Recorder()
    dest = download(server.url + "/f.bin", tmp_path / "f.bin", sha256=DIGEST, progress=rec)
    assert dest.read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=100000-"]
    assert any("resuming" in m and "100000" in m for m in rec.messages)


def test_restart_when_server_ignores_range(server: FileServer, tmp_path: Path) -> None:
    server.files["/f.bin"] = PAYLOAD
    server.honour_range = False
    (tmp_path / "f.bin.part").write_bytes(b"x" * 5000)  # would corrupt the file if appended to
    dest = download(server.url + "/f.bin", tmp_path / "f.bin", sha256=DIGEST)
    assert dest.read_bytes() == PAYLOAD and server.ranges == ["bytes=5000-"]


def test_complete_part_file_is_finished(server: FileServer, tmp_path: Path) -> None:
    server.files["/f.bin"] = PAYLOAD
    (tmp_path / "f.bin.part").write_bytes(PAYLOAD)
    assert download(server.url + "/f.bin", tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_checksum_mismatch_leaves_no_file(server: FileServer, tmp_path: Path) -> None:
    server.files["/f.bin"] = PAYLOAD
    with pytest.raises(DataError, match=f"checksum mismatch: expected sha256 {'0' * 64}, got"):
        download(server.url + "/f.bin", tmp_path / "f.bin", sha256="0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_http_error_is_a_data_error(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="HTTP 404") as e:
        download(server.url + "/missing.zip", tmp_path / "m.zip")
    assert e.value.path.endswith("/missing.zip")


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_extract_zip(tmp_path: Path) -> None:
    z = tmp_path / "a.zip"
    z.write_bytes(_zip_bytes({"top/x.txt": b"hello", "top/sub/y.txt": b"world"}))
    assert extract_zip(z, tmp_path / "out") == tmp_path / "out"
    assert (tmp_path / "out/top/x.txt").read_bytes() == b"hello"
    assert (tmp_path / "out/top/sub/y.txt").read_bytes() == b"world"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["top"]  # no temp left
    with pytest.raises(DataError, match="already exists"):
        extract_zip(z, tmp_path / "out")


def test_extract_incomplete_zip(tmp_path: Path) -> None:
    data = _zip_bytes({"top/x.txt": b"hello" * 1000})
    z = tmp_path / "cut.zip"
    z.write_bytes(data[: len(data) - 30])
    with pytest.raises(DataError, match="not a valid zip file") as e:
        extract_zip(z, tmp_path / "out")
    assert e.value.path == str(z) and not (tmp_path / "out").exists()


def test_extract_corrupt_member(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("top/x.txt", b"hello world")
    data = buf.getvalue().replace(b"hello world", b"HELLO world")
    z = tmp_path / "bad.zip"
    z.write_bytes(data)
    with pytest.raises(DataError, match=r"bad\.zip:top/x\.txt: corrupt member"):
        extract_zip(z, tmp_path / "out")
    assert not (tmp_path / "out/top").exists()


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "top/../../evil.txt"])
def test_extract_refuses_path_traversal(tmp_path: Path, name: str) -> None:
    z = tmp_path / "evil.zip"
    z.write_bytes(_zip_bytes({"top/ok.txt": b"ok", name: b"evil"}))
    with pytest.raises(DataError, match="leaves the destination folder"):
        extract_zip(z, tmp_path / "out" / "inner")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_ensure_tiny_imagenet(server: FileServer, tiny_dataset: Path, tmp_path: Path) -> None:
    data = zip_folder(tiny_dataset, tmp_path / "src.zip", "tiny-imagenet-200/").read_bytes()
    server.files["/tiny-imagenet-200.zip"] = data
    url = server.url + "/tiny-imagenet-200.zip"
    folder = ensure_tiny_imagenet(tmp_path / "data", url=url)
    assert folder == tmp_path / "data/tiny-imagenet-200"
    assert read_tiny_imagenet(folder).files == read_tiny_imagenet(tiny_dataset).files
    recorded = (tmp_path / "data/tiny-imagenet-200.zip.sha256").read_text().split()[0]
    assert recorded == hashlib.sha256(data).hexdigest()
    assert ensure_tiny_imagenet(tmp_path / "data", url=url) == folder
    assert len(server.ranges) == 1  # already there: nothing downloaded again


def test_download_command(server: FileServer, tiny_dataset: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    from neuralcodes.cli import main

    data = zip_folder(tiny_dataset, tmp_path / "src.zip", "tiny-imagenet-200/").read_bytes()
    server.files["/t.zip"] = data
    assert main(["download", "--url", server.url + "/t.zip", "--dir", str(tmp_path / "d")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "d" / "tiny-imagenet-200")
    assert main(["download", "--url", server.url + "/missing.zip", "--dir",
                 str(tmp_path / "e")]) == 2
    assert "404" in capsys.readouterr().err
    assert main(["download", "--url", server.url + "/t.zip", "--dir", str(tmp_path / "f"),
                 "--sha256", "0" * 64]) == 2
    assert "0" * 64 in capsys.readouterr().err  # the message names the expected checksum
    assert not (tmp_path / "f" / "tiny-imagenet-200").exists()
