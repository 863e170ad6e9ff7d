"""Throughput of code extraction: the single-process index build vs Ray with 1 and 2 workers.

    python benchmarks/bench_scale.py [--images 2000] [--width 1.0] [--out bench-scale.json]

Generates ``--images`` JPEGs (96x96 to 160x160, smooth colour patterns + noise) and a randomly
initialised network of the given width (1.0: the notebook's 40.5 M-parameter network; the
weights do not change the cost), then times, on the same files:

- ``single``: ``neuralcodes.index.build_index`` (decoding in a process pool, one network using
  every core), the path of ``neuralcodes index build``;
- ``ray-1`` / ``ray-2``: ``build_index_ray`` with 1 and 2 workers of one CPU each on a local
  Ray started beforehand (Ray's start-up is not counted; worker start-up and model loading are).

Images/s counts every file from scan to committed index. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from neuralcodes.config import ModelConfig
from neuralcodes.model import create_model, save_model
from neuralcodes.runs import RunDir


def make_photos(root: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(96, 161, size=2))
        yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
        freq, base = rng.uniform(2, 9, 3), rng.uniform(60, 255, 3)
        img = np.stack([base[c] * (0.5 + 0.5 * np.sin(freq[c] * (xx + c * yy) * np.pi))
                        for c in range(3)], axis=2) + rng.normal(0, 8, (h, w, 3))
        path = root / f"d{i % 20:02d}" / f"img{i:05d}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90)


def time_it(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", type=Path, default=Path("bench-scale.json"))
    args = ap.parse_args()

    import ray

    from neuralcodes.distributed.ray_index import build_index_ray
    from neuralcodes.index import build_index

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    make_photos(work / "photos", args.images)
    torch.manual_seed(0)
    cfg = ModelConfig(width=args.width, num_classes=190)
    save_model(RunDir(work / "run").model, create_model(cfg), cfg)
    common = {"run_dir": work / "run", "layer": "L6", "device": "cpu",
              "batch_size": args.batch_size}
    rows: dict[str, dict[str, float]] = {}
    secs, info = time_it(lambda: build_index(work / "photos", work / "single", **common))
    rows["single"] = {"seconds": secs, "images_per_s": args.images / secs}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        for n in (1, 2):
            secs, info = time_it(lambda n=n: build_index_ray(
                work / "photos", work / f"ray{n}", ray_workers=n, shard_size=250, **common))
            rows[f"ray-{n}"] = {"seconds": secs, "images_per_s": args.images / secs,
                                "extract_images_per_s": info.images_per_s or 0.0}
    finally:
        ray.shutdown()
    report = {"images": args.images, "width": args.width, "layer": "L6",
              "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
              "torch": torch.__version__, "ray": ray.__version__, "results": rows,
              "scaling_2_over_1": rows["ray-2"]["images_per_s"] / rows["ray-1"]["images_per_s"]}
    print(f"{'path':<8} {'seconds':>8} {'images/s':>9}")
    for name, r in rows.items():
        print(f"{name:<8} {r['seconds']:>8.1f} {r['images_per_s']:>9.1f}")
    print(f"scaling ray-2 / ray-1: {report['scaling_2_over_1']:.2f}x")
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
