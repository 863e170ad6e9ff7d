"""One query, end to end: decode, forward pass and search, p50 and p95, with the split.

    python -m benchmarks.bench_query [--rounds 3] [--images 10000] [--width 1.0] [--queries 50]
        [--families resnet,dinov2] [--size base|tiny]

The collection (``--images`` 320x240 JPEGs), a network of the notebook's architecture at
``--width`` (1.0: full width; random weights, the speed does not depend on them) and its exact
index (``build_index``, layer L6) are made once under ``$NEURALCODES_HOME/query-bench`` and
reused. Each measurement is a fresh process that opens the index as ``neuralcodes search`` and
``neuralcodes serve`` do (no allocator tuning: a server gives memory back), answers 5 warm-up
queries, then ``--queries`` queries from 1024x768 JPEGs through ``Index.search`` (its own
decode / encode / search timings; total = the call) and as many by id (``search_by_id``).

Variants: fp32 (the default: a run folder's codes are fp32), fp32 on one intra-op thread (what a
server answering several requests at once would give each), and on CPUs with native bf16: bf16
with the weights cast once (the encoder's fast path), and bf16 the way it ran before (autocast
casting every weight at every call), with the agreement of the bf16 results with fp32's
(top-10 overlap; share of indexed photos that find themselves first).

Pretrained 224x224 networks (``--families``, random weights in the published architectures of
``bench_encode``): the same query through ``neuralcodes.encoder`` (the network's own
preprocessing, bf16 where the CPU has it) and exact search over 10,000 stored random unit codes
of the network's dimension (an index cannot be built from them yet; search cost does not depend
on the values).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from benchmarks.common import Row, alternate, emit, run_worker, stderr_log
from benchmarks.query_workers import (
    BF16_ONLY,
    K,
    collection,
    index_worker,
    pretrained_worker,
    query_photos,
)

FAMILIES = ("resnet", "dinov2")
DEFAULT = "fp32 (the default)"
VARIANTS = {DEFAULT: "fp32", "fp32, 1 intra-op thread": "fp32-1",
            "bf16, weights cast once (the encoder)": "bf16",
            "bf16, weights cast at every call (before)": "bf16-before"}


def _runner(args: list[str], results: list[dict[str, Any]]) -> Any:
    def run() -> float:
        res = run_worker("bench_query", args)
        results.append(res)
        return float(res["total"]["p50"])

    return run


def _median(results: list[dict[str, Any]], *keys: str) -> float:
    values = []
    for res in results:
        for key in keys:
            res = res[key]
        values.append(float(res))  # type: ignore[arg-type]
    return statistics.median(values)


def _row(bench: str, impl: str, values: list[float], results: list[dict[str, Any]],
         peer: str | None = None) -> Row:
    row = Row(bench, impl, "ms", values, False, peer)
    row.extra["p95 ms"] = _median(results, "total", "p95")
    for part in ("decode", "forward", "search"):
        row.extra[f"{part} ms"] = _median(results, part, "p50")
    row.extra["page faults/query"] = _median(results, "faults_per_query")
    row.extra["threads"] = _median(results, "threads")
    return row


def index_rows(rounds: int, index_dir: Path, built: dict[str, Any], queries: int,
               log: Any = stderr_log) -> tuple[list[Row], str]:
    """The full-width index's variants, alternated; rows and the bf16 agreement line."""
    from neuralcodes.device import cpu_has_bf16

    variants = {k: v for k, v in VARIANTS.items() if cpu_has_bf16() or v not in BF16_ONLY}
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    runs = [(name, _runner(["index", str(index_dir), "--variant", v, "--queries", str(queries)],
                           results[name])) for name, v in variants.items()]
    bench = (f"one query end to end: 1024x768 JPEG, k={K}, notebook network width "
             f"{built['width']:g}, exact index of {built['images']:,} images (L6, "
             f"{built['dim']}-d)")
    log(f"{bench}: {rounds} rounds of {len(variants)} variants")
    values = alternate(runs, rounds, log)
    before = next((n for n, v in variants.items() if v == "bf16-before"), None)
    rows = [_row(bench, f"neuralcodes Index.search, {name}", values[name], results[name],
                 f"neuralcodes Index.search, {before}" if v == "bf16" and before else None)
            for name, v in variants.items()]
    by_id = f"query by id: k={K}, exact index of {built['images']:,} images ({built['dim']}-d)"
    for name in (DEFAULT, "fp32, 1 intra-op thread"):
        row = Row(by_id, f"neuralcodes Index.search_by_id, {name}", "ms",
                  [r["by_id"]["p50"] for r in results[name]], False)
        row.extra["p95 ms"] = _median(results[name], "by_id", "p95")
        rows.append(row)
    text = ""
    agreed = [r["agreement"] for name, v in variants.items() if v == "bf16"
              for r in results[name]]
    if agreed:
        a = agreed[0]
        text = (f"bf16 queries against the fp32 index ({built['images']:,} images): top-{K} "
                f"overlap with fp32's {a['top10_overlap']:.3f}; indexed photos that find "
                f"themselves first {a['self_first']:.2f} (fp32: {a['self_first_fp32']:.2f}).")
    return rows, text


