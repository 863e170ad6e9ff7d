"""Average precision, mAP, precision@k and recall@k of leave-one-out retrieval (docs/protocol.md).

Two AP estimators, so that numbers can be compared with either kind of paper. With the relevant
items of one query at ranks ``r_1 < r_2 < ... < r_P`` (1-based, over its full ranking of ``n``
items, the query itself left out):

* ``"spec"`` (docs/protocol.md, the seed notebook, scikit-learn's non-interpolated AP):
  ``AP = (1/P) sum_k precision@k * rel(k) = (1/P) sum_j j / r_j``.
* ``"trapezoid"`` (``compute_ap.cpp`` of the Oxford5k / Holidays benchmark code, Philbin et al.):
  each relevant item adds its recall step ``1/P`` times the mean of the precision just before it
  and just after it: ``AP = (1/P) sum_j ((j-1)/(r_j-1) + j/r_j) / 2``, the "before" precision
  being 1 when ``r_j = 1``. It is never above the ``"spec"`` value (the precision just before a
  relevant item is never higher than just after it).

A query whose class has no other image (``P = 0``) has no AP: its entry is NaN, it is left out of
mAP, precision@k, recall@k and the per-class means, and ``RetrievalScores.n_excluded`` counts it.

How :func:`retrieval_scores` is fast: only the ranks of the relevant items matter, and the rank of
a relevant item is ``j`` plus the number of *irrelevant* items ranked before it, a count that adds
up over blocks of database columns. So the (N, N) distance matrix is visited in (block, block)
tiles, each tile is used for its rows and (for leave-one-out on one set of codes, where the
matrix is symmetric) for its columns too, which halves the matrix products; memory is
``O(block^2 + N * largest class)``. Order is by distance, then database id (deterministic ties).
Distances are float32 (``||x||^2 / 2 - q.x`` with the norms' common part removed, see
``search.half_norms``): mAP agrees with a float64 evaluation to ~1e-9; a single query's AP can
differ by ~1e-5 when two items are closer than float32 can tell apart.
"""

from __future__ import annotations

import os
import sys
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from neuralcodes.config import Estimator, choices
from neuralcodes.errors import ConfigError
from neuralcodes.progress import Progress, ensure
from neuralcodes.search import DEFAULT_BLOCK, as_codes, half_norms, pack

