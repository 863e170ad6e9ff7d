"""The worker side of ``bench_query``: the collection and its index (made once), the query
photos, and the timed queries of one process (``index_worker``, ``pretrained_worker``)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import WORK_DIR, stderr_log, usage

BENCH_DIR = WORK_DIR / "query-bench"
WARMUP, K, QUERY_PHOTOS = 5, 10, 10
BF16_ONLY = ("bf16", "bf16-before")


def query_photos(n: int = QUERY_PHOTOS) -> list[Path]:
    """``n`` 1024x768 JPEG queries (smooth colour patterns + noise), made once."""
    from benchmarks.bench_index import photo

    folder = BENCH_DIR / "queries"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"q{i}.jpg" for i in range(n)]
    for i, path in enumerate(paths):
        if not path.is_file():
            photo(path, 10**6 + i, (1024, 768))
    return paths


def collection(images: int, width: float, log: Any = stderr_log) -> tuple[Path, dict[str, Any]]:
    """The index of ``images`` generated photos made with a random network of ``width`` (built
    once; later calls reuse it) and what building it took."""
    from benchmarks.bench_index import make_photos, make_run
    from neuralcodes.images.pool import usable_cores
    from neuralcodes.index import build_index

    root = BENCH_DIR / f"{images}-w{width:g}"
    done = root / "built.json"
    if done.is_file():
        return root / "index", json.loads(done.read_text())
    log(f"query benchmark: generating {images} photos and indexing them (once)")
    make_photos(root / "photos", images, (320, 240), usable_cores())
    make_run(root / "run", width)
    start = time.perf_counter()
    info = build_index(root / "photos", root / "index", run_dir=root / "run", layer="L6",
                       device="cpu", force=True)
    built = {"images": info.count, "dim": info.dim, "build_s": time.perf_counter() - start,
             "width": width}
    done.write_text(json.dumps(built))
    return root / "index", built


def _summary(values: list[float]) -> dict[str, float]:
    ms = np.asarray(values)
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95))}


def index_worker(index_dir: Path, variant: str, n: int) -> dict[str, Any]:
    """Time ``n`` queries and ``n`` queries by id on the index in this process."""
    import dataclasses

    import torch

    from neuralcodes.index import Index

    if variant == "fp32-1":
        torch.set_num_threads(1)
    index = Index.open(index_dir, device="cpu")
    if variant in BF16_ONLY:
        enc = dataclasses.replace(index.encoder, precision="bf16")
        if variant == "bf16-before":  # the network autocast casts afresh at every call
            setattr(enc, "network", lambda precision: enc.backbone.model)  # noqa: B010
        index = Index.open(index_dir, encoder=enc)
    photos = query_photos()
    all_ids = np.array([e.id for e in index.entries])  # (N,)
    out: dict[str, Any] = {"threads": torch.get_num_threads()}
    for i in range(WARMUP):
        index.search(photos[i % len(photos)], K)
        index.search_by_id(int(all_ids[i]), K)
    parts: dict[str, list[float]] = {"total": [], "decode": [], "forward": [], "search": []}
    before = usage()
    for i in range(n):
        t0 = time.perf_counter()
        result = index.search(photos[i % len(photos)], K)
        parts["total"].append(1e3 * (time.perf_counter() - t0))
        for key, timing in (("decode", "decode_ms"), ("forward", "encode_ms"),
                            ("search", "search_ms")):
            parts[key].append(result.timings[timing])
    after = usage()
    out["faults_per_query"] = (after["minflt"] - before["minflt"]) / n
    out.update({key: _summary(v) for key, v in parts.items()})
    ids = np.random.default_rng(0).choice(all_ids, size=n)
    by_id = []
    for image_id in ids:
        t0 = time.perf_counter()
        index.search_by_id(int(image_id), K)
        by_id.append(1e3 * (time.perf_counter() - t0))
    out["by_id"] = _summary(by_id)
    if variant in BF16_ONLY:
        out["agreement"] = agreement(index, Index.open(index_dir, device="cpu"), photos)
    return out


def agreement(lower: Any, fp32: Any, photos: list[Path], indexed: int = 20) -> dict[str, float]:
    """How well ``lower`` precision holds fp32's ranking: the mean overlap of their top-10s for
    the query photos, and the share of ``indexed`` photos of the index that find themselves
    first (as fp32 does)."""
    overlaps = [len(set(lower.search(p, K).ids) & set(fp32.search(p, K).ids)) / K
                for p in photos]
    rows = np.linspace(0, len(lower) - 1, indexed).astype(int)
    ids = [lower.entries[r].id for r in rows]
    self_first = [int(lower.search(lower.path_of(i), 1).ids[0]) == i for i in ids]
    fp32_first = [int(fp32.search(fp32.path_of(i), 1).ids[0]) == i for i in ids]
    return {"top10_overlap": float(np.mean(overlaps)), "self_first": float(np.mean(self_first)),
            "self_first_fp32": float(np.mean(fp32_first))}


def pretrained_worker(folder: Path, precision: str, n: int, vectors: int) -> dict[str, Any]:
    """Queries through ``neuralcodes.encoder`` and exact search over ``vectors`` codes."""
    import os

    import torch

    from neuralcodes.encoder import open_encoder
    from neuralcodes.index.backends import ExactBackend

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    enc = open_encoder(f"hf:{folder}", device="cpu", precision=precision)
    db = np.random.default_rng(0).standard_normal((vectors, enc.dim)).astype(np.float32)
    backend = ExactBackend(db / np.linalg.norm(db, axis=1, keepdims=True))  # (N, D) unit rows
    photos = query_photos()
    parts: dict[str, list[float]] = {"total": [], "decode": [], "forward": [], "search": []}
    before = usage()
    for i in range(WARMUP + n):
        t0 = time.perf_counter()
        pixels = enc.load(photos[i % len(photos)])  # (S, S, 3) uint8
        t1 = time.perf_counter()
        code = enc.encode(pixels[None])  # (1, D)
        t2 = time.perf_counter()
        backend.search(code, K)
        t3 = time.perf_counter()
        if i == WARMUP - 1:
            before = usage()
        if i >= WARMUP:
            for key, dt in zip(parts, (t3 - t0, t1 - t0, t2 - t1, t3 - t2), strict=True):
                parts[key].append(1e3 * dt)
    after = usage()
    return {"threads": torch.get_num_threads(), "dim": enc.dim, "image_size": enc.image_size,
            "faults_per_query": (after["minflt"] - before["minflt"]) / n,
            **{key: _summary(v) for key, v in parts.items()}}
