"""Search: neuralcodes' exact blocked search and retrieval mAP against FAISS exact search.

Codes are 5,000 L2-normalised rows in 10 classes of 500 (the size of the OOD set), made of class
centres plus noise so that the mAP is neither 0 nor 1; 2,048 dims (L6, L7) and 16,384 (L5). Each
measurement is a fresh process (FAISS and NumPy keep their own thread pools):

- retrieval mAP of 5,000 leave-one-out queries: ``neuralcodes.metrics.retrieval_scores`` against
  the notebook's scikit-learn way (``notebook_map`` of ``bench_retrieval.py``, engineer C's peer,
  the reference of the ratio) and FAISS ``IndexFlatIP`` ranking all 4,999 others plus a
  vectorised AP (``peers.faiss_search``);
- k-NN, k = 10, 5,000 queries: ``neuralcodes.search.knn`` against FAISS ``search``.

    python -m benchmarks.bench_search [--rounds 3]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import WORK_DIR, Row, alternate, emit, run_worker, stderr_log

N_CLASSES, PER_CLASS, K = 10, 500, 10
DIMS = (2048, 16384)
TARGET_S = {2048: 0.8, 16384: 3.5}  # issue 5: retrieval evaluation of 5,000 queries


def make_codes(
    dim: int, seed: int = 0, classes: int = N_CLASSES, per_class: int = PER_CLASS
) -> tuple[np.ndarray, np.ndarray]:
    """(classes * per_class, dim) float32 unit rows and their int labels, shuffled."""
    rng = np.random.default_rng([seed, dim])
    centres = rng.standard_normal((classes, dim)).astype(np.float32)  # (C, D)
    labels = rng.permutation(np.repeat(np.arange(classes), per_class))  # (N,)
    strength = dim**-0.25  # keeps the mAP near 0.3 at any dim (noise distances grow as sqrt(D))
    x = strength * centres[labels] + rng.standard_normal((len(labels), dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, labels


def codes_file(dim: int, per_class: int = PER_CLASS) -> Path:
    name = f"codes-{dim}.npz" if per_class == PER_CLASS else f"codes-{dim}-{per_class}.npz"
    path = WORK_DIR / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        x, y = make_codes(dim, per_class=per_class)
        np.savez(path, x=x, y=y)
    return path


def worker(what: str, impl: str, path: Path) -> dict[str, Any]:
    """Time ``what`` ("map", "knn") with ``impl`` ("ours", "faiss", "notebook") on a codes file."""
    data = np.load(path)
    x, y = data["x"], data["y"]
    runs: dict[str, Any]
    if impl == "faiss":
        from benchmarks.peers.faiss_search import faiss_knn, faiss_map

        runs = {"map": lambda: faiss_map(x, y), "knn": lambda: faiss_knn(x, x, K + 1)}
    elif impl == "notebook":
        from benchmarks.bench_retrieval import notebook_map  # engineer C's peer

        runs = {"map": lambda: notebook_map(x, y)}
    else:
        from neuralcodes.metrics import retrieval_scores
        from neuralcodes.search import knn

        runs = {
            "map": lambda: retrieval_scores(x, y).map,
            "knn": lambda: knn(x, x, K, exclude=np.arange(len(x))),
        }
    start = time.perf_counter()
    result = runs[what]()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "map": float(result) if what == "map" else float("nan")}


def _has_notebook_peer() -> bool:
    try:
        import sklearn  # noqa: F401

        from benchmarks.bench_retrieval import notebook_map  # noqa: F401
    except ImportError:
        return False
    return True


def compare(rounds: int = 3, per_class: int = PER_CLASS, dims: tuple[int, ...] = DIMS,
            log: Any = stderr_log) -> list[Row]:
    """Per dimension: mAP (notebook, FAISS, ours) and k-NN (FAISS, ours); rows of median seconds.
    ``per_class`` x 10 classes of codes (5,000 by default), ``dims``: their dimensions."""
    rows: list[Row] = []
    impls = ("notebook", "faiss", "ours") if _has_notebook_peer() else ("faiss", "ours")
    for dim in dims:
        maps: dict[str, list[float]] = {i: [] for i in impls}
        path = codes_file(dim, per_class)
        runs = [(f"map {i}", _runner("map", i, path, maps)) for i in impls]
        runs += [(f"knn {i}", _runner("knn", i, path, maps)) for i in ("faiss", "ours")]
        log(f"search at {dim} dims: {rounds} rounds")
        vals = alternate(runs, rounds, log)
        n = N_CLASSES * per_class
        rows += _map_rows(dim, vals, maps, n) + _knn_rows(dim, vals, n)
    return rows


def _runner(what: str, impl: str, path: Path, maps: dict[str, list[float]]) -> Any:
    def run() -> float:
        res = run_worker("bench_search", [what, impl, str(path)])
        if what == "map":
            maps[impl].append(res["map"])
        return float(res["seconds"])

    return run


def _map_rows(dim: int, vals: dict[str, list[float]], maps: dict[str, list[float]],
              n: int) -> list[Row]:
    bench = f"retrieval mAP, {n:,} queries, {dim:,} dims"
    names = {
        "notebook": "the notebook's way (scikit-learn kNN + Python AP loop)",
        "faiss": "FAISS IndexFlatIP (full ranking) + vectorised AP",
        "ours": "neuralcodes retrieval_scores",
    }
    peer = names["notebook"] if "notebook" in maps else names["faiss"]
    ours_map = maps["ours"][0]
    rows = []
    for impl, name in names.items():
        if impl not in maps:
            continue
        row = Row(bench, name, "s", vals[f"map {impl}"], False, None if name == peer else peer)
        row.note = f"mAP {maps[impl][0]:.6f}"
        if impl != "ours":
            row.note += f" (|diff| to ours {abs(maps[impl][0] - ours_map):.1e})"
        rows.append(row)
    rows[-1].note += f"; target <= {TARGET_S[dim]} s" if dim in TARGET_S and n == 5000 else ""
    return rows


def _knn_rows(dim: int, vals: dict[str, list[float]], n: int) -> list[Row]:
    bench = f"k-NN k=10, {n:,} x {n:,}, {dim:,} dims"
    peer = "FAISS IndexFlatIP"
    return [
        Row(bench, peer, "s", vals["knn faiss"], False),
        Row(bench, "neuralcodes search.knn", "s", vals["knn ours"], False, peer),
    ]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("what", choices=("map", "knn"))
    w.add_argument("impl", choices=("ours", "faiss", "notebook"))
    w.add_argument("path", type=Path)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        emit(worker(args.what, args.impl, args.path))
        return
    from benchmarks.report import print_rows

    print_rows(compare(args.rounds))


if __name__ == "__main__":
    main()
