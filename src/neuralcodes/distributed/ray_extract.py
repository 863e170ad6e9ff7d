"""Neural codes of a file list on a pool of Ray workers (Ray Data), written as code shards.

The Ray Data pipeline: one row per pending shard (its number and file list) ->
``map_batches(ShardWorker)`` on an actor pool of ``workers``: each worker process holds one copy
of the network (on its GPU when ``num_gpus_per_worker`` > 0), reads and decodes the shard's
files with a few threads (Pillow releases the GIL), encodes them in batches, and writes the shard
atomically to the shard folder -> the driver receives only (shard, rows, bad files) and reports
progress.

Faults: a shard whose worker raises is retried (``DataContext.retried_map_errors``, up to
``MAX_RETRIES`` times); a worker process that dies is restarted and its shard re-run (Ray Data's
actor defaults). Shards already complete on disk are not computed again. Memory: a worker holds
one shard's codes and one batch of pixels; the driver holds the file list.

Ray is an optional extra (``pip install 'neuralcodes[ray]'``), imported lazily (``require_ray``:
a missing installation is reported with the command that fixes it); ``ray_session`` connects to
an existing cluster by address or starts a small local Ray on this machine.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from neuralcodes.distributed.shards import (
    Shard,
    ShardPlan,
    open_shard_dir,
    pending_shards,
    write_shard,
)
from neuralcodes.encoder import Encoder
from neuralcodes.extras import import_extra
from neuralcodes.images import MAX_PIXELS, read_file
from neuralcodes.progress import Progress, ensure

MAX_RETRIES = 3  # attempts after the first one, per shard


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or a ``MissingExtraError`` naming the extra to install."""
    import_extra("ray.data", "ray", "the Ray backend", or_else="or: pip install 'ray[data]>=2.9'")
    return sys.modules["ray"]


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[None]:
    """Use the Ray that is already initialised in this process, else connect to ``address``
    ("auto" for the cluster this machine belongs to, "ray://host:10001" for a remote one),
    else start a local Ray with ``num_cpus`` CPUs (no dashboard). Whatever this call started it
    also shuts down."""
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@dataclass(frozen=True)
class ExtractSummary:
    """What an extraction did: shards computed now and found complete, rows, unreadable files."""

    n_shards: int
    computed: int
    skipped: int
    rows: int  # codes written now
    bad: int  # unreadable files in the shards written now
    seconds: float


class ShardWorker:
    """The Ray Data callable class: one network per worker process, one shard per row."""

    def __init__(self, encoder: Encoder, root: str, shard_dir: str, threads: int) -> None:
        import torch

        torch.set_num_threads(max(1, threads))
        self.encoder = encoder  # pickled without its network, which loads here on first use
        self.root, self.shard_dir = Path(root), Path(shard_dir)
        self.threads = max(1, threads)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, list[int]] = {"shard": [], "rows": [], "bad": []}
        for k, files in zip(batch["shard"], batch["files"], strict=True):
            shard = self.extract(int(k), json.loads(str(files)))
            write_shard(self.shard_dir, shard)
            out["shard"].append(shard.index)
            out["rows"].append(len(shard.entries))
            out["bad"].append(len(shard.bad))
        return {key: np.asarray(value, dtype=np.int64) for key, value in out.items()}

    def extract(self, k: int, files: list[str]) -> Shard:
        """Decode and encode the files of shard ``k`` (stored paths) in batches."""
        shard, parts = Shard(k), []
        with ThreadPoolExecutor(self.threads) as pool:
            for start in range(0, len(files), self.encoder.batch_size):
                pixels = self._decode(pool, files[start : start + self.encoder.batch_size], shard)
                if pixels is not None:
                    parts.append(self.encoder.encode(pixels))  # (B, D) float32
        dim = self.encoder.dim
        shard.codes = np.concatenate(parts) if parts else np.zeros((0, dim), np.float32)
        return shard

    def _decode(
        self, pool: ThreadPoolExecutor, names: list[str], shard: Shard
    ) -> np.ndarray | None:
        """Read one batch of files; record entries and bad files in ``shard``; (B, S, S, 3)."""
        from neuralcodes.index.plan import abs_path, bad_record

        policy = self.encoder.image_policy  # the network's own preprocessing
        decoded = list(pool.map(
            lambda p: read_file(abs_path(self.root, p), policy, MAX_PIXELS), names))
        pixels = []
        for name, d in zip(names, decoded, strict=True):
            if d.pixels is None:
                record = bad_record(self.root, name, d.problem or "unreadable", d.size, d.mtime_ns)
                shard.bad.append(dict(zip(("path", "problem", "size", "mtime_ns"), record,
                                          strict=True)))
                continue
            shard.entries.append({"path": name, "sha256": d.sha256 or "", "size": d.size,
                                  "mtime_ns": d.mtime_ns})
            pixels.append(d.pixels)
        return np.stack(pixels) if pixels else None