ESTIMATORS = choices(Estimator)
_PAD = np.iinfo(np.int64).max  # a padding "relevant item" that sorts after everything
_WORKERS = max(1, min(4, (os.cpu_count() or 2) // 2))  # threads sorting tiles (GIL-free)
_LOW, _HIGH = (0, 1) if sys.byteorder == "little" else (1, 0)  # 32-bit words of an int64


@dataclass(frozen=True)
class RetrievalScores:
    """Leave-one-out retrieval scores; means are over the queries that have an AP."""

    ap: np.ndarray  # (N,) float64 per-query AP, NaN where the class has no other image
    map: float
    precision_at: dict[int, float]
    recall_at: dict[int, float]
    per_class_ap: dict[int, float]  # class label -> mean AP of its queries
    n_queries: int  # queries that count
    n_excluded: int  # queries without any relevant item (P = 0)
    estimator: str


def average_precision(ranked_relevance: np.ndarray, estimator: str = "spec") -> np.ndarray:
    """AP of each row of a (Q, n) boolean relevance matrix (ranking order); NaN where P = 0."""
    rel = np.asarray(ranked_relevance, dtype=bool)  # (Q, n)
    if rel.ndim != 2:
        raise ConfigError(f"ranked_relevance: expected (Q, n), got shape {rel.shape}")
    _check_estimator(estimator)
    hits = np.cumsum(rel, axis=1, dtype=np.float64)  # (Q, n) relevant items among the first k
    precision = hits / np.arange(1, rel.shape[1] + 1, dtype=np.float64)  # (Q, n)
    if estimator == "trapezoid":
        before = np.concatenate([np.ones((rel.shape[0], 1)), precision[:, :-1]], axis=1)
        precision = (precision + before) / 2.0
    total = np.where(rel, precision, 0.0).sum(axis=1)  # (Q,)
    n_pos = rel.sum(axis=1)  # (Q,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pos > 0, total / n_pos, np.nan)


def ap_from_ranks(ranks: np.ndarray, n_pos: np.ndarray, estimator: str = "spec") -> np.ndarray:
    """AP from the sorted 1-based ranks (Q, Pmax) of the relevant items; columns >= n_pos unused."""
    _check_estimator(estimator)
    j = np.arange(1, ranks.shape[1] + 1, dtype=np.float64)[None, :]  # (1, Pmax)
    valid = j <= n_pos[:, None]  # (Q, Pmax)
    r = np.where(valid, ranks, 1).astype(np.float64)  # (Q, Pmax)
    terms = j / r
    if estimator == "trapezoid":
        before = np.where(r > 1, (j - 1) / np.maximum(r - 1, 1), 1.0)
        terms = (terms + before) / 2.0
    total = np.where(valid, terms, 0.0).sum(axis=1)  # (Q,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_pos > 0, total / n_pos, np.nan)


def retrieval_scores(
    codes: np.ndarray,
    labels: np.ndarray,
    *,
    queries: np.ndarray | None = None,
    precision_at: Sequence[int] = (1, 5, 10, 100),
    recall_at: Sequence[int] = (10, 100),
    block: int = DEFAULT_BLOCK,
    estimator: str = "spec",
    progress: Progress | None = None,
) -> RetrievalScores:
    """Each row of ``codes`` (N, D) in turn queries all the others, ranked by Euclidean distance.

    ``labels`` (N,) are integer classes (same class = relevant). ``queries`` (N, D), optional,
    replaces the query vectors (e.g. after query expansion): query ``i`` still leaves out
    database row ``i``. See the module docstring for the estimators and for P = 0.
    """
    x = as_codes(codes, "codes")  # (N, D)
    q = x if queries is None else as_codes(queries, "queries")  # (N, D)
    lab = _check_inputs(x, q, labels, block, estimator)
    n = x.shape[0]
    ks = {int(k) for k in (*precision_at, *recall_at)}
    bad = sorted(k for k in ks if not 1 <= k <= n - 1)
    if bad:
        raise ConfigError(f"precision/recall at {bad} impossible: k must lie in 1..{n - 1}")
    ranks, n_pos = _relevant_ranks(q, x, lab, block, queries is None, ensure(progress))
    ap = ap_from_ranks(ranks, n_pos, estimator)  # (N,)
    ok = n_pos > 0
    if not ok.any():
        raise ConfigError("no query has a relevant item: every class has a single image")
    hits = {k: (ranks <= k).sum(axis=1) for k in ks}  # pads are huge, never <= k
    return RetrievalScores(
        ap=ap,
        map=float(ap[ok].mean()),
        precision_at={int(k): float(hits[k][ok].mean() / k) for k in precision_at},
        recall_at={int(k): float((hits[k][ok] / n_pos[ok]).mean()) for k in recall_at},
        per_class_ap={int(c): float(ap[ok & (lab == c)].mean()) for c in np.unique(lab[ok])},
        n_queries=int(ok.sum()),
        n_excluded=int((~ok).sum()),
        estimator=estimator,
    )


def _check_estimator(estimator: str) -> None:
    if estimator not in ESTIMATORS:
        raise ConfigError(f"unknown AP estimator {estimator!r}; choose one of {ESTIMATORS}")


def _check_inputs(
    x: np.ndarray, q: np.ndarray, labels: np.ndarray, block: int, estimator: str
) -> np.ndarray:
    _check_estimator(estimator)
    lab = np.asarray(labels)
    if lab.shape != (x.shape[0],) or not np.issubdtype(lab.dtype, np.integer):
        raise ConfigError(f"labels: expected ({x.shape[0]},) integers, got {lab.dtype} {lab.shape}")
    if q.shape != x.shape:
        raise ConfigError(f"queries: expected shape {x.shape} (one per code), got {q.shape}")
    if x.shape[0] < 2:
        raise ConfigError(f"leave-one-out retrieval needs at least 2 codes, got {x.shape[0]}")
    if block < 1:
        raise ConfigError(f"block must be >= 1, got {block}")
    if x.shape[0] >= 1 << 30:
        raise ConfigError(f"too many codes for exact evaluation: {x.shape[0]} (max {2**30 - 1})")
    return lab.astype(np.int64)


def _relevant_ranks(
    q: np.ndarray, x: np.ndarray, lab: np.ndarray, block: int, symmetric: bool, progress: Progress
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted 1-based ranks (N, Pmax) of each query's relevant items (padded huge) and P (N,)."""
    order = np.argsort(lab, kind="stable")  # rows grouped by class: relevant columns are a range
    xs, ls = x[order], lab[order]
    qs = xs if symmetric else q[order]
    half_sq, _ = half_norms(xs)  # (N,): ||x||^2/2 (minus a constant) - q.x orders like distance
    first = np.searchsorted(ls, ls, side="left")  # (N,) class range [first, last) of each row
    last = np.searchsorted(ls, ls, side="right")  # (N,)
    ctx = _Context(first, last, (2 * order).astype(np.int32))
    spans = [(s, min(s + block, len(ls))) for s in range(0, len(ls), block)]
    pos = [_positive_keys(qs, xs, half_sq, ctx, order, s, e) for s, e in spans]  # (b, Pmax_r)
    counts = [np.zeros(p.shape, dtype=np.int64) for p in pos]  # irrelevant items before each
    pending: deque[tuple[int, Future[np.ndarray]]] = deque()
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:  # sorting overlaps the next product
        for r in progress.track(range(len(spans)), total=len(spans), desc="retrieval"):
            for t in range(r if symmetric else 0, len(spans)):
                (rs, re_), (ts, te) = spans[r], spans[t]
                dots = qs[rs:re_] @ xs[ts:te].T  # (b, w); numpy uses syrk on diagonal tiles
                jobs = [(r, t, half_sq[None, ts:te], dots)]
                if symmetric and t != r:  # the same tile read by columns serves block t's rows
                    jobs.append((t, r, half_sq[None, rs:re_], dots.T))
                for row, col, sq_cols, d in jobs:
                    job = (d, sq_cols, spans[row], spans[col], ctx, pos[row])
                    pending.append((row, pool.submit(_count_tile, *job)))
                while len(pending) > 2 * _WORKERS:  # bounded memory: a few tiles in flight
                    row, done = pending.popleft()
                    counts[row] += done.result()
        for row, done in pending:
            counts[row] += done.result()
    return _assemble(spans, pos, counts, order)


def _assemble(
    spans: list[tuple[int, int]], pos: list[np.ndarray], counts: list[np.ndarray],
    order: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-block counts -> ranks (N, Pmax) and P (N,) in the caller's original row order.

    The j-th relevant item (1-based, in ranking order) has rank j + (irrelevant items before it).
    """
    ranks = np.full((len(order), max(p.shape[1] for p in pos)), _PAD, dtype=np.int64)
    n_pos = np.empty(len(order), dtype=np.int64)
    for (s, e), p, c in zip(spans, pos, counts, strict=True):
        real = p != _PAD  # (b, Pmax_r)
        j = np.arange(1, p.shape[1] + 1)[None, :]
        ranks[order[s:e], : p.shape[1]] = np.where(real, c + j, _PAD)
        n_pos[order[s:e]] = real.sum(axis=1)
    return ranks, n_pos


@dataclass(frozen=True)
class _Context:
    first: np.ndarray  # (N,) first row of each row's class (class-sorted order)
    last: np.ndarray  # (N,) one past its last row
    low: np.ndarray  # (N,) int32 2 * original id: the even low word of an irrelevant key


def _positive_keys(
    qs: np.ndarray, xs: np.ndarray, half_sq: np.ndarray, ctx: _Context, order: np.ndarray,
    s: int, e: int,
) -> np.ndarray:
    """Packed, sorted keys (b, Pmax) of the relevant items of rows s..e (class-sorted order).

    Low bits are ``2 * id + 1`` (odd marks a relevant item); padding is ``_PAD``.
    """
    width = int((ctx.last[s:e] - ctx.first[s:e]).max()) - 1
    out = np.full((e - s, width), _PAD, dtype=np.int64)
    row = s
    while row < e:  # one run of rows of the same class at a time
        cs, ce = int(ctx.first[row]), int(ctx.last[row])
        rows = np.arange(row, min(ce, e))
        dots = qs[row : min(ce, e)] @ xs[cs:ce].T  # (rows, m); a whole class: syrk
        keys = half_sq[None, cs:ce] - dots
        keys[np.arange(len(rows)), rows - cs] = np.inf  # the query itself: sorted last, dropped
        packed = np.sort(pack(keys, 2 * order[None, cs:ce] + 1), axis=1)[:, : ce - cs - 1]
        out[rows - s, : ce - cs - 1] = packed
        row = int(rows[-1]) + 1
    return out


def _count_tile(
    dots: np.ndarray, sq_cols: np.ndarray, row_span: tuple[int, int], col_span: tuple[int, int],
    ctx: _Context, pos: np.ndarray,
) -> np.ndarray:
    """For each relevant key of ``pos`` (b, P), how many irrelevant items of a tile of dot
    products ``dots`` (b, w) rank before it (same row), by their keys ``||x||^2 / 2 - q.x``.
    Relevant columns are masked; one merged integer sort."""
    (rs, re_), (ts, te) = row_span, col_span
    if pos.shape[1] == 0:
        return np.zeros(pos.shape, dtype=np.int64)
    keys = sq_cols - dots  # (b, w)
    row = rs
    while row < re_:  # mask the relevant columns (and the query itself): a range per class
        lo, hi, end = max(ctx.first[row], ts), min(ctx.last[row], te), min(ctx.last[row], re_)
        if lo < hi:
            keys[row - rs : end - rs, lo - ts : hi - ts] = np.inf
        row = int(end)
    b, w = keys.shape
    merged = np.empty((b, w + pos.shape[1]), dtype=np.int64)
    words = merged.view(np.int32).reshape(b, -1, 2)  # (b, w + P, 2) low and high 32-bit words
    bits = keys.view(np.int32)  # float32 -> order-preserving int32 (as search.sortable_int)
    words[:, :w, _HIGH] = bits ^ ((bits >> 31) & np.int32(0x7FFFFFFF))
    words[:, :w, _LOW] = ctx.low[None, ts:te]
    merged[:, w:] = pos
    merged.sort(axis=1)
    where = np.flatnonzero(words[:, :, _LOW] & 1) % merged.shape[1]  # P per row, in row order
    return where.reshape(pos.shape) - np.arange(pos.shape[1])[None, :]
