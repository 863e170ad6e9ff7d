"""Where each benchmark's official files are, and ``download_benchmark`` to fetch them.

The URLs are the datasets' own: the Holidays archives on INRIA's FTP server, the Oxford and
Paris images and ground truth on the Oxford Visual Geometry Group's site, the revisited ground
truth from revisitop (Czech Technical University), and UKBench from the Internet Archive's copy
(the dataset's original page at the University of Kentucky is no longer served). None of them
publishes a checksum, so none is verified against one; the SHA-256 of every file fetched is
recorded in ``<DIR>/<name>/SOURCES.json``.

Each download is resumable (``neuralcodes.data.download``): an interrupted run continues from
``<DIR>/.downloads/<name>/<file>.part``. Archives fetched elsewhere can be put in that folder by
hand: a complete file there is used without any network. The dataset folder is assembled in
``<DIR>/.<name>.partial`` and renamed to ``<DIR>/<name>`` only when complete, in the layout that
``neuralcodes benchmark NAME --data <DIR>/<name>`` reads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import urlsplit

from neuralcodes.artifacts import atomic_folder, atomic_write_json, sha256_file
from neuralcodes.benchmarks.dataset import NAMES, BenchmarkName, check_name
from neuralcodes.data.download import download, extract_tar, extract_zip
from neuralcodes.errors import DataError
from neuralcodes.progress import Progress

logger = logging.getLogger(__name__)

HOLIDAYS = "ftp://ftp.inrialpes.fr/pub/lear/douze/data/"
OXFORD = "https://www.robots.ox.ac.uk/~vgg/data/oxbuildings/"
PARIS = "https://www.robots.ox.ac.uk/~vgg/data/parisbuildings/"
REVISITOP = "http://cmp.felk.cvut.cz/revisitop/data/datasets/"
UKBENCH = "https://archive.org/download/ukbench/"


@dataclass(frozen=True)
class Source:
    """One official file and where its content goes in the dataset folder."""

    url: str
    kind: Literal["images", "gt", "file"]  # images -> jpg/ (full/), gt -> gt/, file -> as is
    pick: str | None = None  # take only the images under this folder of the archive
    sha256: str | None = None  # none is published


SOURCES: dict[BenchmarkName, tuple[Source, ...]] = {
    "holidays": (Source(HOLIDAYS + "jpg1.tar.gz", "images"),
                 Source(HOLIDAYS + "jpg2.tar.gz", "images")),
    "oxford5k": (Source(OXFORD + "oxbuild_images-v1.tgz", "images"),
                 Source(OXFORD + "gt_files_170407.tgz", "gt")),
    "paris6k": (Source(PARIS + "paris_1-v1.tgz", "images"),
                Source(PARIS + "paris_2-v1.tgz", "images"),
                Source(PARIS + "paris_120310.tgz", "gt"), Source(PARIS + "corrupt.txt", "file")),
    "roxford5k": (Source(OXFORD + "oxbuild_images-v1.tgz", "images"),
                  Source(REVISITOP + "roxford5k/gnd_roxford5k.pkl", "file")),
    "rparis6k": (Source(PARIS + "paris_1-v1.tgz", "images"),
                 Source(PARIS + "paris_2-v1.tgz", "images"),
                 Source(REVISITOP + "rparis6k/gnd_rparis6k.pkl", "file")),
    "ukbench": (Source(UKBENCH + "ukbench.zip", "images", pick="full"),),
}
IMAGE_DIR: dict[BenchmarkName, str] = {name: "jpg" for name in NAMES} | {"ukbench": "full"}


def file_name(url: str) -> str:
    return PurePosixPath(urlsplit(url).path).name


def download_benchmark(
    name: str, directory: str | Path, *, mirror: str | None = None,
    progress: Progress | None = None,
) -> Path:
    """``<directory>/<name>`` with the benchmark's official files, fetched if not there yet.

    ``mirror``: a base URL that replaces each file's official folder (``<mirror>/<file>``).
    """
    bench = check_name(name)
    directory = Path(directory)
    final = directory / bench
    if final.exists():
        logger.info("%s is already there: %s", bench, final)
        return final
    downloads = directory / ".downloads" / bench
    fetched = [_fetch(s, downloads, mirror, progress) for s in SOURCES[bench]]
    # a fixed staging folder: what a crash while assembling left there is removed next time
    with atomic_folder(final, staging=directory / f".{bench}.partial") as staging:
        for source, path in zip(SOURCES[bench], fetched, strict=True):
            _assemble(bench, source, path, staging, progress)
        atomic_write_json(staging / "SOURCES.json", [
            {"url": s.url, "file": p.name, "sha256": sha256_file(p)}
            for s, p in zip(SOURCES[bench], fetched, strict=True)])
    shutil.rmtree(downloads, ignore_errors=True)
    with contextlib.suppress(OSError):
        downloads.parent.rmdir()  # .downloads/, when no other download is under way
    logger.info("%s is ready: %s", bench, final)
    return final


def _fetch(source: Source, downloads: Path, mirror: str | None, progress: Progress | None) -> Path:
    url = f"{mirror.rstrip('/')}/{file_name(source.url)}" if mirror else source.url
    dest = downloads / file_name(source.url)
    try:
        return download(url, dest, sha256=source.sha256, progress=progress)
    except DataError as e:
        raise DataError(e.path, f"{e.problem}. Without a network, fetch {source.url} elsewhere "
                        f"and put it at {dest}") from None


def _assemble(
    name: BenchmarkName, source: Source, path: Path, staging: Path, progress: Progress | None
) -> None:
    """Put what ``path`` holds where the dataset layout wants it, inside ``staging``."""
    if source.kind == "file":
        shutil.copyfile(path, staging / path.name)
        return
    scratch = staging / f".extract-{path.name}"
    shutil.rmtree(scratch, ignore_errors=True)
    if path.suffix == ".zip":
        extract_zip(path, scratch, progress)
    else:
        extract_tar(path, scratch, progress)
    root = scratch / source.pick if source.pick else scratch
    target = staging / (IMAGE_DIR[name] if source.kind == "images" else "gt")
    target.mkdir(exist_ok=True)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if source.kind == "images" and file.suffix.lower() != ".jpg":
            continue
        if (target / file.name).exists():
            raise DataError(file, f"two files named {file.name} in the archives of {name}")
        os.replace(file, target / file.name)
    shutil.rmtree(scratch)
