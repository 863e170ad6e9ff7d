"""Time ``retrieval_scores`` (leave-one-out mAP) against the notebook's way and a float64 reference.

Usage: python benchmarks/bench_retrieval.py [--n 5000] [--dims 2048 16384] [--repeats 3]

Codes are random, L2-normalised, 10 balanced classes. Columns: ``neuralcodes`` (this package),
``float64 ref`` (full float64 distance matrix, stable argsort per row, the SPEC formula) and
``notebook`` (scikit-learn NearestNeighbors over all items + a Python loop of the notebook's
average_precision; skipped when scikit-learn is missing). Prints medians, ratios to neuralcodes,
and the largest per-query AP difference to the float64 reference.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np

from neuralcodes.metrics import average_precision, retrieval_scores


def make_codes(
    n: int, dims: int, classes: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((n, dims), dtype=np.float32)  # (N, D)
    codes /= np.linalg.norm(codes, axis=1, keepdims=True)
    labels = rng.permutation(np.arange(n) % classes)  # (N,)
    return codes, labels


def float64_reference(codes: np.ndarray, labels: np.ndarray, block: int = 500) -> np.ndarray:
    """Per-query AP from float64 distances, ties by id, the SPEC formula (blocked by rows)."""
    x = codes.astype(np.float64)
    sq = (x**2).sum(axis=1)
    out = []
    for s in range(0, len(x), block):
        d = sq[s : s + block, None] + sq[None, :] - 2.0 * x[s : s + block] @ x.T  # (b, N)
        d[np.arange(d.shape[0]), np.arange(s, s + d.shape[0])] = np.inf  # the query itself last
        order = np.argsort(d, axis=1, kind="stable")[:, :-1]  # (b, N - 1)
        out.append(average_precision(labels[order] == labels[s : s + block, None]))
    return np.concatenate(out)


def notebook_map(codes: np.ndarray, labels: np.ndarray) -> float:
    """The seed notebook: NearestNeighbors(n_neighbors=N), drop column 0, Python loop of AP."""
    from sklearn.neighbors import NearestNeighbors

    def average_precision_nb(sorted_class_vals: np.ndarray, true_class: int) -> float:
        ind = sorted_class_vals == true_class
        num_positive = np.sum(ind)
        cum_ind = np.cumsum(ind).astype(np.float32)
        enum = np.array(range(1, len(ind) + 1)).astype(np.float32)
        return float(np.sum(cum_ind * ind / enum) / num_positive)

    knn = NearestNeighbors(n_neighbors=len(codes) - 1, n_jobs=-1, p=2).fit(codes)
    idx = knn.kneighbors(codes, n_neighbors=len(codes), return_distance=False)[:, 1:]
    aps = [average_precision_nb(labels[idx[i]], labels[i]) for i in range(len(idx))]
    return float(np.mean(aps))


T = TypeVar("T")


def median_time(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def row(dims: int, name: str, seconds: float, ours: float, score: float, extra: str = "") -> str:
    return f"{dims:>6} {name:<12} {seconds:9.3f} {seconds / ours:7.1f} {score:10.6f}  {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2048, 16384])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    try:
        import sklearn  # noqa: F401

        have_sklearn = True
    except ImportError:
        have_sklearn = False
    print(f"{'dims':>6} {'method':<12} {'median s':>9} {'x ours':>7} {'mAP':>10}  max|dAP| vs f64")
    for dims in args.dims:
        codes, labels = make_codes(args.n, dims)
        ours_t, ours = median_time(partial(retrieval_scores, codes, labels), args.repeats)
        ref_t, ref = median_time(partial(float64_reference, codes, labels), 1)
        err = f"{float(np.abs(ours.ap - ref).max()):.2e} (mAP {abs(ours.map - ref.mean()):.1e})"
        print(row(dims, "neuralcodes", ours_t, ours_t, ours.map, err))
        print(row(dims, "float64 ref", ref_t, ours_t, float(ref.mean())))
        if have_sklearn:
            nb_t, nb = median_time(partial(notebook_map, codes, labels), 1)
            print(row(dims, "notebook", nb_t, ours_t, nb))
        else:
            print(f"{dims:>6} {'notebook':<12} skipped: scikit-learn is not installed")


if __name__ == "__main__":
    main()
