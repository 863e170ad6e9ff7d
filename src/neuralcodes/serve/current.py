"""The generation of the index a server answers from, followed as ``index update`` writes new ones.

Between requests, at most every ``check_s`` seconds, the manifest is looked at (one ``stat``:
an update replaces it, so its inode and time change). When it changed, the generation it names
is opened with the same model (``Index.reopen``) and swapped in with one assignment. A request
takes the current ``Index`` once, when it starts, and uses only that one: a search sees a single
generation from start to end, and a generation in use keeps its reader lease until the last
request that holds it is done, so no update prunes it under the server.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time

from neuralcodes.allocator import release_memory
from neuralcodes.errors import NeuralCodesError
from neuralcodes.index.api import Index
from neuralcodes.index.store import MANIFEST

log = logging.getLogger("neuralcodes.serve.current")
Stamp = tuple[int, int, int] | None
RETRY_S = 10.0  # after a new version failed to open
RELEASE_AFTER_S = 5.0  # after a swap, when the requests on the old generation are done


def manifest_stamp(index_dir: os.PathLike[str] | str) -> Stamp:
    """(inode, mtime in ns, size) of the manifest; None if it cannot be seen."""
    try:
        st = os.stat(os.path.join(index_dir, MANIFEST))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class CurrentIndex:
    """The newest generation of an open index, reopened when its manifest changes."""

    def __init__(self, index: Index, *, check_s: float = 1.0) -> None:
        self._index = index
        self.check_s = check_s
        self._stamp = manifest_stamp(index.index_dir)
        self._checked = time.monotonic()
        self._reloading = threading.Lock()
        self._release_at: float | None = None

    def get(self) -> Index:
        """The index to answer one request from (taken once per request)."""
        index = self._index
        now = time.monotonic()
        if now - self._checked < self.check_s:
            return index
        if self._release_at is not None and now >= self._release_at:
            self._release_old()
        self._checked = now
        stamp = manifest_stamp(index.index_dir)
        if stamp == self._stamp or not self._reloading.acquire(blocking=False):
            return index  # unchanged, or another request is opening the new generation
        try:
            self._reload(stamp)
        finally:
            self._reloading.release()
        return self._index

    def _reload(self, stamp: Stamp) -> None:
        old = self._index
        try:
            new = old.reopen()
        except (NeuralCodesError, OSError) as e:
            log.error("cannot open the new version of %s (%s); still serving %s",
                      old.index_dir, e, old.generation)
            self._checked = time.monotonic() + RETRY_S  # tried again later, not at every request
            return
        if new is not old:
            log.info("%s: now serving %s (%d images), was %s", old.index_dir, new.generation,
                     len(new), old.generation)
        self._index, self._stamp = new, stamp
        if new is not old:
            self._release_at = time.monotonic() + RELEASE_AFTER_S

    def _release_old(self) -> None:
        """Free the generation no request holds any more and give its memory back to the
        system (glibc keeps freed heap otherwise: each reload would grow the server)."""
        self._release_at = None
        gc.collect()
        release_memory()
