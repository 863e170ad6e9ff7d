"""Benchmark of the image index: indexing throughput, query latency, approximate search.

    python benchmarks/bench_index.py                      # the numbers of the README
    python benchmarks/bench_index.py --images 2000 --vectors 20000 --width 0.25   # quick

Part 1 generates ``--images`` JPEG photos (320x240, smooth random colour patterns), builds an
exact index over them with a network of the notebook's architecture (randomly initialised: the
speed does not depend on the weights) and reports images/s; then times single queries from
1024x768 JPEGs, split into decode (+ resize), network forward and search (median, p95).
Part 2 measures the approximate backends on ``--vectors`` *synthetic* codes (normalised vectors
around 1,000 random centres, ``--dim`` dimensions, like PCA-compressed neural codes): recall@10
against exact search and the speed-up of a single query, on held-out queries.
Part 3 (``benchmarks/ann_codes.py``) does the same on *real* neural codes: the demo run's L6 and
L7 codes and those of a generated collection of ``--real-images`` images, at three settings of
``nprobe`` and ``efSearch`` (``--skip-real`` leaves it out; ``--run`` names a finished run).
All timings run on the cores this process may use (``taskset -c 0,1`` for 2 cores).
``make bench`` runs parts 2 and 3 (``report``); ``bench_query.py`` times single queries.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def photo(path: Path, seed: int, size: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base, freq, phase = rng.uniform(0, 255, 3), rng.uniform(1, 12, 3), rng.uniform(0, 6, 3)
    pixels = np.stack([base[c] * (0.5 + 0.5 * np.sin(freq[c] * (xx + (c - 1) * yy) * np.pi
                                                      + phase[c])) for c in range(3)], axis=2)
    pixels += rng.normal(0, 8, pixels.shape)
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)


def _photos(args: tuple[Path, range, tuple[int, int]]) -> None:
    folder, seeds, size = args
    for s in seeds:
        photo(folder / f"{s // 1000:03d}" / f"img{s:06d}.jpg", s, size)


def make_photos(root: Path, n: int, size: tuple[int, int], workers: int) -> float:
    start = time.perf_counter()
    for s in range(0, n, 1000):
        (root / f"{s // 1000:03d}").mkdir(parents=True, exist_ok=True)
    chunks = [(root, range(i, min(i + 250, n)), size) for i in range(0, n, 250)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_photos, chunks))
    return time.perf_counter() - start


def make_run(run: Path, width: float) -> None:
    import torch

    from neuralcodes.config import ModelConfig
    from neuralcodes.model import create_model, save_model
    from neuralcodes.runs import RunDir

    torch.manual_seed(0)
    cfg = ModelConfig(width=width)
    run.mkdir(parents=True, exist_ok=True)
    save_model(RunDir(run).model, create_model(cfg), cfg)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))  # ms


def bench_collection(work: Path, args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    from neuralcodes.index import Index, build_index

    photos, run, idx = work / "photos", work / "run", work / "index"
    t_gen = make_photos(photos, args.images, (320, 240), args.workers)
    queries = work / "queries"
    queries.mkdir()
    for i in range(10):
        photo(queries / f"q{i}.jpg", 10**6 + i, (1024, 768))
    make_run(run, args.width)
    print(f"generated {args.images} photos in {t_gen:.0f} s; indexing ...", flush=True)
    start = time.perf_counter()
    info = build_index(photos, idx, run_dir=run, layer=args.layer, pca=args.pca,
                       workers=args.workers, batch_size=args.batch_size, device="cpu")
    wall = time.perf_counter() - start
    rows.append(("collection", f"{info.count} JPEGs 320x240, network width {args.width}, "
                               f"layer {info.layer}, {info.dim}-d vectors"))
    rows.append(("indexing throughput", f"{info.count / wall:.1f} images/s "
                 f"({wall:.0f} s wall, decode in {args.workers} processes + forward)"))
    index = Index.open(idx, device="cpu")
    parts: dict[str, list[float]] = {"decode": [], "forward": [], "search": [], "total": []}
    files = sorted(queries.glob("*.jpg"))
    for i in range(args.queries + 5):
        t0 = time.perf_counter()
        pixels = index.load(files[i % len(files)])
        t1 = time.perf_counter()
        vec = index.embed(pixels[None])
        t2 = time.perf_counter()
        index.search_vectors(vec, 10)
        t3 = time.perf_counter()
        if i >= 5:  # warm-up
            for key, dt in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t3 - t0), strict=True):
                parts[key].append(dt)
    for key, values in parts.items():
        rows.append((f"query {key} (1024x768 JPEG, k=10)",
                     f"median {pct(values, 50):.2f} ms, p95 {pct(values, 95):.2f} ms"))


def synthetic_codes(n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(1000, d)).astype(np.float32)
    x = centres[rng.integers(0, 1000, n)] + 1.0 * rng.normal(size=(n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_ann(args: argparse.Namespace, rows: list[tuple[str, str]]) -> None:
    from neuralcodes.index.backends import build_backend

    data = synthetic_codes(args.vectors + args.queries, args.dim, seed=0)
    base, queries = data[: args.vectors], data[args.vectors :]
    exact = build_backend("exact", base)
    _, truth = exact.search(queries, 10)
    t_exact = _latency(exact, queries)
    rows.append(("ANN data", f"{args.vectors} synthetic {args.dim}-d codes (1000 clusters), "
                             f"{args.queries} held-out queries"))
    rows.append(("exact search, 1 query", f"median {1000 * t_exact:.2f} ms"))
    for kind in ("ivfpq", "hnsw"):
        start = time.perf_counter()
        backend = build_backend(kind, base)
        built = time.perf_counter() - start
        _, found = backend.search(queries, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found, strict=True)])
        t = _latency(backend, queries)
        rows.append((f"{kind} {backend.params}",
                     f"recall@10 {recall:.4f}, median {1000 * t:.3f} ms/query, speed-up "
                     f"{t_exact / t:.1f}x, built in {built:.0f} s"))


def _latency(backend: object, queries: np.ndarray) -> float:
    times = []
    for q in queries[: min(len(queries), 300)]:
        t0 = time.perf_counter()
        backend.search(q[None], 10)  # type: ignore[attr-defined]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def report(rounds: int = 1, *, vectors: int = 100_000, dim: int = 128, queries: int = 200,
           real_images: tuple[int, int] = (200, 500), real_queries: int = 1000,
           run: Path | None = None, demo_epochs: int | None = None,
           log: Any = None) -> tuple[list[Any], str]:
    """Parts 2 and 3 as Markdown for BENCHMARKS.md (``rounds`` is not used: one pass)."""
    from benchmarks.ann_codes import real_codes_table
    from benchmarks.common import stderr_log

    log = log or stderr_log
    real = real_codes_table(run, classes=real_images[0], per_class=real_images[1],
                            queries=real_queries, epochs=demo_epochs, log=log)
    rows: list[tuple[str, str]] = []
    log(f"approximate search on {vectors:,} synthetic codes")
    bench_ann(argparse.Namespace(vectors=vectors, dim=dim, queries=queries), rows)
    synthetic = "\n".join(f"- {key}: {value}" for key, value in rows)
    return [], (f"### Approximate search (bench_index.py)\n\nOn real neural codes. {real}"
                f"\n\nOn synthetic clustered codes:\n\n{synthetic}\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--vectors", type=int, default=100_000)
    p.add_argument("--dim", type=int, default=128, help="dims of the synthetic ANN codes")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--width", type=float, default=1.0, help="network width (1.0: the notebook's)")
    p.add_argument("--layer", default="L6")
    p.add_argument("--pca", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--skip-collection", action="store_true")
    p.add_argument("--skip-real", action="store_true", help="leave out part 3 (real codes)")
    p.add_argument("--real-images", default="200x500", help="classes x images per class")
    p.add_argument("--run", type=Path, help="a finished run for part 3 (default: a demo run)")
    p.add_argument("--workdir", help="keep the generated files here (default: a temp folder)")
    args = p.parse_args()
    rows: list[tuple[str, str]] = [("cores", str(len(os.sched_getaffinity(0))))]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(args.workdir or tmp)
        if not args.skip_collection:
            bench_collection(work, args, rows)
        bench_ann(args, rows)
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if not args.skip_real:
        from benchmarks.ann_codes import real_codes_table

        classes, per_class = (int(v) for v in args.real_images.split("x"))
        print("\n" + real_codes_table(args.run, classes=classes, per_class=per_class))


if __name__ == "__main__":
    main()
