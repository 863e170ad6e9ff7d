"""extract_tar: atomic, refuses path traversal, links and cut archives."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from neuralcodes.data.download import extract_tar
from neuralcodes.errors import DataError


def _tar(path: Path, members: dict[str, bytes], mode: str = "w:gz",
         links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tf.addfile(info)
    return path


@pytest.mark.parametrize(("suffix", "mode"), [(".tgz", "w:gz"), (".tar", "w")])
def test_extract_tar(tmp_path: Path, suffix: str, mode: str) -> None:
    t = _tar(tmp_path / f"a{suffix}", {"top/x.txt": b"hello", "top/sub/y.txt": b"world",
                                       "flat.txt": b"!"}, mode)
    assert extract_tar(t, tmp_path / "out") == tmp_path / "out"
    assert (tmp_path / "out/top/sub/y.txt").read_bytes() == b"world"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["flat.txt", "top"]
    with pytest.raises(DataError, match="already exists"):
        extract_tar(t, tmp_path / "out")


@pytest.mark.parametrize("name", ["../evil.txt", "/abs/evil.txt", "top/../../evil.txt"])
def test_refuses_path_traversal(tmp_path: Path, name: str) -> None:
    t = _tar(tmp_path / "evil.tgz", {"top/ok.txt": b"ok", name: b"evil"})
    with pytest.raises(DataError, match="leaves the destination folder"):
        extract_tar(t, tmp_path / "out" / "inner")
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_refuses_links(tmp_path: Path) -> None:
    t = _tar(tmp_path / "l.tgz", {"top/ok.txt": b"ok"}, links={"top/passwd": "/etc/passwd"})
    with pytest.raises(DataError, match=r"l\.tgz:top/passwd: not a regular file or folder"):
        extract_tar(t, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_refuses_a_cut_archive(tmp_path: Path) -> None:
    data = _tar(tmp_path / "full.tgz", {f"top/{i}.bin": bytes(range(256)) * 40
                                        for i in range(20)}).read_bytes()
    cut = tmp_path / "cut.tgz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="not a valid tar archive") as e:
        extract_tar(cut, tmp_path / "out")
    assert e.value.path == str(cut) and not (tmp_path / "out").exists()
    (tmp_path / "junk.tgz").write_bytes(b"not an archive at all")
    with pytest.raises(DataError, match="not a valid tar archive"):
        extract_tar(tmp_path / "junk.tgz", tmp_path / "out")
