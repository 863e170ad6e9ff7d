"""File locks that work on POSIX and Windows, and the reader leases that keep a generation alive.

A lock is held on an open file (``flock`` on POSIX, ``msvcrt.locking`` on Windows; each imported
only when a lock is taken, so reading an index needs neither) and released by the operating
system when its process dies, so a killed process never leaves a lock or a lease behind.

A reader of an index (``Index.open``, a server) takes a *lease* on the generation it reads: a file
``readers/<generation>.<pid>.<token>.lease`` that it keeps locked while it uses the generation. A
writer prunes an old generation only when no live lease names it (``in_use``); a lease file whose
lock can be taken belongs to a dead process and is deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("neuralcodes.index.leases")
READERS = "readers"


def try_lock(f: IO[Any]) -> bool:
    """Lock the open file ``f`` for this open file (not only this process); False if another
    holder has it. Never waits."""
    if sys.platform == "win32":
        import msvcrt

        try:
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def unlock(f: IO[Any]) -> None:
    """Release a lock taken with ``try_lock``."""
    if sys.platform == "win32":
        import msvcrt

        with contextlib.suppress(OSError):
            f.seek(0)
            msvcrt.locking(f.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(f.fileno(), fcntl.LOCK_UN)


class Lease:
    """A held lease on one generation of an index; ``release()`` (or the end of the process)
    gives it up."""

    def __init__(self, path: Path, f: IO[Any]) -> None:
        self.path, self._file = path, f

    @classmethod
    def take(cls, index_dir: Path, generation: str) -> Lease | None:
        """A lease on ``generation``, or None where the index folder cannot be written (a
        read-only copy: nothing can prune it either)."""
        folder = index_dir / READERS
        path = folder / f"{generation}.{os.getpid()}.{secrets.token_hex(4)}.lease"
        try:
            folder.mkdir(exist_ok=True)
            f = open(path, "x+b")  # noqa: SIM115 - held open for the life of the lease
        except OSError as e:
            log.debug("no reader lease on %s/%s: %s", index_dir, generation, e)
            return None
        if not try_lock(f):  # a new, uniquely named file: nobody else can hold it
            f.close()
            return None
        return cls(path, f)

    def release(self) -> None:
        if self._file.closed:
            return
        unlock(self._file)
        self._file.close()
        with contextlib.suppress(OSError):
            self.path.unlink()


def in_use(index_dir: Path, generation: str) -> bool:
    """Whether a live reader holds a lease on ``generation``; stale leases are deleted."""
    used = False
    for path in (index_dir / READERS).glob(f"{generation}.*.lease"):
        try:
            f = open(path, "r+b")  # noqa: SIM115 - closed below
        except OSError:
            continue  # released meanwhile
        with f:
            if not try_lock(f):
                used = True
                continue
            unlock(f)
        with contextlib.suppress(OSError):
            path.unlink()  # its process is gone
    return used
