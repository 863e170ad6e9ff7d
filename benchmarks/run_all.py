"""Run every benchmark, alternating neuralcodes and its peers; print and write BENCHMARKS.md.

    python benchmarks/run_all.py                  # the full measurement (make bench)
    python benchmarks/run_all.py --quick          # everything at small sizes: the wiring, minutes
    python benchmarks/run_all.py --only train,extract --rounds 1 --no-write

The benchmarks, in order: ``train`` (training step vs Keras) and ``extract`` (codes vs Keras),
each with the default allocator and untuned glibc malloc; ``load`` (decode + cache vs the
notebook's loader); ``search`` (mAP and k-NN vs scikit-learn and FAISS); ``retrieval`` (its own
printed table); ``query`` (one query end to end, the latency split); ``index`` (approximate
search on real and synthetic codes); ``encode`` (pretrained networks vs the transformers
pipeline); ``scale`` (Ray; its own printed output); ``serve`` (the server under load while
``index update`` runs twice underneath, and under large uploads; its own printed output). A
benchmark whose peer is not installed is left out with a note. BENCHMARKS.md gets, between its
markers: the machine and how it was set up, the targets marked met or not (``targets.py``), the
table, the latency split and recall tables.

On an idle 2-core machine the full run takes about an hour the first time (it generates a
100,000-image data set, a 10,000-photo index, a demo run and their codes, all kept under
``$NEURALCODES_HOME``), 45 minutes after. ``--quick`` writes to
``$NEURALCODES_HOME/BENCHMARKS-quick.md`` (not BENCHMARKS.md) unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, WORK_DIR, Row, stderr_log  # noqa: E402
from benchmarks.machine import machine  # noqa: E402
from benchmarks.report import table, write_benchmarks_md  # noqa: E402
from benchmarks.targets import summary  # noqa: E402

STARTED = time.perf_counter()


@dataclass(frozen=True)
class Bench:
    """How to run one benchmark module ``benchmarks.bench_<name>``, at full and quick size."""

    needs: tuple[str, ...] = ()  # modules that must be importable (the peers)
    full: dict[str, Any] = field(default_factory=dict)  # keyword arguments (or argv of a script)
    quick: dict[str, Any] = field(default_factory=dict)
    script: bool = False  # run as a script; its printed output is kept


BENCHES: dict[str, Bench] = {
    "train": Bench(("tensorflow",), {}, {"warmup": 1, "steps": 2}),
    "extract": Bench(("tensorflow",), {}, {"images": 500}),
    "load": Bench((), {}, {"classes": 20, "per_class": 100}),
    "search": Bench(("faiss",), {}, {"per_class": 100, "dims": (256,)}),
    "retrieval": Bench(("sklearn",), {"argv": []},
                       {"argv": ["--n", "500", "--dims", "256", "--repeats", "1"]}, True),
    "query": Bench(("transformers",), {},
                   {"images": 300, "width": 0.25, "queries": 5, "families": ("resnet",),
                    "size": "tiny", "vectors": 1000}),
    "index": Bench(("faiss",), {},
                   {"vectors": 5000, "dim": 64, "queries": 50, "real_images": (20, 100),
                    "real_queries": 100, "demo_epochs": 1}),
    "encode": Bench(("transformers",), {},
                    {"images": 2, "megapixels": 0.3, "families": ("resnet", "vit"),
                     "size": "tiny"}),
    "scale": Bench(("ray",), {"argv": []}, {"argv": ["--images", "64", "--width", "0.25"]}, True),
    "serve": Bench(("fastapi",), {"argv": []}, {"argv": ["--small"]}, True),
}


def run_bench(name: str, rounds: int, quick: bool) -> tuple[list[Row], str]:
    """Rows and Markdown text of one benchmark: its ``report`` or ``compare``, or the output it
    prints when run as a script."""
    spec = BENCHES[name]
    kwargs = dict(spec.quick if quick else spec.full)
    module_name = f"benchmarks.bench_{name}"
    if spec.script:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        out = Path(WORK_DIR) / f"bench-{name}.json"
        argv = [*kwargs["argv"], *(["--out", str(out)] if name == "scale" else [])]
        proc = subprocess.run([sys.executable, "-m", module_name, *argv], cwd=REPO, env=env,
                              text=True, capture_output=True, timeout=3600)
        text = proc.stdout.strip() or proc.stderr.strip()[-2000:]
        return [], f"### bench_{name}.py (its own output, exit {proc.returncode})\n\n{text}\n"
    module = importlib.import_module(module_name)
    if hasattr(module, "report"):
        rows, text = module.report(rounds=rounds, **kwargs)
        return list(rows), text
    return list(module.compare(rounds=rounds, **kwargs)), ""


def missing(name: str) -> str | None:
    """The first peer module of ``name`` that is not installed, if any."""
    return next((m for m in BENCHES[name].needs if importlib.util.find_spec(m) is None), None)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=None, help="alternations (3; 1 with --quick)")
    p.add_argument("--only", default=",".join(BENCHES), help="comma-separated benchmarks")
    p.add_argument("--quick", action="store_true", help="every benchmark at small size")
    p.add_argument("--no-write", action="store_true", help="print only")
    p.add_argument("--out", type=Path, help="the file to write (default: BENCHMARKS.md)")
    p.add_argument("--merge", action="store_true",
                   help="keep the last run's rows of the benchmarks not run now")
    args = p.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BENCHES))
    if unknown:
        p.error(f"unknown benchmarks {unknown}; choose among {list(BENCHES)}")
    info = machine()
    info["load average at start"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    rows, texts = run_every(chosen, rounds, args.quick)
    info["load average at end"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    info["benchmark wall time"] = f"{time.perf_counter() - STARTED:.0f} s"
    results = WORK_DIR / ("bench-rows-quick.json" if args.quick else "bench-rows.json")
    if args.merge:
        rows, texts = _merge(results, rows, texts)
    save_rows(results, rows, texts)
    targets = summary(rows, info.get("bf16", "no") != "no", quick=args.quick)
    if args.quick:
        targets = ("A quick run: small sizes and one round, a check of the wiring; no figure "
                   "here means anything.\n\n" + targets)
    print(targets + "\n\n" + table(rows) + "\n\n" + "\n\n".join(texts))
    if not args.no_write:
        out = args.out or (WORK_DIR / "BENCHMARKS-quick.md" if args.quick else None)
        command = "python benchmarks/run_all.py " + " ".join(
            argv if argv is not None else sys.argv[1:])
        written = write_benchmarks_md(rows, info, command.strip(), summary=targets,
                                      extra="\n\n".join(texts), path=out)
        stderr_log(f"written: {written}")
    return 0


def run_every(chosen: list[str], rounds: int, quick: bool) -> tuple[list[Row], list[str]]:
    """Every chosen benchmark in turn; one that fails or lacks its peer leaves a note."""
    rows: list[Row] = []
    texts: list[str] = []
    for name in chosen:
        absent = missing(name)
        if absent is not None:
            texts.append(f"- `{name}` left out: it needs `{absent}` (`make bench` installs it).")
            continue
        stderr_log(f"== {name}")
        started = time.perf_counter()
        try:
            new_rows, text = run_bench(name, rounds, quick)
        except Exception as e:  # one failing benchmark must not lose the others' results
            texts.append(f"- `{name}` failed: {type(e).__name__}: {str(e)[-500:]}")
            continue
        rows += new_rows
        texts += [text] if text else []
        stderr_log(f"== {name}: {time.perf_counter() - started:.0f} s")
    return rows, texts


def save_rows(path: Path, rows: list[Row], texts: list[str]) -> None:
    """Keep this run's rows as JSON (for ``--merge``)."""
    from neuralcodes.artifacts import atomic_write_json

    atomic_write_json(path, {"rows": [asdict(r) for r in rows], "texts": texts})


def _merge(path: Path, rows: list[Row], texts: list[str]) -> tuple[list[Row], list[str]]:
    """This run's rows, preceded by the last run's rows of the benchmarks not measured now."""
    import json

    if not path.exists():
        return rows, texts
    old = json.loads(path.read_text())
    now = {r.bench for r in rows}
    kept = [Row(**r) for r in old["rows"] if r["bench"] not in now]
    note = (f"- Merged: rows of {', '.join(sorted(now))} from this run; the others from the "
            "previous run (each comparison alternates within its own run).")
    return kept + rows, [*old["texts"], *texts, note]


if __name__ == "__main__":
    sys.exit(main())
