"""Run every benchmark, alternating neuralcodes and its peer, print one table, update BENCHMARKS.md.

    python benchmarks/run_all.py [--rounds 3] [--only train,extract,load,search,retrieval,...]
                                 [--no-write]

Ours: ``bench_train`` (training step vs Keras), ``bench_extract`` (codes vs Keras), ``bench_load``
(decode + cache vs the notebook's loader), ``bench_search`` (mAP vs the notebook's scikit-learn
way and FAISS, k-NN vs FAISS). Others': ``bench_retrieval``, ``bench_index``, ``bench_scale``,
``bench_encode`` and ``bench_serve`` (the server under load while ``index update`` runs twice, and
under large uploads), included when present: rows if the module has
``compare(rounds) -> list[Row]``, else its printed output. A peer that is not installed
(TensorFlow, FAISS) leaves its benchmark out with a note.
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import REPO, WORK_DIR, Row, machine, stderr_log  # noqa: E402
from benchmarks.report import table, write_benchmarks_md  # noqa: E402

OURS = ("train", "extract", "load", "search")
OTHERS = ("retrieval", "index", "scale", "encode", "serve")
RESULTS = WORK_DIR / "bench-rows.json"
NEEDS = {"train": "tensorflow", "extract": "tensorflow", "search": "faiss",
         "encode": "transformers"}


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def run_ours(name: str, rounds: int) -> list[Row]:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    compare: Callable[..., list[Row]] = module.compare
    return compare(rounds=rounds)


def run_other(name: str, rounds: int) -> tuple[list[Row], str]:
    """Rows from ``compare`` if the module has one; else the text it prints when run."""
    module_name = f"benchmarks.bench_{name}"
    module = importlib.import_module(module_name)
    compare = getattr(module, "compare", None)
    if callable(compare):
        result = compare(rounds=rounds)
        if isinstance(result, list) and all(isinstance(r, Row) for r in result):
            return result, ""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", module_name],
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
        timeout=3600,
    )
    text = proc.stdout.strip() or proc.stderr.strip()[-2000:]
    return [], f"### bench_{name}.py (its own output, exit {proc.returncode})\n\n{text}\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rounds", type=int, default=3, help="alternations of each comparison")
    p.add_argument("--only", default=",".join(OURS + OTHERS), help="comma-separated benchmarks")
    p.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    p.add_argument(
        "--merge",
        action="store_true",
        help="keep the last run's rows of the benchmarks not run now",
    )
    args = p.parse_args(argv)
    chosen = [b.strip() for b in args.only.split(",") if b.strip()]
    info = machine()
    info["load average at start"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    rows: list[Row] = []
    texts: list[str] = []
    started = time.perf_counter()
    for name in chosen:
        if name in NEEDS and not _installed(NEEDS[name]):
            texts.append(f"- `{name}` left out: its peer needs `{NEEDS[name]}` (the bench extra).")
            continue
        if name in OTHERS and not (REPO / "benchmarks" / f"bench_{name}.py").exists():
            texts.append(f"- `{name}` left out: benchmarks/bench_{name}.py does not exist yet.")
            continue
        stderr_log(f"== {name}")
        try:
            if name in OURS:
                rows += run_ours(name, args.rounds)
            else:
                new_rows, text = run_other(name, args.rounds)
                rows += new_rows
                texts += [text] if text else []
        except Exception as e:  # one failing benchmark must not lose the others' results
            texts.append(f"- `{name}` failed: {type(e).__name__}: {str(e)[-500:]}")
    info["load average at end"] = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    info["benchmark wall time"] = f"{time.perf_counter() - started:.0f} s"
    if args.merge:
        rows, texts = _merge(rows, texts)
    save_rows(rows, texts)
    print(table(rows))
    for text in texts:
        print(text)
    if not args.no_write:
        command = "python benchmarks/run_all.py " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        write_benchmarks_md(rows, info, command, extra="\n\n".join(texts))
    return 0


def save_rows(rows: list[Row], texts: list[str]) -> None:
    """Keep this run's rows as JSON (``$NEURALCODES_HOME/bench-rows.json``) for ``--merge``."""
    from dataclasses import asdict

    from neuralcodes.artifacts import atomic_write_json

    atomic_write_json(RESULTS, {"rows": [asdict(r) for r in rows], "texts": texts})


def _merge(rows: list[Row], texts: list[str]) -> tuple[list[Row], list[str]]:
    """This run's rows, preceded by the last run's rows of the benchmarks not measured now."""
    import json

    if not RESULTS.exists():
        return rows, texts
    old = json.loads(RESULTS.read_text())
    now = {r.bench for r in rows}
    kept = [Row(**r) for r in old["rows"] if r["bench"] not in now]
    note = (
        f"- Merged: rows of {', '.join(sorted(now))} from this run; the others from the "
        "previous run (each comparison alternates within its own run)."
    )
    return kept + rows, [*old["texts"], *texts, note]


if __name__ == "__main__":
    sys.exit(main())
