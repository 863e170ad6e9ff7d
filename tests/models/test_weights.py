"""``neuralcodes weights alexnet``: resumable, verified by the hash in the name, atomic, offline."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuralcodes.cli import main
from neuralcodes.errors import DataError
from neuralcodes.models.weights import ALEXNET_URL, fetch_alexnet, hash_prefix

from ..file_server import FileServer, serve_files

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes standing in for the weights
PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]


@pytest.fixture()
def server() -> Iterator[FileServer]:
    with serve_files() as files:
        yield files


def test_hash_prefix_of_model_zoo_names() -> None:
    assert hash_prefix(Path(ALEXNET_URL).name) == "7be5be79"
    assert hash_prefix("resnet50-0676ba61.pth") == "0676ba61"
    assert hash_prefix("alexnet.pth") is None and hash_prefix("net-12ab.pth") is None


def test_fetch_verifies_and_is_atomic(server: FileServer, tmp_path: Path) -> None:
    server.files[f"/alexnet-owt-{PREFIX}.pth"] = PAYLOAD
    dest = fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-{PREFIX}.pth")
    assert dest == tmp_path / f"alexnet-owt-{PREFIX}.pth" and dest.read_bytes() == PAYLOAD
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert (tmp_path / f"{dest.name}.sha256").read_text() == f"{digest}  {dest.name}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name, f"{dest.name}.sha256"]
    assert fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-{PREFIX}.pth") == dest
    assert server.ranges == [None]  # the second call found the file: no request


def test_fetch_resumes_a_partial_download(server: FileServer, tmp_path: Path) -> None:
    name = f"alexnet-owt-{PREFIX}.pth"
    server.files[f"/{name}"] = PAYLOAD
    (tmp_path / f"{name}.download.part").write_bytes(PAYLOAD[:1000])
    assert fetch_alexnet(tmp_path, f"{server.url}/{name}").read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=1000-"]


def test_wrong_hash_leaves_nothing(server: FileServer, tmp_path: Path) -> None:
    server.files["/alexnet-owt-00000000.pth"] = PAYLOAD
    with pytest.raises(DataError, match="alexnet-owt-00000000.pth: checksum mismatch: the name "
                       "says sha256 00000000"):
        fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-00000000.pth")
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_hash_must_be_alexnet(server: FileServer, tmp_path: Path) -> None:
    server.files["/weights.pth"] = PAYLOAD
    with pytest.raises(DataError, match="weights.pth.download: not a PyTorch state-dict file"):
        fetch_alexnet(tmp_path, f"{server.url}/weights.pth")
    assert list(tmp_path.iterdir()) == []


def test_offline_message(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Without a network: copy alexnet-owt-7be5be79.pth into"):
        fetch_alexnet(tmp_path, "http://127.0.0.1:9/alexnet-owt-7be5be79.pth")


def test_cli(server: FileServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> None:
    server.files[f"/alexnet-owt-{PREFIX}.pth"] = PAYLOAD
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path / "home"))
    assert main(["weights", "alexnet", "--url", f"{server.url}/alexnet-owt-{PREFIX}.pth"]) == 0
    expected = tmp_path / "home" / "weights" / f"alexnet-owt-{PREFIX}.pth"
    assert capsys.readouterr().out.strip() == str(expected) and expected.is_file()
    assert main(["weights", "alexnet", "--dir", str(tmp_path / "d"), "--url",
                 f"{server.url}/missing-{PREFIX}.pth"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