def pretrained_rows(rounds: int, families: tuple[str, ...], size: str, queries: int,
                    vectors: int, log: Any = stderr_log) -> list[Row]:
    """One query through each pretrained network: bf16 where the CPU has it, and fp32."""
    from benchmarks.bench_encode import model_folder

    rows = []
    for family in families:
        folder = model_folder(family, size)
        results: dict[str, list[dict[str, Any]]] = {"auto": [], "fp32": []}
        runs = [(p, _runner(["pretrained", str(folder), "--precision", p, "--queries",
                             str(queries), "--vectors", str(vectors)], results[p]))
                for p in results]
        log(f"one query, {family} ({folder.name}): {rounds} rounds")
        values = alternate(runs, rounds, log)
        first = results["auto"][0]
        s = first["image_size"]
        bench = (f"one query end to end: 1024x768 JPEG, k={K}, {family} {s}x{s} "
                 f"({folder.name}), exact search over {vectors:,} codes ({first['dim']}-d)")
        rows += [_row(bench, "neuralcodes encoder, bf16 where the CPU has it", values["auto"],
                      results["auto"]),
                 _row(bench, "neuralcodes encoder, fp32", values["fp32"], results["fp32"])]
    return rows


def split_table(rows: list[Row]) -> str:
    """The latency split of every query row, as Markdown."""
    lines = ["| query | implementation | p50 ms | p95 ms | decode ms | forward ms | search ms "
             "| page faults/query | threads |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        e = r.extra
        if "decode ms" not in e:
            lines.append(f"| {r.bench} | {r.impl} | {r.median:.2f} | {e['p95 ms']:.2f} | - | - "
                         f"| {r.median:.2f} | - | - |")
            continue
        lines.append(f"| {r.bench} | {r.impl} | {r.median:.1f} | {e['p95 ms']:.1f} | "
                     f"{e['decode ms']:.1f} | {e['forward ms']:.1f} | {e['search ms']:.2f} | "
                     f"{e['page faults/query']:,.0f} | {e['threads']:.0f} |")
    return "\n".join(lines)


def report(rounds: int = 3, images: int = 10_000, width: float = 1.0, queries: int = 50,
           families: tuple[str, ...] = FAMILIES, size: str = "base", vectors: int = 10_000,
           log: Any = stderr_log) -> tuple[list[Row], str]:
    """Every query row, and the Markdown of the latency split (for BENCHMARKS.md)."""
    index_dir, built = collection(images, width, log)
    query_photos()
    rows, agreement_text = index_rows(rounds, index_dir, built, queries, log)
    rows += pretrained_rows(rounds, families, size, queries, vectors, log)
    text = (f"### One query, end to end (bench_query.py)\n\nThe index: {built['images']:,} "
            f"photos, built in {built['build_s']:.0f} s when first made. Medians over "
            f"{rounds} processes of each one's p50 / p95 over {queries} queries.\n\n"
            f"{split_table(rows)}\n\n{agreement_text}\n")
    return rows, text


def compare(rounds: int = 3, **sizes: Any) -> list[Row]:
    return report(rounds, **sizes)[0]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("what", choices=("index", "pretrained"))
    w.add_argument("path", type=Path)
    w.add_argument("--variant", default="fp32")
    w.add_argument("--precision", default="auto")
    w.add_argument("--vectors", type=int, default=10_000)
    for q in (p, w):
        q.add_argument("--queries", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--size", choices=("base", "tiny"), default="base")
    args = p.parse_args(argv)
    if args.cmd == "worker":
        if args.what == "index":
            emit(index_worker(args.path, args.variant, args.queries))
        else:
            emit(pretrained_worker(args.path, args.precision, args.queries, args.vectors))
        return
    families = tuple(f for f in args.families.split(",") if f)
    rows, text = report(args.rounds, args.images, args.width, args.queries, families, args.size)
    from benchmarks.report import print_rows

    print_rows(rows)
    print(text)


if __name__ == "__main__":
    main()
