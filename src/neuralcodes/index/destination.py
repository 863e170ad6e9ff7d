"""Where a job may write an index, checked before any work starts.

A build refuses a folder it cannot write, an existing folder of the user's that is not an index
(it would write its files among theirs), and an existing index of another model, layer or photo
folder (it would silently replace it); ``force`` allows the last two. A folder of the user's with
the name of one the index works in and deletes when done (``staging``, ``shards``, ``readers``)
is refused even with ``force``; among generations, only ``gen-NNNNNN`` folders are the index's.
Update, add and remove need an existing index folder that can be written.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.images import INDEX_MARKER
from neuralcodes.index.leases import READERS
from neuralcodes.index.store import LOG, MANIFEST, STAGING, read_manifest, writer_lock

# what an index folder holds (also an unfinished one): anything else belongs to someone else
INDEX_FILES = {INDEX_MARKER, MANIFEST, LOG, ".lock"}
INDEX_TEMPORARY = re.compile(r"\.?gen-\d{6}(\.tmp|\.trash)?|\.(raw-codes|vectors)\.npy\.tmp")
# folders a job deletes when done: ours only when they hold what it writes there (a user's
# folder of the same name would be deleted with them)
INDEX_FOLDERS = {STAGING: "job.json", "shards": "shards.json", READERS: ".lease"}


def ensure_writable(out: Path) -> None:
    """Create ``out`` if needed and check that files can be written in it."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        raise DataError(out, f"cannot write the index here ({e.strerror or e})") from None


def check_destination(out: Path, root: Path, fingerprint: Mapping[str, Any], *,
                      force: bool = False) -> None:
    """Refuse to build into ``out`` unless it is new, empty, an unfinished or the same index
    (same model, layer and photo folder), or ``force`` is given; ``out`` must be writable."""
    ensure_writable(out)
    if not (out / MANIFEST).is_file():
        foreign = sorted(p.name for p in out.iterdir() if not _is_index_file(p))
        doomed = [name for name in foreign if name in INDEX_FOLDERS]
        if doomed:  # even with force: the job deletes its working folders when done
            raise DataError(out / doomed[0], "a folder of this name is where an index keeps "
                            "its work, and is deleted with it; this one is not an index's: "
                            "move it, or choose another --out")
        if foreign and not force:
            raise DataError(out, f"exists and is not a neuralcodes index (it holds "
                            f"{len(foreign)} other files or folders, e.g. {foreign[0]!r}): "
                            "choose a new or empty folder, or pass --force to write the index "
                            "among them")
        return
    if force:
        return
    try:
        old = read_manifest(out)
    except DataError as e:
        raise DataError(out, f"holds a damaged index ({e.problem}); pass --force to replace "
                        "it") from None
    wanted = {**fingerprint, "photos_root": str(root)}
    diffs = [f"{k}: {old.get(k)!r} there, {v!r} now" for k, v in wanted.items()
             if old.get(k) != v]
    if diffs:
        raise ArtifactMismatchError(f"{out} holds an index built with another model, layer or "
                                    f"photo folder ({'; '.join(diffs)}): pass --force to "
                                    "replace it, or choose another --out")


def _is_index_file(path: Path) -> bool:
    """Whether ``path`` (in a folder that has no manifest yet) is what an unfinished build
    leaves: the index's own files, a generation, temporary files, or its working folders."""
    name = path.name
    if name in INDEX_FOLDERS:
        mark = INDEX_FOLDERS[name]
        inside = [p.name for p in path.iterdir()] if path.is_dir() else None
        return inside is not None and (mark in inside or all(n.endswith(mark) for n in inside))
    return name in INDEX_FILES or INDEX_TEMPORARY.fullmatch(name) is not None


@contextlib.contextmanager
def writing(index_dir: Path) -> Iterator[None]:
    """The writer lock of an existing index folder, with clear errors when there is no such
    folder or it cannot be written."""
    if not index_dir.is_dir():
        raise DataError(index_dir, "not a neuralcodes index: no such folder")
    ensure_writable(index_dir)
    with writer_lock(index_dir):
        yield
