"""Loading Tiny ImageNet: neuralcodes' parallel decode into the uint8 cache against the notebook's.

The data set is 100,000 64x64 JPEGs in the Tiny ImageNet layout (200 classes x 500), written once
by ``neuralcodes.data.synthetic`` under ``$NEURALCODES_HOME`` (default /tmp/neuralcodes-bench),
outside the repository. Every file is read once before measuring (a warm page cache, as the target
says). Each measurement is a fresh process whose whole process tree is sampled for its peak
memory (summed PSS):

- neuralcodes: index the folder and decode everything into a fresh cache (``open_or_build_cache``
  with ``rebuild=True``), then, in another process, reopen it (index + fingerprint check + memmap).
- the notebook: ``load_imagenet``, split, float32 (``benchmarks.peers.notebook_loader``).

    python -m benchmarks.bench_load [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from benchmarks.common import WORK_DIR, Row, alternate, emit, run_worker, stderr_log

CLASSES, PER_CLASS = 200, 500


def bench_names(n: int) -> tuple[str, str]:
    """The table's names of the load and reopen benchmarks of ``n`` images."""
    return f"load {n:,} 64x64 JPEGs into arrays", f"reopen the loaded data set of {n:,}"


def dataset_root(classes: int = CLASSES, per_class: int = PER_CLASS) -> Path:
    """The benchmark data set's ``tiny-imagenet-200`` folder, written on first use (minutes)."""
    from neuralcodes.data.synthetic import make_synthetic

    name = "tiny" if (classes, per_class) == (CLASSES, PER_CLASS) else f"tiny-{classes}x{per_class}"
    return make_synthetic(WORK_DIR / name, n_classes=classes, per_class=per_class, seed=0)


def warm_page_cache(root: Path) -> int:
    """Read every file under ``root`` once; the number of bytes read."""
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                total += len(f.read())
    return total


def decode_worker(root: Path, cache: Path) -> dict[str, Any]:
    """Index the folder and decode every image into a fresh cache."""
    from neuralcodes.data.cache import open_or_build_cache
    from neuralcodes.data.tinyimagenet import read_tiny_imagenet

    start = time.perf_counter()
    index = read_tiny_imagenet(root)
    indexed = time.perf_counter()
    built = open_or_build_cache(index, cache, rebuild=True)
    end = time.perf_counter()
    return {
        "seconds": end - start,
        "index_s": indexed - start,
        "decode_s": end - indexed,
        "images": len(built),
    }


def reopen_worker(root: Path, cache: Path) -> dict[str, Any]:
    """Reopen the built cache as a run does: index, fingerprint check, memory map; touch one row."""
    from neuralcodes.data.cache import open_cache, open_or_build_cache
    from neuralcodes.data.tinyimagenet import read_tiny_imagenet

    start = time.perf_counter()
    cache_obj = open_or_build_cache(read_tiny_imagenet(root), cache)
    int(cache_obj.images[-1].sum())
    middle = time.perf_counter()
    int(open_cache(cache).images[0].sum())
    return {"seconds": middle - start, "open_cache_s": time.perf_counter() - middle}


def notebook_worker(root: Path) -> dict[str, Any]:
    """The notebook's loader, split and float32 conversion."""
    from benchmarks.peers.notebook_loader import load_like_notebook

    start = time.perf_counter()
    arrays = load_like_notebook(root)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "images": sum(len(v) for k, v in arrays.items() if k.endswith("_x")),
    }


def compare(rounds: int = 3, classes: int = CLASSES, per_class: int = PER_CLASS,
            log: Any = stderr_log) -> list[Row]:
    """Alternate decode, reopen and the notebook loader; rows with medians of seconds and MB."""
    root = dataset_root(classes, per_class)
    cache = WORK_DIR / ("cache-bench" if (classes, per_class) == (CLASSES, PER_CLASS)
                        else f"cache-bench-{classes}x{per_class}")
    bench_load, bench_reopen = bench_names(classes * per_class)
    log(f"{bench_load}: warming the page cache ({warm_page_cache(root) / 1e6:.0f} MB)")
    extras: dict[str, list[dict[str, Any]]] = {"ours": [], "reopen": [], "notebook": []}

    def runner(name: str, args: list[str]) -> Any:
        def run() -> float:
            res = run_worker("bench_load", [name, str(root), str(cache), *args], memory=True)
            extras[name].append(res)
            return float(res["seconds"])

        return run

    runs = [
        ("ours", runner("ours", [])),
        ("reopen", runner("reopen", [])),
        ("notebook", runner("notebook", [])),
    ]
    values = alternate(runs, rounds, log)
    peer = "the notebook's loader (float32)"
    rows = [
        Row(bench_load, peer, "s", values["notebook"], False),
        Row(
            bench_load, "neuralcodes decode into the uint8 cache", "s", values["ours"], False, peer
        ),
        Row(
            bench_reopen,
            "neuralcodes reopen (index + check + memmap)",
            "s",
            values["reopen"],
            False,
            None,
        ),
    ]
    for row, key in zip(rows, ("notebook", "ours", "reopen"), strict=True):
        row.extra["peak MB"] = _median([e["peak_mb"] for e in extras[key]])
    rows[1].extra["index s"] = _median([e["index_s"] for e in extras["ours"]])
    rows[2].extra["open_cache s"] = _median([e["open_cache_s"] for e in extras["reopen"]])
    return rows


def _median(values: list[float]) -> float:
    import statistics

    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("what", choices=("ours", "reopen", "notebook"))
    w.add_argument("root", type=Path)
    w.add_argument("cache", type=Path)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        if args.what == "ours":
            emit(decode_worker(args.root, args.cache))
        elif args.what == "reopen":
            emit(reopen_worker(args.root, args.cache))
        else:
            emit(notebook_worker(args.root))
        return
    from benchmarks.report import print_rows

    print_rows(compare(args.rounds))


if __name__ == "__main__":
    main()
