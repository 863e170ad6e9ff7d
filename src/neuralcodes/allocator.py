"""The memory allocator: as much of the CPU's speed as the kernels, with nothing to install.

Training and code extraction allocate and free the same large tensors at every step (the 134 MB
gradient of L6 at full width, activations of tens of MB). glibc malloc serves each allocation
above its mmap threshold (at most 32 MB) with a fresh ``mmap`` and gives it back with ``munmap``
when it is freed, so every step maps and page-faults hundreds of MB afresh: measured on the
full-width training step (batch 100, 2 cores), 237,000 minor page faults and 1.1 s of kernel time
per step in fp32, 221,000 and 0.4 s in bf16 (the training rows of BENCHMARKS.md give both).

``tune_malloc`` fixes that inside glibc itself, with ``mallopt`` at run time (no restart, no
library to install): large blocks come from the heap (``M_MMAP_MAX = 0``) and the heap keeps up to
``TRIM_THRESHOLD`` bytes of freed memory for the next step instead of returning it
(``M_TRIM_THRESHOLD``, ``M_TOP_PAD``). Measured the same way: 0 to 10,000 page faults and under
0.03 s of kernel time per step. The cost is that a process keeps what it once used: right for
training and extraction, wrong for a long-lived server (``neuralcodes serve`` does not tune).

The command line tunes at start-up the commands that train or extract codes; the library tunes
once (``tune_once``) when a Python program enters one of its bulk entry points: ``train``,
``run_experiment``, ``build_index`` / ``update_index``, ``Encoder.encode_images``. The query path
(``Index.search``, ``Encoder.encode``) never does, so a server keeps glibc's behaviour.

``NEURALCODES_ALLOCATOR`` chooses otherwise: ``glibc`` (untuned), ``tuned`` (the default),
``tcmalloc`` or ``jemalloc`` (the process restarts with the library preloaded, when installed:
``reexec_with_allocator``), ``mimalloc`` (likewise; the ``cmeel-mimalloc`` wheel ships it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import sys
from collections.abc import Mapping, Sequence

from neuralcodes.errors import ConfigError

log = logging.getLogger(__name__)

ALLOCATOR_ENV = "NEURALCODES_ALLOCATOR"
CHOICES = ("tuned", "glibc", "tcmalloc", "jemalloc", "mimalloc")
# kind -> shared-library names, best first (Debian: libgoogle-perftools4, libjemalloc2)
PRELOADED = {
    "tcmalloc": ("libtcmalloc.so.4", "libtcmalloc_minimal.so.4", "libtcmalloc.so"),
    "jemalloc": ("libjemalloc.so.2", "libjemalloc.so"),
    "mimalloc": ("libmimalloc.so.3", "libmimalloc.so.2", "libmimalloc.so"),
}
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64",
                "/usr/lib", "/usr/local/lib")
TRIM_THRESHOLD = 1 << 30  # keep up to 1 GiB of freed heap for the next step
TOP_PAD = 256 << 20  # grow the heap 256 MiB at a time
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -2, -4, -8  # glibc's mallopt
SERVER_ARENAS = 2  # a server's request threads share this many malloc arenas


def chosen() -> str:
    """The allocator asked for by ``$NEURALCODES_ALLOCATOR`` (default "tuned")."""
    kind = os.environ.get(ALLOCATOR_ENV, "").strip().lower() or "tuned"
    if kind not in CHOICES:
        raise ConfigError(f"{ALLOCATOR_ENV}={kind!r}; choose one of {list(CHOICES)}")
    return kind


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library if it is glibc (it has ``mallopt`` and ``gnu_get_libc_version``)."""
    if sys.platform != "linux":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None  # musl or another C library: nothing to tune
    return libc


def tune_malloc() -> bool:
    """Keep glibc malloc from mapping and faulting large blocks afresh at every step.

    Returns whether it applied (glibc, and no other allocator preloaded or asked for). Call it
    before the heavy work of a process that trains or extracts codes; it is process-wide.
    """
    libc = _glibc()
    if libc is None or preloaded() is not None or chosen() != "tuned":
        return False
    ok = all(libc.mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD)))
    return bool(ok)


