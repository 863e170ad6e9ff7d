"""Approximate search on real neural codes: recall@10 and speed of IVF-PQ and HNSW against exact.

Two sets of codes, made once and kept under ``$NEURALCODES_HOME/ann-codes``:

- the demo: every image of the demo run's data set (5,000 images of 50 generated classes)
  through its trained network, layers L6 and L7;
- a generated collection: the load benchmark's 100,000 64x64 images (200 other generated
  classes, its uint8 cache) through the same network, layer L6.

Each set is split into a database and ``queries`` held-out queries (seeded). The backends are
the index's own (``neuralcodes.index.backends.build_backend``: FAISS as it is, default build
knobs, IVF-PQ candidates re-ranked exactly), each searched at three settings of its search knob
(``nprobe``, ``efSearch``). Recall@10: the mean share of the exact 10 nearest neighbours found.
Speed: the median time of one query at a time (the 300 first queries), and the speed-up over
exact search (``neuralcodes.search``, the default backend) measured the same way.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import WORK_DIR, stderr_log

CODES_DIR = WORK_DIR / "ann-codes"
K = 10
SETTINGS = {"ivfpq": ("nprobe", (4, 16, 64)), "hnsw": ("efSearch", (16, 64, 256))}


@dataclass(frozen=True)
class CodeSet:
    name: str  # e.g. "demo L6 (5,000 images of 50 classes)"
    codes: np.ndarray  # (N, D) float32, L2-normalised rows


def demo_run(run: Path | None = None, *, epochs: int | None = None,
             log: Any = stderr_log) -> Path:
    """A finished demo run: ``run`` if given, else ``$NEURALCODES_HOME/demo-run`` (made once
    with ``neuralcodes demo``: minutes; ``epochs`` caps its training, for a smoke run)."""
    import subprocess
    import sys

    from neuralcodes.runs import RunDir

    if run is not None:
        return run
    out = WORK_DIR / ("demo-run" if epochs is None else f"demo-run-{epochs}ep")
    if not RunDir(out).model.is_file():
        log(f"approximate search: making the demo run {out} (once)")
        cmd = [sys.executable, "-m", "neuralcodes", "demo", "--out", str(out),
               *(["--epochs", str(epochs)] if epochs is not None else [])]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def _encode(run: Path, images: np.ndarray, layers: tuple[str, ...], key: str) -> dict[str, Any]:
    """``{layer: (N, D) codes}`` of ``images`` by the run's network, cached by model and key."""
    from neuralcodes.codes import extract_codes
    from neuralcodes.model import load_model
    from neuralcodes.runs import RunDir

    loaded = load_model(RunDir(run).model)
    folder = CODES_DIR / f"{loaded.header['model_hash']}-{key}"
    if not all((folder / f"{layer}.npy").is_file() for layer in layers):
        extract_codes(loaded.model, images, layers, batch_size=500, device="cpu",
                      out_dir=folder)
    return {layer: np.load(folder / f"{layer}.npy", mmap_mode="r") for layer in layers}


def demo_codes(run: Path) -> list[CodeSet]:
    """The demo run's L6 and L7 codes of every image of its data set."""
    from neuralcodes.pipeline.prepare import open_run_data
    from neuralcodes.runs import RunDir

    images = open_run_data(RunDir(run)).cache.images  # (N, 64, 64, 3) uint8
    codes = _encode(run, images, ("L6", "L7"), f"demo-{len(images)}")
    return [CodeSet(f"demo {layer} ({len(images):,} images of the demo's data set)",
                    np.asarray(codes[layer])) for layer in ("L6", "L7")]


