"""What a build, update, add or remove has to do: which files to encode, keep, re-stat or drop.

Paths are stored relative to the photo folder with POSIX separators (an index survives the
folder being moved along with it), or absolute for files added from outside the folder.
A tracked file whose size and mtime are unchanged is trusted without being read; one whose size
or mtime changed is hashed, and re-encoded only if its content (SHA-256) changed. A file that
could not be read is remembered with its size and mtime (``bad_record``) and not read again by
an update until one of them changes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import sha256_bytes
from neuralcodes.errors import DataError
from neuralcodes.images import ImageError, read_image_file, scan_images
from neuralcodes.index.store import Entry
from neuralcodes.names import shown
from neuralcodes.progress import Progress


def rel_path(root: Path, path: str | Path) -> str:
    """How ``path`` is stored: relative to ``root`` (POSIX) when inside it, else absolute."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return str(absolute)


def abs_path(root: Path, stored: str) -> Path:
    """The file a stored path names."""
    return Path(stored) if os.path.isabs(stored) else root / stored


@dataclass
class Plan:
    """The work of one job. ``encode``: stored paths to (re-)encode, in order; ``restat``: entries
    whose content is unchanged but size/mtime moved (rewritten, not re-encoded); ``drop``: ids
    to remove; ``still_bad``: records (``bad_record``) of unreadable files unchanged since they
    failed (not read again); ``bad_gone``: unreadable files that were changed or deleted;
    ``folders``: records ``[path, problem, None, None]`` of the subfolders this scan could not
    read (listed as skipped; ``new_folders`` of them were not before)."""

    encode: list[str] = field(default_factory=list)
    restat: dict[int, Entry] = field(default_factory=dict)
    drop: set[int] = field(default_factory=set)
    still_bad: list[list[Any]] = field(default_factory=list)
    bad_gone: int = 0
    folders: list[list[Any]] = field(default_factory=list)
    new_folders: int = 0

    def is_empty(self) -> bool:
        return not (self.encode or self.restat or self.drop or self.bad_gone or self.new_folders)

    def skipped(self) -> list[list[Any]]:
        """The records that stay in the manifest's ``skipped`` list without being read now."""
        return [*self.folders, *self.still_bad]


def log_folders(folders: list[list[Any]], progress: Progress) -> None:
    """Log each subfolder that the scan could not read (``Plan.folders``: its images are left
    out), as a warning."""
    for folder, problem, *_ in folders:
        progress.log(f"skipped {shown(folder)}/: {problem}", logging.WARNING)


def bad_record(root: Path, stored: str, problem: str, size: int = 0,
               mtime_ns: int = 0) -> list[Any]:
    """How the manifest remembers an unreadable file: ``[path, problem, size, mtime_ns]`` as it
    was read (stat now when the reader could not tell; None when even that fails: retried)."""
    if not size and not mtime_ns:
        try:
            st = os.stat(abs_path(root, stored))
        except OSError:
            return [stored, problem, None, None]
        size, mtime_ns = st.st_size, st.st_mtime_ns
    return [stored, problem, int(size), int(mtime_ns)]


def unchanged(root: Path, record: list[Any]) -> bool:
    """Whether the file of a ``bad_record`` still has the size and mtime it failed with."""
    if len(record) < 4 or record[2] is None:
        return False
    try:
        st = os.stat(abs_path(root, record[0]))
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns) == (record[2], record[3])


def check_tracked(root: Path, entry: Entry, plan: Plan) -> None:
    """Put one tracked entry into ``plan``: unchanged (nothing), touched, changed or gone.

    A changed file is hashed as images are read (``read_image_file``: regular files only, a size
    cap): one that cannot be read that way now (a FIFO or a device put in its place, a file too
    large) is encoded again, which lists it as skipped with the reason."""
    try:
        st = os.stat(abs_path(root, entry.path))
    except OSError:
        plan.drop.add(entry.id)
        return
    if (st.st_size, st.st_mtime_ns) == (entry.size, entry.mtime_ns):
        return
    try:
        got = read_image_file(abs_path(root, entry.path))
    except ImageError as e:
        if e.kind == "missing":
            plan.drop.add(entry.id)
        else:
            plan.encode.append(entry.path)
        return
    digest = sha256_bytes(got.data)
    if digest == entry.sha256:
        plan.restat[entry.id] = Entry(entry.id, entry.path, digest, got.size, got.mtime_ns)
    else:
        plan.encode.append(entry.path)


def scan_folder(root: Path, skip: tuple[Path, ...]) -> tuple[list[Path], list[list[Any]]]:
    """The image files under ``root`` (``scan_images``), and the skipped records
    ``[path, problem, None, None]`` of the subfolders that could not be read."""
    folders: list[list[Any]] = []
    found = scan_images(root, skip=skip, on_problem=lambda f, why: folders.append(
        [rel_path(root, f), why, None, None]))
    return found, folders


def plan_update(root: Path, entries: list[Entry], excluded: set[str], skip: Path,
                skipped: list[list[Any]] | None = None) -> Plan:
    """Rescan ``root``: new files are encoded, changed ones re-encoded, deleted ones dropped;
    files of ``skipped`` (``bad_record``s) are read again only once they have changed; a
    subfolder that cannot be read is put in ``plan.folders``."""
    plan = Plan()
    for entry in entries:
        check_tracked(root, entry, plan)
    tracked = {e.path for e in entries}
    bad = {r[0]: r for r in skipped or []}
    found, plan.folders = scan_folder(root, (skip,))
    plan.new_folders = sum(bad.pop(r[0], None) is None for r in plan.folders)
    for p in (rel_path(root, f) for f in found):
        if p in tracked or p in excluded:
            continue
        record = bad.pop(p, None)
        if record is not None and unchanged(root, record):
            plan.still_bad.append(record)
        else:
            plan.encode.append(p)
    for record in bad.values():  # not found by the scan: added by hand, or gone
        if unchanged(root, record):
            plan.still_bad.append(record)
        else:
            plan.bad_gone += 1
    return plan


def expand(paths: Iterable[str | Path], skip: Path) -> list[Path]:
    """Files named on the command line; folders stand for the images in them."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(scan_images(p, skip=(skip,)))
        elif p.exists():
            out.append(p)
        else:
            raise DataError(p, "file not found")
    return out


def plan_add(root: Path, entries: list[Entry], files: list[Path]) -> Plan:
    """Encode the given files unless they are indexed with the same content already."""
    plan = Plan()
    by_path = {e.path: e for e in entries}
    for stored in dict.fromkeys(rel_path(root, f) for f in files):
        if stored in by_path:
            check_tracked(root, by_path[stored], plan)
        else:
            plan.encode.append(stored)
    return plan


def plan_remove(
    root: Path, entries: list[Entry], files: Iterable[str | Path]
) -> tuple[Plan, list[str]]:
    """Drop the entries of the given paths; also returns the paths that were not indexed."""
    by_path = {e.path: e for e in entries}
    plan, missing = Plan(), []
    for f in files:
        stored = rel_path(root, f)
        prefix = stored.rstrip("/") + "/"
        hits = [e for p, e in by_path.items() if p == stored or p.startswith(prefix)]
        if not hits:
            missing.append(str(f))
        plan.drop.update(e.id for e in hits)
    return plan, missing
