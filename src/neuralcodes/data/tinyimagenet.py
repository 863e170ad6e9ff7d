"""Reads the Tiny ImageNet layout: class order, class names and the file list (no pixels).

Layout: ``tiny-imagenet-200/train/<wnid>/images/<wnid>_<n>.JPEG``, ``wnids.txt`` (one wnid
a line) and ``words.txt`` (``wnid<TAB>description``, many more lines than classes). Classes are
numbered 0..C-1 in the sorted order of the ``train/`` folder names; images within a class in sorted
file-name order (docs/protocol.md). Only the training folder is read.

The source may be the ``tiny-imagenet-200`` folder, its parent, or the downloaded ``.zip``. A zip is
read in place, never extracted: its members are listed here and decoded straight from the archive by
``neuralcodes.data.decode`` (so a 250 MB download does not need another 500 MB of disk).
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralcodes.errors import DataError

FOLDER_NAME = "tiny-imagenet-200"


@dataclass(frozen=True, eq=False)
class DatasetIndex:
    """What a Tiny ImageNet source holds, in the protocol's order.

    ``root`` is the ``tiny-imagenet-200`` folder or the ``.zip`` file. ``files`` are relative to
    the dataset folder (``train/<wnid>/images/<name>``); ``members`` adds the zip's folder prefix so
    that they can be passed to ``decode_files(root, members)``. ``fingerprint`` hashes every file
    name with its size and modification time (zip: size and CRC): it changes when any image does.
    """

    root: Path
    wnids: tuple[str, ...]  # (C,) class k is wnids[k]
    class_names: tuple[str, ...]  # (C,) description from words.txt
    files: tuple[str, ...]  # (N,) relative to the dataset folder
    labels: np.ndarray  # (N,) int64 in 0..C-1, non-decreasing
    fingerprint: str
    prefix: str = ""  # zip member prefix, e.g. "tiny-imagenet-200/"; "" for a folder

    @property
    def is_zip(self) -> bool:
        return self.root.is_file()

    @property
    def members(self) -> tuple[str, ...]:
        """Names to decode relative to ``root`` (zip member names for a zip)."""
        return tuple(self.prefix + f for f in self.files) if self.prefix else self.files

    def __len__(self) -> int:
        return len(self.files)


def read_tiny_imagenet(source: str | Path) -> DatasetIndex:
    """Index a Tiny ImageNet folder, its parent folder, or its ``.zip``.

    Raises ``DataError`` naming the file for: a missing source, a folder that is not Tiny ImageNet
    (no ``train/``), a missing ``words.txt`` or a wnid absent from it, an empty class folder, a
    ``wnids.txt`` that disagrees with ``train/``, and an incomplete or corrupt zip.
    """
    path = Path(source).expanduser()
    if not path.exists():
        raise DataError(path, "not found (expected a tiny-imagenet-200 folder or its .zip)")
    if path.is_file():
        return _read_zip(path)
    return _read_folder(_dataset_folder(path))


def _dataset_folder(path: Path) -> Path:
    if (path / "train").is_dir():
        return path
    if (path / FOLDER_NAME / "train").is_dir():
        return path / FOLDER_NAME
    raise DataError(
        path,
        "not a Tiny ImageNet folder: no train/ folder "
        f"(expected {FOLDER_NAME}/train/<wnid>/images/<wnid>_<n>.JPEG)",
    )


def _read_folder(root: Path) -> DatasetIndex:
    train = root / "train"
    classes: dict[str, list[tuple[str, bytes]]] = {}
    for wnid in sorted(e.name for e in _scandir(train) if _is_dir(e) and _visible(e.name)):
        folder = train / wnid / "images"
        if not folder.is_dir():
            raise DataError(folder, "class folder has no images/ subfolder")
        # every visible entry but folders: a FIFO, a broken link or a link loop is listed too, and
        # the decoder reports it as a skipped file rather than this listing failing or hiding it
        entries = (e for e in _scandir(folder) if _visible(e.name) and not _is_dir(e))
        classes[wnid] = [_listed(f"train/{wnid}/images/{e.name}", e) for e in entries]
    texts = {name: _read_text(root / name) for name in ("words.txt", "wnids.txt")}
    return _index(root, "", classes, b"", texts, lambda rel: root / rel)


def _scandir(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError as e:
        raise DataError(folder, f"cannot list the folder ({e.strerror or e})") from None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a folder (or a link to one); False for a link loop or a broken link."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _listed(rel: str, entry: os.DirEntry[str]) -> tuple[str, bytes]:
    """``rel`` (surrogate escapes for a non-UTF-8 name) and its line of the fingerprint: the name,
    size and mtime_ns of what ``entry`` points to (of the link itself if that fails)."""
    try:
        st = entry.stat()
    except OSError:
        st = entry.stat(follow_symlinks=False)
    return rel, os.fsencode(rel) + f"\t{st.st_size}\t{st.st_mtime_ns}\n".encode()


def _read_zip(path: Path) -> DatasetIndex:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            prefix = _zip_prefix(path, [i.filename for i in infos])
            present = {i.filename for i in infos}
            texts = {
                name: zf.read(prefix + name).decode("utf-8", errors="replace")
                for name in ("words.txt", "wnids.txt") if prefix + name in present
            }  # fmt: skip
    except zipfile.BadZipFile as e:
        raise DataError(
            path, f"not a valid zip file (incomplete download or corrupt: {e})"
        ) from None
    classes: dict[str, list[tuple[str, bytes]]] = {}
    train = prefix + "train/"
    for info in infos:
        parts = info.filename[len(train) :].split("/") if info.filename.startswith(train) else []
        if len(parts) >= 1 and parts[0] and _visible(parts[0]):
            entries = classes.setdefault(parts[0], [])
            if len(parts) == 3 and parts[1] == "images" and parts[2] and _visible(parts[2]):
                rel = info.filename[len(prefix) :]
                entries.append((rel, f"{rel}\t{info.file_size}\t{info.CRC}\n".encode()))
    seed = f"zip\t{path.stat().st_size}\n".encode()
    return _index(path, prefix, classes, seed, texts, lambda rel: f"{path}:{prefix}{rel}")


def _zip_prefix(path: Path, names: list[str]) -> str:
    """The folder inside the zip that holds ``train/`` ("" or e.g. "tiny-imagenet-200/")."""
    prefixes = sorted({n[: n.index("train/")] for n in names if "train/" in n}, key=len)
    for p in prefixes:
        if p == "" or (p.endswith("/") and p.count("/") == 1):
            return p
    raise DataError(path, "zip is not Tiny ImageNet: no train/ folder inside")


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _class_names(wnids: tuple[str, ...], where: str | Path, text: str | None) -> tuple[str, ...]:
    """Each wnid's description from words.txt (``wnid<TAB>description``)."""
    words: dict[str, str] = {}
    for line in (text or "").splitlines():
        wnid, sep, rest = line.partition("\t")
        if sep:
            words[wnid.strip()] = rest.split("\t")[0].strip()  # the 2nd column, as the notebook
    missing = [w for w in wnids if w not in words]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise DataError(where, f"no description for {len(missing)} class(es) of train/: {shown}")
    return tuple(words[w] for w in wnids)