def collection_codes(run: Path, classes: int, per_class: int) -> CodeSet:
    """L6 codes of the load benchmark's generated collection (``classes`` x ``per_class``)."""
    from benchmarks.bench_load import dataset_root
    from neuralcodes.data.cache import open_or_build_cache
    from neuralcodes.data.tinyimagenet import read_tiny_imagenet

    root = dataset_root(classes, per_class)
    cache = open_or_build_cache(read_tiny_imagenet(root), WORK_DIR / f"cache-ann-{classes}x"
                                f"{per_class}")
    n = len(cache.images)
    codes = _encode(run, cache.images, ("L6",), f"collection-{classes}x{per_class}")["L6"]
    return CodeSet(f"generated collection L6 ({n:,} images of {classes} other classes)",
                   np.asarray(codes))


def latency(backend: Any, queries: np.ndarray, limit: int = 300) -> float:
    """The median seconds of one query at a time over the first ``limit`` queries."""
    times = []
    for q in queries[:limit]:
        t0 = time.perf_counter()
        backend.search(q[None], K)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each row of ``truth`` (Q, k) that the same row of ``found`` holds."""
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / truth.shape[1]
                          for f, t in zip(found, truth, strict=True)]))


def measure(codes: CodeSet, queries: int, log: Any = stderr_log) -> list[dict[str, Any]]:
    """Exact, then IVF-PQ and HNSW at each setting of ``SETTINGS``: one result per line."""
    from neuralcodes.index.backends import build_backend

    rng = np.random.default_rng(0)
    order = rng.permutation(len(codes.codes))
    q = np.ascontiguousarray(codes.codes[np.sort(order[:queries])], np.float32)  # (Q, D)
    base = np.ascontiguousarray(codes.codes[np.sort(order[queries:])], np.float32)  # (N, D)
    exact = build_backend("exact", base)
    truth = exact.search(q, K)[1]
    t_exact = latency(exact, q)
    line = {"codes": codes.name, "n": len(base), "d": base.shape[1], "q": len(q)}
    out = [{**line, "backend": "exact", "setting": "-", "recall": 1.0, "ms": 1e3 * t_exact,
            "speedup": 1.0, "build_s": 0.0}]
    for kind, (knob, values) in SETTINGS.items():
        log(f"  {codes.name}: {kind}")
        start = time.perf_counter()
        backend: Any = build_backend(kind, base)
        built = time.perf_counter() - start
        flat = "structure" in backend.params  # too few vectors: FAISS builds a Flat index
        for value in (values[:1] if flat else values):
            if kind == "ivfpq" and value > backend.params.get("nlist", value):
                continue
            if not flat:
                backend.tune(**{"nprobe" if knob == "nprobe" else "ef_search": value})
            t = latency(backend, q)
            out.append({**line, "backend": f"{kind} {backend.structure}",
                        "setting": "-" if flat else f"{knob}={value}",
                        "recall": recall(backend.search(q, K)[1], truth), "ms": 1e3 * t,
                        "speedup": t_exact / t, "build_s": built})
    return out


def markdown(results: list[dict[str, Any]]) -> str:
    """The recall table as Markdown."""
    lines = ["| codes | database | queries | backend | setting | recall@10 | ms/query "
             "| speed-up vs exact | built in s |", "|---|---|---:|---|---|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['codes']} | {r['n']:,} x {r['d']} | {r['q']:,} | {r['backend']} "
                     f"| {r['setting']} | {r['recall']:.4f} | {r['ms']:.3f} "
                     f"| {r['speedup']:.1f}x | {r['build_s']:.1f} |")
    return "\n".join(lines)


def real_codes_table(run: Path | None = None, *, classes: int = 200, per_class: int = 500,
                     queries: int = 1000, epochs: int | None = None,
                     log: Any = stderr_log) -> str:
    """The whole measurement: codes made (or reused), every backend measured, as Markdown."""
    run = demo_run(run, epochs=epochs, log=log)
    sets = [*demo_codes(run), collection_codes(run, classes, per_class)]
    results = []
    for codes in sets:
        log(f"approximate search on {codes.name}")
        results += measure(codes, min(queries, len(codes.codes) // 10), log)
    return f"The network: the demo run {run} (trained).\n\n{markdown(results)}"