@functools.cache
def tune_once() -> bool:
    """``tune_malloc`` the first time a process calls it; logs which allocator it uses (INFO).

    Whether it applied. Called by the library's bulk entry points (see the module's text), so
    a Python program gets what the command line gets; ``NEURALCODES_ALLOCATOR=glibc`` opts out.
    """
    applied = tune_malloc()
    log.info(describe())
    return applied


def limit_arenas(n: int = SERVER_ARENAS) -> bool:
    """Let at most ``n`` glibc malloc arenas serve this process's threads (a server's many
    request threads otherwise each keep an arena of freed memory). Whether it applied."""
    libc = _glibc()
    if libc is None or preloaded() is not None:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, n) == 1)


def release_memory() -> bool:
    """Give the C heap's free memory back to the system (glibc ``malloc_trim``: glibc keeps
    freed blocks in its arenas otherwise); whether it could be asked."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def preloaded(env: Mapping[str, str] | None = None) -> str | None:
    """The kind of a known allocator in ``LD_PRELOAD`` (None when there is none)."""
    preload = (env if env is not None else os.environ).get("LD_PRELOAD", "")
    for kind, names in PRELOADED.items():
        if any(os.path.basename(p).startswith(names) for p in preload.replace(":", " ").split()):
            return kind
    return None


def describe() -> str:
    """One line saying which allocator this process uses (printed once by a run)."""
    kind = preloaded()
    if kind is not None:
        return f"allocator: {kind} (preloaded)"
    if _glibc() is None:
        return "allocator: the system's malloc"
    if chosen() == "tuned":
        return "allocator: glibc malloc, tuned (large blocks from the heap, freed memory kept)"
    return "allocator: glibc malloc, untuned"


def library_path(kind: str, dirs: Sequence[str] = LIBRARY_DIRS) -> str | None:
    """The shared library of ``kind`` ("tcmalloc", "jemalloc", "mimalloc"); None if absent."""
    if kind not in PRELOADED:
        raise ConfigError(f"unknown allocator library {kind!r}; choose one of {sorted(PRELOADED)}")
    if kind == "mimalloc":
        dirs = (*dirs, *_wheel_dirs())
    for folder in dirs:
        for name in PRELOADED[kind]:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return path
    return None


def _wheel_dirs() -> tuple[str, ...]:
    """Where the ``cmeel-mimalloc`` wheel puts its library, for each site-packages folder."""
    return tuple(os.path.join(p, "cmeel.prefix", "lib") for p in sys.path
                 if p.endswith("-packages"))


def preload_environment(kind: str, env: Mapping[str, str]) -> dict[str, str] | None:
    """``env`` with ``kind``'s library prepended to ``LD_PRELOAD``; None if nothing to do
    (already preloaded, or not installed: the tuned glibc malloc is used then)."""
    library = library_path(kind)
    preload = env.get("LD_PRELOAD", "")
    if library is None or library in preload.split(os.pathsep) + preload.split():
        return None
    return {**env, "LD_PRELOAD": " ".join(filter(None, [library, preload]))}


def reexec_with_allocator(argv: Sequence[str]) -> None:
    """Restart this program with the allocator library ``$NEURALCODES_ALLOCATOR`` names.

    Returns at once for "tuned" and "glibc" (nothing to preload), or when the library is not
    installed (then logs that the tuned glibc malloc is used). On success it does not return.
    """
    kind = chosen()
    if kind not in PRELOADED or sys.platform != "linux":
        return
    env = preload_environment(kind, os.environ)
    if env is None:
        if preloaded() is None:
            log.warning("%s=%s: the library is not installed; using glibc malloc, tuned",
                        ALLOCATOR_ENV, kind)
            os.environ[ALLOCATOR_ENV] = "tuned"
        return
    os.execve(sys.executable, [sys.executable, *argv], env)
