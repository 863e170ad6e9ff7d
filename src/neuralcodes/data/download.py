"""Resumable, checksum-verified download and atomic unzip / untar (standard library only).

``download`` appends to ``<dest>.part`` with an HTTP ``Range`` request, so an interrupted download
resumes where it stopped (and restarts if the server ignores ``Range``); the file is renamed to
``dest`` only once complete and, when a SHA-256 is given, verified. The computed checksum is
recorded beside it in ``<dest>.sha256``. ``extract_zip`` and ``extract_tar`` (``.tar``,
``.tar.gz``, ``.tgz``) test the archive, refuse members that would land outside the destination
(and, in a tar, links and device files), extract into a temporary folder beside it and rename
into place.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Iterator
from functools import partial
from pathlib import Path, PurePosixPath

from neuralcodes.artifacts import atomic_write_text, sha256_file
from neuralcodes.errors import DataError
from neuralcodes.progress import Progress, ensure

OFFICIAL_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
OFFICIAL_SHA256: str | None = None  # not published; the computed one is recorded in <zip>.sha256


def download(
    url: str,
    dest: str | Path,
    *,
    sha256: str | None = None,
    progress: Progress | None = None,
    chunk: int = 1 << 20,
    timeout: float = 60.0,
) -> Path:
    """Download ``url`` to ``dest`` (resuming ``dest.part``); verify ``sha256`` if given."""
    progress = ensure(progress)
    dest = Path(dest)
    if dest.exists() and (sha256 is None or sha256_file(dest) == sha256.lower()):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _fetch(url, part, progress, chunk, timeout)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", None) or e
        raise DataError(
            url, f"download failed ({reason}); run again to resume from {part}"
        ) from None
    digest = sha256_file(part)
    if sha256 is not None and digest != sha256.lower():
        part.unlink()
        raise DataError(dest, f"checksum mismatch: expected sha256 {sha256}, got {digest}")
    os.replace(part, dest)
    atomic_write_text(dest.with_name(dest.name + ".sha256"), f"{digest}  {dest.name}\n")
    progress.log(f"downloaded {url} -> {dest} (sha256 {digest})")
    return dest


def _fetch(url: str, part: Path, progress: Progress, chunk: int, timeout: float) -> None:
    """Append the rest of ``url`` to ``part``; restart from zero if the server ignores Range."""
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code != 416:  # 416: nothing left after offset, or the part is bigger than the file
            raise DataError(url, f"HTTP {e.code} {e.reason}") from None
        total = _content_range_total(e.headers.get("Content-Range", ""))
        if total == offset:
            return
        part.unlink()
        return _fetch(url, part, progress, chunk, timeout)
    with response:
        resumed = response.status == 206
        mode = "ab" if resumed else "wb"
        length = int(response.headers.get("Content-Length") or -1)
        if offset and resumed:
            progress.log(f"resuming {url} at byte {offset}")
        received = 0
        with open(part, mode) as f:
            blocks = iter(partial(response.read, chunk), b"")  # until read() gives b""
            total_blocks = -(-length // chunk) if length >= 0 else None
            for block in progress.track(blocks, total_blocks, f"download {Path(url).name}"):
                f.write(block)
                received += len(block)
    if length >= 0 and received != length:
        raise DataError(url, f"connection closed after {received} of {length} bytes; run again")


def _content_range_total(header: str) -> int | None:
    _, _, total = header.rpartition("/")
    return int(total) if total.strip().isdigit() else None


def extract_zip(
    zip_path: str | Path, dest_dir: str | Path, progress: Progress | None = None
) -> Path:
    """Extract ``zip_path`` into ``dest_dir`` atomically per top-level entry; return ``dest_dir``.

    The archive is tested first (CRC of every member); an existing top-level entry is an error.
    """
    progress = ensure(progress)
    zip_path, dest_dir = Path(zip_path), Path(dest_dir)
    try:
        with zipfile.ZipFile(zip_path) as zf:
            infos = zf.infolist()
            tops = _top_entries(zip_path, [i.filename for i in infos], dest_dir)
            bad = zf.testzip()
            if bad is not None:
                raise DataError(
                    f"{zip_path}:{bad}", "corrupt member (CRC mismatch); download again"
                )
            with _extracting(dest_dir, tops, zip_path) as tmp:
                zf.extractall(tmp, progress.track(infos, len(infos), f"extract {zip_path.name}"))
    except (zipfile.BadZipFile, EOFError) as e:
        raise DataError(
            zip_path, f"not a valid zip file (incomplete download or corrupt: {e})"
        ) from None
    return dest_dir


def extract_tar(
    tar_path: str | Path, dest_dir: str | Path, progress: Progress | None = None
) -> Path:
    """Extract a ``.tar`` / ``.tar.gz`` / ``.tgz`` into ``dest_dir`` atomically per top-level
    entry; return ``dest_dir``.

    The whole archive is read first (a truncated or corrupt one is refused before anything is
    written); members with absolute paths or ``..``, links and device files are refused; an
    existing top-level entry is an error.
    """
    progress = ensure(progress)
    tar_path, dest_dir = Path(tar_path), Path(dest_dir)
    try:
        with tarfile.open(tar_path, "r:*") as tf:
            members = tf.getmembers()  # reads to the end: a cut archive fails here
            tops = _top_entries(tar_path, [m.name for m in members], dest_dir)
            for m in members:
                if not (m.isfile() or m.isdir()):
                    raise DataError(f"{tar_path}:{m.name}", "not a regular file or folder (a "
                                    "link or device file); refused")
            with _extracting(dest_dir, tops, tar_path) as tmp:
                tracked = progress.track(members, len(members), f"extract {tar_path.name}")
                if hasattr(tarfile, "data_filter"):  # Python >= 3.10.12: a second line of checks
                    tf.extractall(tmp, members=tracked, filter="data")
                else:  # pragma: no cover - older Pythons: the checks above alone
                    tf.extractall(tmp, members=tracked)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise DataError(
            tar_path, f"not a valid tar archive (incomplete download or corrupt: {e})"
        ) from None
    return dest_dir


def _top_entries(archive: Path, names: list[str], dest_dir: Path) -> list[str]:
    """The top-level entries of an archive's members; refuse absolute paths and ``..`` (path
    traversal), and entries that exist already in ``dest_dir``."""
    tops: set[str] = set()
    for name in names:
        p = PurePosixPath(name.replace("\\", "/"))
        if p.is_absolute() or ".." in p.parts or (p.parts and ":" in p.parts[0]):
            raise DataError(
                f"{archive}:{name}", "member path leaves the destination folder; refused"
            )
        if p.parts:
            tops.add(p.parts[0])
    for top in sorted(tops):
        if (dest_dir / top).exists():
            raise DataError(dest_dir / top, "already exists; not overwriting it")
    return sorted(tops)


@contextlib.contextmanager
def _extracting(dest_dir: Path, tops: list[str], archive: Path) -> Iterator[Path]:
    """A temporary folder in ``dest_dir`` to extract into; then each top-level entry is renamed
    into ``dest_dir``, and nothing is left behind if extracting fails."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    prefix = f".{archive.name}.extract."
    with tempfile.TemporaryDirectory(prefix=prefix, dir=dest_dir, ignore_cleanup_errors=True) as t:
        yield Path(t)
        for top in tops:
            os.replace(Path(t) / top, dest_dir / top)


def ensure_tiny_imagenet(
    data_dir: str | Path,
    url: str = OFFICIAL_URL,
    sha256: str | None = OFFICIAL_SHA256,
    progress: Progress | None = None,
) -> Path:
    """``data_dir/tiny-imagenet-200``, downloading and extracting the official zip if needed."""
    data_dir = Path(data_dir)
    folder = data_dir / "tiny-imagenet-200"
    if (folder / "train").is_dir():
        return folder
    zip_path = download(url, data_dir / "tiny-imagenet-200.zip", sha256=sha256, progress=progress)
    extract_zip(zip_path, data_dir, progress)
    if not (folder / "train").is_dir():
        raise DataError(zip_path, "extracted, but it holds no tiny-imagenet-200/train/ folder")
    return folder
