"""The server under load, while ``index update`` runs underneath; and under large uploads.

    python -m benchmarks.bench_serve                 # the figures of the README (the lead's run)
    python -m benchmarks.bench_serve --small         # a smoke run of a few seconds

Part 1 (issue "load"): ``--images`` photos (320x240 JPEGs) indexed with a network of
``--width`` (1.0: the full-width model; random weights, the speed does not depend on them), the
server started as ``neuralcodes serve`` in a process of its own, then ``--searches`` searches
(nine by id for one upload of an indexed photo) at ``--concurrency``, while ``--updates`` times
a few photos are added, removed and changed and ``neuralcodes index update`` runs (the searches
go on, past ``--searches`` if need be, until the last update is done). Every answer
names its generation; it is consistent when every id it lists is in that generation with that
path, sorted by distance. Printed: errors, inconsistent answers, p50, p95, requests/s, the
server's RSS at start and end and its growth, the generations that answered, and which targets
were met.

Part 2 (issue "memory under large uploads"): ``--uploads`` PNGs of ``--megapixels`` (a 200 KB
PNG of 64 megapixels decodes to 192 MB) at ``--upload-concurrency``, while one client searches
by id in a loop. Printed: the server's RSS at start, peak and end, the slowest search by id.
Targets: 0 errors and inconsistencies, memory growth < 50 MB; peak < 1 GB, by id < 1 s.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import WORK_DIR, stderr_log  # noqa: E402
from benchmarks.serve_client import (  # noqa: E402
    Generations,
    jobs_of,
    large_uploads,
    rss_mb,
    run_load,
    server,
)

SMALL = {"images": 60, "searches": 300, "concurrency": 4, "width": 0.0625, "updates": 2,
         "uploads": 6, "upload_concurrency": 3, "megapixels": 4.0}


def prepare(work: Path, images: int, width: float, workers: int) -> Path:
    """Photos, a run with a random network of ``width`` and an exact index over them."""
    from benchmarks.bench_index import make_photos, make_run
    from neuralcodes.index import build_index

    for sub in ("photos", "run", "index"):
        subprocess.run(["rm", "-rf", str(work / sub)], check=True)
    make_photos(work / "photos", images, (320, 240), workers)
    make_run(work / "run", width)
    build_index(work / "photos", work / "index", run_dir=work / "run", device="cpu",
                workers=workers)
    return work / "index"


def _entries(index_dir: Path) -> dict[int, str]:
    gen = json.loads((index_dir / "manifest.json").read_text())["generation"]
    return Generations(index_dir).entries(gen)


def _jobs(index_dir: Path, n: int, keep: list[int], seed: int = 0
          ) -> list[tuple[str, str, bytes | None]]:
    """n requests: by id of the images ``keep`` (never removed), every tenth an upload."""
    rng = random.Random(seed)
    photos = Path(json.loads((index_dir / "manifest.json").read_text())["photos_root"])
    entries = _entries(index_dir)
    uploads = [(photos / entries[i]).read_bytes() for i in rng.sample(keep, 5)]
    return [("POST", "/api/search?k=10", uploads[j % 5]) if j % 10 == 9 else
            ("GET", f"/api/search/{rng.choice(keep)}?k=10", None) for j in range(n)]


def _change_folder(photos: Path, touchable: list[Path], round_: int, n: int) -> None:
    """Add ``n`` photos, remove ``n``, re-draw ``n`` (only among ``touchable``)."""
    from benchmarks.bench_index import photo

    (photos / "added").mkdir(exist_ok=True)
    for i in range(n):
        photo(photos / "added" / f"r{round_}-{i}.jpg", 10**6 + 100 * round_ + i, (320, 240))
        touchable.pop().unlink()
        photo(touchable[i], 2 * 10**6 + 100 * round_ + i, (320, 240))


def updater(index_dir: Path, touchable: list[Path], starts: list[threading.Event],
            log: list[dict[str, Any]]) -> None:
    """At each event: change the folder, then ``neuralcodes index update`` in a process."""
    photos = Path(json.loads((index_dir / "manifest.json").read_text())["photos_root"])
    for round_, event in enumerate(starts):
        event.wait()
        _change_folder(photos, touchable, round_, max(1, len(touchable) // 50))
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "neuralcodes", "index", "update",
                              str(index_dir), "--device", "cpu"], capture_output=True, text=True)
        gen = json.loads((index_dir / "manifest.json").read_text())["generation"]
        log.append({"update": round_ + 1, "rc": out.returncode, "generation": gen,
                    "seconds": round(time.perf_counter() - t0, 1)})


def load_part(index_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``args.searches`` searches at least, and more while an update is still running."""
    entries = _entries(index_dir)
    photos = Path(json.loads((index_dir / "manifest.json").read_text())["photos_root"])
    ids = sorted(entries)
    keep, touchable = ids[: len(ids) // 2], [photos / entries[i] for i in ids[len(ids) // 2:]]
    jobs = _jobs(index_dir, args.searches, keep)
    starts = [threading.Event() for _ in range(args.updates)]
    marks = {int(args.searches * u / (args.updates + 1)): e for u, e in enumerate(starts)}
    updates: list[dict[str, Any]] = []
    thread = threading.Thread(target=updater, args=(index_dir, touchable, starts, updates))
    sent = [0]

    def next_job() -> Any:
        if sent[0] in marks:
            marks[sent[0]].set()
        if sent[0] >= args.searches and not thread.is_alive():
            return None
        sent[0] += 1
        return jobs[sent[0] % len(jobs)]

    with server(index_dir) as (address, pid):
        start_mb = rss_mb(pid)
        thread.start()
        result = run_load(address, next_job, args.concurrency, Generations(index_dir))
        final = run_load(address, jobs_of(jobs[:20]), 1, Generations(index_dir))
        end_mb = rss_mb(pid)
    current = json.loads((index_dir / "manifest.json").read_text())["generation"]
    summary = result.summary()
    growth = round(end_mb - start_mb)
    targets = {"0 errors": summary["errors"] == 0,
               "every answer from one consistent generation": summary["inconsistent"] == 0,
               "memory growth < 50 MB": growth < 50,
               "both updates done": all(u["rc"] == 0 for u in updates)}
    return {**summary, "rss_start_mb": round(start_mb), "rss_end_mb": round(end_mb),
            "rss_growth_mb": growth, "updates": updates,
            "after_updates": final.summary()["generations"], "manifest_generation": current,
            "targets_met": targets}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="a smoke run: " + str(SMALL))
    p.add_argument("--images", type=int, default=5000)
    p.add_argument("--width", type=float, default=1.0, help="network width (1.0: full)")
    p.add_argument("--searches", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--updates", type=int, default=2)
    p.add_argument("--uploads", type=int, default=100)
    p.add_argument("--upload-concurrency", type=int, default=16)
    p.add_argument("--megapixels", type=float, default=64.0)
    p.add_argument("--workers", type=int, default=2, help="processes decoding for the build")
    p.add_argument("--skip", choices=("load", "uploads"), help="leave one part out")
    if p.parse_known_args(argv)[0].small:
        p.set_defaults(**SMALL)  # options given explicitly still win
    args = p.parse_args(argv)
    work = WORK_DIR / ("serve-small" if args.small else "serve")
    stderr_log(f"bench_serve: {args.images} photos, width {args.width}, in {work}")
    index_dir = prepare(work, args.images, args.width, args.workers)
    report: dict[str, Any] = {"settings": {k: v for k, v in vars(args).items() if k != "skip"}}
    if args.skip != "load":
        stderr_log(f"load: {args.searches} searches at concurrency {args.concurrency}, "
                   f"{args.updates} updates underneath")
        report["load"] = load_part(index_dir, args)
    if args.skip != "uploads":
        stderr_log(f"uploads: {args.uploads} PNGs of {args.megapixels} megapixels at "
                   f"concurrency {args.upload_concurrency}")
        with server(index_dir) as (address, pid):
            probe = min(_entries(index_dir))
            report["uploads"] = large_uploads(address, pid, probe, n=args.uploads,
                                              concurrency=args.upload_concurrency,
                                              megapixels=args.megapixels)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
