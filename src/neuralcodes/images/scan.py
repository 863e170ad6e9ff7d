"""Finding the images of a folder tree, the same way for every command that scans one.

An image is a file with one of ``IMAGE_EXTENSIONS`` (case-insensitive), HEIC/HEIF/AVIF included:
when no reader for them is installed they are still listed, and reading them says why they are
skipped and what to install. Hidden files and folders (names starting with ".") are left out, as
are index folders (holding ``INDEX_MARKER``) and the folders in ``skip``. Links to folders are not
followed (no loops); any other non-folder entry with an image name (a link, a FIFO) is listed,
and reading it reports the problem. A subfolder that cannot be listed is reported through
``on_problem`` (default: a warning on the ``neuralcodes.images.scan`` logger), never silently
skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from neuralcodes.errors import DataError
from neuralcodes.images.errors import describe
from neuralcodes.images.formats import is_image_name
from neuralcodes.names import shown

log = logging.getLogger("neuralcodes.images.scan")

INDEX_MARKER = ".neuralcodes-index"  # a folder holding this file is an index: never scanned

OnProblem = Callable[[Path, str], None]


def scan_images(
    root: str | Path, *, skip: tuple[str | Path, ...] = (), on_problem: OnProblem | None = None
) -> list[Path]:
    """Every image file under ``root``, recursively, sorted by relative path (POSIX form).

    ``on_problem(folder, problem)`` is called for each subfolder that cannot be read.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder")
    report = on_problem or _log_problem
    skipped = {os.path.realpath(p) for p in skip}
    found: list[Path] = []

    def unreadable(e: OSError) -> None:
        where = Path(e.filename) if e.filename else root
        if where == root:
            raise DataError(root, f"cannot list the folder ({describe(e)})")
        report(where, f"folder not read, its images are left out ({describe(e)})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        dirnames[:] = [
            d for d in dirnames
            if not d.startswith(".") and not _is_index_dir(os.path.join(dirpath, d), skipped)
        ]  # fmt: skip
        found.extend(
            Path(dirpath, f) for f in filenames if not f.startswith(".") and is_image_name(f)
        )
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _log_problem(folder: Path, problem: str) -> None:
    log.warning("skipped: %s: %s", shown(folder), problem)


def _is_index_dir(path: str, skipped: set[str]) -> bool:
    return os.path.realpath(path) in skipped or os.path.exists(os.path.join(path, INDEX_MARKER))