def extract_shards(
    root: str | Path,
    plan: ShardPlan,
    encoder: Encoder,
    shard_dir: str | Path,
    *,
    workers: int = 2,
    cpus_per_worker: float = 1,
    num_gpus_per_worker: float = 0,
    worker_class: type[ShardWorker] = ShardWorker,
    progress: Progress | None = None,
) -> ExtractSummary:
    """Write the shards of ``plan`` that are not complete yet, on ``workers`` Ray workers.

    Needs a connected Ray (``ray_session``). ``root`` is the photo folder that the
    plan's stored paths are relative to; ``shard_dir`` must be reachable by every worker.
    """
    progress, start = ensure(progress), time.perf_counter()
    open_shard_dir(shard_dir, plan, {"encoder": encoder.fingerprint(), "photos_root": str(root)})
    todo = pending_shards(shard_dir, plan)
    progress.log(f"{plan.n_shards} shards of {plan.shard_size} files: {len(todo)} to compute, "
                 f"{plan.n_shards - len(todo)} already written")
    rows = bad = 0
    if todo:
        results = _run_pipeline(plan, todo, worker_class, {
            "encoder": encoder, "root": str(root), "shard_dir": str(shard_dir),
            "threads": max(1, int(cpus_per_worker))}, workers, cpus_per_worker,
            num_gpus_per_worker)
        for row in progress.track(results, total=len(todo), desc="shards"):
            rows, bad = rows + int(row["rows"]), bad + int(row["bad"])
            progress.update(shards=int(row["shard"]), codes=rows)
    return ExtractSummary(plan.n_shards, len(todo), plan.n_shards - len(todo), rows, bad,
                          time.perf_counter() - start)


def _run_pipeline(
    plan: ShardPlan, todo: list[int], worker_class: type[ShardWorker], kwargs: dict[str, Any],
    workers: int, cpus: float, gpus: float,
) -> Iterator[dict[str, Any]]:
    """The Ray Data dataset of the pending shards, mapped by the worker pool; yields result rows."""
    ray = require_ray()
    ctx = ray.data.DataContext.get_current()
    saved = (ctx.retried_map_errors, ctx.max_map_retries, ctx.enable_progress_bars,
             ctx.print_on_execution_start)
    ctx.retried_map_errors, ctx.max_map_retries = True, MAX_RETRIES
    ctx.enable_progress_bars, ctx.print_on_execution_start = False, False
    try:
        items = [{"shard": k, "files": json.dumps(plan.shard_files(k))} for k in todo]
        ds = ray.data.from_items(items, override_num_blocks=len(items))
        remote: dict[str, Any] = {"num_gpus": gpus} if gpus > 0 else {}
        pool = ray.data.ActorPoolStrategy(size=max(1, min(workers, len(todo))))
        ds = ds.map_batches(worker_class, fn_constructor_kwargs=kwargs, batch_size=1,
                            compute=pool, num_cpus=cpus, **remote)
        yield from ds.iter_rows()
    finally:
        (ctx.retried_map_errors, ctx.max_map_retries, ctx.enable_progress_bars,
         ctx.print_on_execution_start) = saved
