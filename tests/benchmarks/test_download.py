"""`benchmark download` against an HTTP server on 127.0.0.1 serving replica archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from neuralcodes.benchmarks import read_benchmark
from neuralcodes.benchmarks.sources import SOURCES, download_benchmark, file_name
from neuralcodes.cli import main
from neuralcodes.errors import DataError

from ..file_server import FileServer
from . import replicas
from .replicas import Replica


def _folder_members(root: Path, prefix: str, pattern: str = "*") -> dict[str, bytes]:
    return {prefix + p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob(pattern)) if p.is_file()}


def test_oxford5k(server: FileServer, tmp_path: Path) -> None:
    src = replicas.oxford(tmp_path / "src", Replica())
    server.files["/oxbuild_images-v1.tgz"] = replicas.tar_gz(_folder_members(src / "jpg", ""))
    server.files["/gt_files_170407.tgz"] = replicas.tar_gz(_folder_members(src / "gt", ""))
    folder = download_benchmark("oxford5k", tmp_path / "data", mirror=server.url)
    assert folder == tmp_path / "data" / "oxford5k"
    data = read_benchmark("oxford5k", folder)
    assert data.names == read_benchmark("oxford5k", src).names and len(data.queries) == 2
    recorded = json.loads((folder / "SOURCES.json").read_text())
    assert [r["url"] for r in recorded] == [s.url for s in SOURCES["oxford5k"]]
    assert all(len(r["sha256"]) == 64 for r in recorded)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["oxford5k"]  # no leftovers
    n = len(server.requests)
    assert download_benchmark("oxford5k", tmp_path / "data", mirror=server.url) == folder
    assert len(server.requests) == n  # already there: nothing fetched


def test_paris_archives_are_flattened(server: FileServer, tmp_path: Path) -> None:
    src = replicas.paris(tmp_path / "src", Replica())
    images = _folder_members(src / "jpg", "", "*.jpg")
    half = dict(list(images.items())[:2])
    server.files["/paris_1-v1.tgz"] = replicas.tar_gz(half)
    server.files["/paris_2-v1.tgz"] = replicas.tar_gz({k: v for k, v in images.items()
                                                       if k not in half})
    server.files["/paris_120310.tgz"] = replicas.tar_gz(_folder_members(src / "gt", ""))
    server.files["/corrupt.txt"] = (src / "corrupt.txt").read_bytes()
    folder = download_benchmark("paris6k", tmp_path / "data", mirror=server.url)
    assert (folder / "jpg" / "paris_defense_000001.jpg").is_file()
    assert read_benchmark("paris6k", folder).names == read_benchmark("paris6k", src).names


def test_ukbench_and_roxford(server: FileServer, tmp_path: Path) -> None:
    rep = Replica()
    uk = replicas.ukbench(tmp_path / "uk", rep)
    members = _folder_members(uk / "full", "full/")
    members |= {k.replace("full/", "thumbnails/"): v for k, v in members.items()}
    server.files["/ukbench.zip"] = replicas.zip_bytes(members)
    folder = download_benchmark("ukbench", tmp_path / "data", mirror=server.url)
    assert len(read_benchmark("ukbench", folder).files) == 8  # thumbnails left out
    rox = replicas.roxford(tmp_path / "rox", rep)
    server.files["/oxbuild_images-v1.tgz"] = replicas.tar_gz(_folder_members(rox / "jpg", ""))
    server.files["/gnd_roxford5k.pkl"] = (rox / "gnd_roxford5k.pkl").read_bytes()
    folder = download_benchmark("roxford5k", tmp_path / "data", mirror=server.url)
    assert len(read_benchmark("roxford5k", folder).queries) == 2


def test_interrupted_download_resumes(server: FileServer, tmp_path: Path) -> None:
    rep = Replica()
    rox = replicas.roxford(tmp_path / "rox", rep)
    archive = replicas.tar_gz(_folder_members(rox / "jpg", ""))
    server.files["/oxbuild_images-v1.tgz"] = archive
    with pytest.raises(DataError, match="HTTP 404"):  # the ground truth is not served yet
        download_benchmark("roxford5k", tmp_path / "data", mirror=server.url)
    assert not (tmp_path / "data" / "roxford5k").exists()
    part = tmp_path / "data" / ".downloads" / "roxford5k" / "gnd_roxford5k.pkl.part"
    gnd = (rox / "gnd_roxford5k.pkl").read_bytes()
    part.write_bytes(gnd[:100])
    server.files["/gnd_roxford5k.pkl"] = gnd
    server.requests.clear()
    download_benchmark("roxford5k", tmp_path / "data", mirror=server.url)
    assert server.requests == ["/gnd_roxford5k.pkl"]  # the images archive was kept


def test_offline_message_and_command(server: FileServer, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    dead = "http://127.0.0.1:9"  # the discard port: nothing listens
    assert main(["benchmark", "download", "holidays", "--dir", str(tmp_path),
                 "--mirror", dead]) == 2
    err = capsys.readouterr().err
    assert "download failed" in err and "Without a network, fetch ftp://ftp.inrialpes.fr" in err
    assert str(tmp_path / ".downloads" / "holidays" / "jpg1.tar.gz") in err
    assert not (tmp_path / "holidays").exists()
    rep = Replica()
    h = replicas.holidays(tmp_path / "h", rep)
    files = _folder_members(h, "")
    names = sorted(files)
    server.files["/jpg1.tar.gz"] = replicas.tar_gz({k: files[k] for k in names[:4]})
    server.files["/jpg2.tar.gz"] = replicas.tar_gz({k: files[k] for k in names[4:]})
    assert main(["benchmark", "download", "holidays", "--dir", str(tmp_path / "d"),
                 "--mirror", server.url]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "d" / "holidays")
    assert len(read_benchmark("holidays", tmp_path / "d" / "holidays").queries) == 3


def test_sources_are_official_file_names() -> None:
    names = {b: [file_name(s.url) for s in SOURCES[b]] for b in SOURCES}  # type: ignore[index]
    assert names["roxford5k"] == ["oxbuild_images-v1.tgz", "gnd_roxford5k.pkl"]
    assert names["holidays"] == ["jpg1.tar.gz", "jpg2.tar.gz"]
