"""The allocator: glibc malloc tuned at run time, or a preloaded library when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neuralcodes.allocator as alloc
from neuralcodes.errors import ConfigError

# Holds a 64 MB block and prints whether glibc served it with its own mapping (mallinfo2's
# hblkhd: bytes in mmapped blocks), then frees it and prints the heap it kept (fordblks).
PROBE = textwrap.dedent("""
    import ctypes, sys
    import numpy as np
    sys.path.insert(0, {src!r})
    from neuralcodes.allocator import tune_malloc

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
            "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    applied = tune_malloc() if sys.argv[1] == "tuned" else False
    block = np.ones(8 << 20)  # 64 MB of float64
    mapped = libc.mallinfo2().hblkhd
    del block
    print(applied, mapped >= 64 << 20, libc.mallinfo2().fordblks >= 64 << 20)
""")


def _probe(mode: str) -> list[str]:
    src = str(Path(alloc.__file__).parents[1])
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", alloc.ALLOCATOR_ENV)}
    return subprocess.run([sys.executable, "-c", PROBE.format(src=src), mode], env=env,
                          capture_output=True, text=True, check=True).stdout.split()


@pytest.mark.skipif(alloc._glibc() is None, reason="glibc only")
def test_tuned_malloc_serves_large_blocks_from_the_heap_and_keeps_them() -> None:
    # untuned: a 64 MB block is a mapping of its own, unmapped (and faulted afresh) every time
    assert _probe("glibc") == ["False", "True", "False"]
    # tuned: it comes from the heap, and stays there for the next step once freed
    assert _probe("tuned") == ["True", "False", "True"]


def test_chosen_defaults_to_tuned_and_refuses_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(alloc.ALLOCATOR_ENV, raising=False)
    assert alloc.chosen() == "tuned"
    monkeypatch.setenv(alloc.ALLOCATOR_ENV, "JEMALLOC")
    assert alloc.chosen() == "jemalloc"
    monkeypatch.setenv(alloc.ALLOCATOR_ENV, "hoard")
    with pytest.raises(ConfigError, match="'hoard'.*tuned"):
        alloc.chosen()


def test_preloaded_names_the_kind() -> None:
    assert alloc.preloaded({"LD_PRELOAD": "/usr/lib/libtcmalloc.so.4"}) == "tcmalloc"
    assert alloc.preloaded({"LD_PRELOAD": "/x/a.so:/y/libmimalloc.so.3"}) == "mimalloc"
    assert alloc.preloaded({"LD_PRELOAD": "/x/libfoo.so"}) is None
    assert alloc.preloaded({}) is None


def test_library_path_prefers_the_first_name_and_refuses_unknown_kinds(tmp_path: Path) -> None:
    (tmp_path / "libtcmalloc_minimal.so.4").write_bytes(b"")
    assert alloc.library_path("tcmalloc", [str(tmp_path)]) == str(
        tmp_path / "libtcmalloc_minimal.so.4")
    (tmp_path / "libtcmalloc.so.4").write_bytes(b"")
    assert alloc.library_path("tcmalloc", [str(tmp_path)]) == str(tmp_path / "libtcmalloc.so.4")
    assert alloc.library_path("jemalloc", [str(tmp_path)]) is None
    with pytest.raises(ConfigError, match="'hoard'.*jemalloc"):
        alloc.library_path("hoard")


def test_preload_environment_prepends_once(monkeypatch: pytest.MonkeyPatch) -> None:
    lib = "/lib/libtcmalloc.so.4"
    monkeypatch.setattr(alloc, "library_path", lambda kind: lib)
    assert alloc.preload_environment("tcmalloc", {"A": "1"}) == {"A": "1", "LD_PRELOAD": lib}
    env = alloc.preload_environment("tcmalloc", {"LD_PRELOAD": "/x/other.so"})
    assert env == {"LD_PRELOAD": f"{lib} /x/other.so"}
    assert alloc.preload_environment("tcmalloc", {"LD_PRELOAD": f"/x/other.so {lib}"}) is None
    monkeypatch.setattr(alloc, "library_path", lambda kind: None)
    assert alloc.preload_environment("tcmalloc", {}) is None  # not installed: keep the default


def test_reexec_only_for_an_installed_library(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, list[str], dict[str, str]]] = []
    monkeypatch.setattr(os, "execve", lambda exe, args, env: calls.append((exe, args, env)))
    monkeypatch.setattr(alloc, "library_path", lambda kind: f"/lib/lib{kind}.so")
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    for kind in ("", "tuned", "glibc"):
        monkeypatch.setenv(alloc.ALLOCATOR_ENV, kind)
        alloc.reexec_with_allocator(["neuralcodes", "demo"])
    assert calls == []
    monkeypatch.setenv(alloc.ALLOCATOR_ENV, "jemalloc")
    alloc.reexec_with_allocator(["neuralcodes", "demo"])
    if sys.platform == "linux":
        exe, args, env = calls[0]
        assert (exe, args) == (sys.executable, [sys.executable, "neuralcodes", "demo"])
        assert env["LD_PRELOAD"] == "/lib/libjemalloc.so"


def test_a_missing_library_falls_back_to_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alloc, "library_path", lambda kind: None)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.setenv(alloc.ALLOCATOR_ENV, "tcmalloc")
    alloc.reexec_with_allocator(["neuralcodes", "demo"])
    assert alloc.chosen() == "tuned"


def test_the_library_tunes_once_for_bulk_work_never_for_a_query(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import numpy as np
    import torch

    from neuralcodes.config import ModelConfig, TrainConfig
    from neuralcodes.encoder import open_encoder
    from neuralcodes.model import create_model
    from neuralcodes.runs import RunDir
    from neuralcodes.train import TrainData, train

    calls: list[str] = []

    def tune() -> bool:
        calls.append("tune")
        return True

    monkeypatch.setattr(alloc, "tune_malloc", tune)
    alloc.tune_once.cache_clear()
    try:
        torch.manual_seed(0)
        model = create_model(ModelConfig(num_classes=2, width=1 / 16))
        rng = np.random.default_rng(0)
        x, y = rng.integers(0, 256, (4, 64, 64, 3), dtype=np.uint8), np.array([0, 1, 0, 1])
        cfg = TrainConfig(epochs=1, batch_size=2, device="cpu", num_threads=1)
        train(model, TrainData(x[:2], y[:2], x[2:], y[2:]), cfg, tmp_path)
        assert calls == ["tune"]
        enc = open_encoder(RunDir(tmp_path).root, layer="L6", device="cpu")
        enc.encode(x[:1])  # a query: never tunes
        alloc.tune_once.cache_clear()
        enc.encode(x[:1])
        assert calls == ["tune"]
        enc.encode_images([x[0], x[1]])  # bulk encoding tunes, once per process
        enc.encode_images([x[0]])
        assert calls == ["tune", "tune"]
    finally:
        alloc.tune_once.cache_clear()


@pytest.mark.skipif(alloc._glibc() is None, reason="glibc only")
def test_a_server_can_share_its_arenas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    assert alloc.limit_arenas(8) is True  # 8: this test process's own threads stay unhindered
    monkeypatch.setenv("LD_PRELOAD", "/usr/lib/libjemalloc.so.2")
    assert alloc.limit_arenas(8) is False  # another allocator: nothing to limit
