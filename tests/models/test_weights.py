"""``neuralcodes weights alexnet``: resumable, verified by the hash in the name, atomic, offline."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from neuralcodes.cli import main
from neuralcodes.errors import DataError
from neuralcodes.models.weights import ALEXNET_URL, fetch_alexnet, hash_prefix

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes standing in for the weights
PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]


class Files(dict[str, bytes]):
    url = ""
    ranges: list[str | None]


@pytest.fixture()
def server() -> Iterator[Files]:
    files = Files()
    files.ranges = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            data, rng = files.get(self.path), self.headers.get("Range")
            files.ranges.append(rng)
            if data is None:
                self.send_error(404)
                return
            start = int(rng[6:].split("-")[0]) if rng else 0
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    files.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield files
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def test_hash_prefix_of_model_zoo_names() -> None:
    assert hash_prefix(Path(ALEXNET_URL).name) == "7be5be79"
    assert hash_prefix("resnet50-0676ba61.pth") == "0676ba61"
    assert hash_prefix("alexnet.pth") is None and hash_prefix("net-12ab.pth") is None


def test_fetch_verifies_and_is_atomic(server: Files, tmp_path: Path) -> None:
    server[f"/alexnet-owt-{PREFIX}.pth"] = PAYLOAD
    dest = fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-{PREFIX}.pth")
    assert dest == tmp_path / f"alexnet-owt-{PREFIX}.pth" and dest.read_bytes() == PAYLOAD
    digest = hashlib.sha256(PAYLOAD).hexdigest()
    assert (tmp_path / f"{dest.name}.sha256").read_text() == f"{digest}  {dest.name}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name, f"{dest.name}.sha256"]
    assert fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-{PREFIX}.pth") == dest
    assert server.ranges == [None]  # the second call found the file: no request


def test_fetch_resumes_a_partial_download(server: Files, tmp_path: Path) -> None:
    name = f"alexnet-owt-{PREFIX}.pth"
    server[f"/{name}"] = PAYLOAD
    (tmp_path / f"{name}.download.part").write_bytes(PAYLOAD[:1000])
    assert fetch_alexnet(tmp_path, f"{server.url}/{name}").read_bytes() == PAYLOAD
    assert server.ranges == ["bytes=1000-"]


def test_wrong_hash_leaves_nothing(server: Files, tmp_path: Path) -> None:
    server["/alexnet-owt-00000000.pth"] = PAYLOAD
    with pytest.raises(DataError, match="alexnet-owt-00000000.pth: checksum mismatch: the name "
                       "says sha256 00000000"):
        fetch_alexnet(tmp_path, f"{server.url}/alexnet-owt-00000000.pth")
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_hash_must_be_alexnet(server: Files, tmp_path: Path) -> None:
    server["/weights.pth"] = PAYLOAD
    with pytest.raises(DataError, match="weights.pth.download: not a PyTorch state-dict file"):
        fetch_alexnet(tmp_path, f"{server.url}/weights.pth")
    assert list(tmp_path.iterdir()) == []


def test_offline_message(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="Without a network: copy alexnet-owt-7be5be79.pth into"):
        fetch_alexnet(tmp_path, "http://127.0.0.1:9/alexnet-owt-7be5be79.pth")


def test_cli(server: Files, tmp_path: Path, capsys: pytest.CaptureFixture[str],
             monkeypatch: pytest.MonkeyPatch) -> None:
    server[f"/alexnet-owt-{PREFIX}.pth"] = PAYLOAD
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path / "home"))
    assert main(["weights", "alexnet", "--url", f"{server.url}/alexnet-owt-{PREFIX}.pth"]) == 0
    expected = tmp_path / "home" / "weights" / f"alexnet-owt-{PREFIX}.pth"
    assert capsys.readouterr().out.strip() == str(expected) and expected.is_file()
    assert main(["weights", "alexnet", "--dir", str(tmp_path / "d"), "--url",
                 f"{server.url}/missing-{PREFIX}.pth"]) == 2
    assert "HTTP 404" in capsys.readouterr().err