def _check_wnids_txt(wnids: tuple[str, ...], where: str | Path, text: str | None) -> None:
    if text is None:
        return
    listed = {line.strip() for line in text.splitlines() if line.strip()}
    if listed != set(wnids):
        extra = sorted(listed - set(wnids))[:5]
        absent = sorted(set(wnids) - listed)[:5]
        raise DataError(
            where,
            f"lists {len(listed)} classes but train/ has {len(wnids)} "
            f"(listed but no folder: {extra}; folder but not listed: {absent})",
        )


def _index(
    root: Path,
    prefix: str,
    classes: dict[str, list[tuple[str, bytes]]],
    seed: bytes,
    texts: Mapping[str, str | None],
    where: Callable[[str], str | Path],
) -> DatasetIndex:
    """The index of a folder or a zip, checked. ``classes``: each wnid's files (the name relative
    to the dataset folder, and its line of the fingerprint, a hash that starts with ``seed``);
    ``texts``: words.txt and wnids.txt (None when absent); ``where``: how errors name a path."""
    wnids = tuple(sorted(classes))
    if not wnids:
        raise DataError(where("train/"), "no class folders (expected train/<wnid>/images/)")
    if texts.get("words.txt") is None:
        raise DataError(where("words.txt"), "missing (Tiny ImageNet needs it for class names)")
    names = _class_names(wnids, where("words.txt"), texts["words.txt"])
    _check_wnids_txt(wnids, where("wnids.txt"), texts.get("wnids.txt"))
    files: list[str] = []
    counts: list[int] = []
    h = hashlib.sha256(seed)
    for wnid in wnids:
        if not classes[wnid]:
            raise DataError(where(f"train/{wnid}/images"), "empty class folder: no images")
        for rel, line in sorted(classes[wnid]):
            h.update(line)
            files.append(rel)
        counts.append(len(classes[wnid]))
    labels = np.repeat(np.arange(len(wnids), dtype=np.int64), counts)  # (N,)
    return DatasetIndex(root, wnids, names, tuple(files), labels, h.hexdigest(), prefix)


def _visible(name: str) -> bool:
    return not name.startswith(".")
