"""``build_index_ray``: ``neuralcodes.index.build_index`` with the codes extracted on Ray.

Ray only produces the codes: the build is checked as ``index build`` checks it
(``builder.prepare_build``), the image list is scanned as it scans it, cut into shards and
extracted on Ray workers (``ray_extract``). The index is then written by the single-process
build's own path (``commit.commit_new``: PCA, manifest, backend, generation) from the shards,
without holding the collection in memory: the codes are concatenated into a memory-mapped
``.npy``, the optional PCA is applied shard by shard, an approximate backend is trained on a
sample and filled shard by shard. The result is the index that the single-process build writes
(same ids, paths, hashes, manifest fields, backend parameters; codes equal to float tolerance),
so ``search``, ``update``, ``add`` and ``remove`` work on it unchanged.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.distributed.ray_extract import (
    ExtractSummary,
    ShardWorker,
    extract_shards,
    ray_session,
)
from neuralcodes.distributed.shards import DEFAULT_SHARD_SIZE, ShardPlan, concat_codes, iter_shards
from neuralcodes.encoder import Encoder
from neuralcodes.errors import DataError
from neuralcodes.index.ann_params import AnnParams
from neuralcodes.index.builder import LoggedProgress, prepare_build, report
from neuralcodes.index.commit import IndexInfo, commit_new
from neuralcodes.index.plan import log_folders, rel_path, scan_folder
from neuralcodes.index.store import Entry, writer_lock
from neuralcodes.models.spec import Spec, model_argument
from neuralcodes.progress import Progress


def build_index_ray(
    photos_dir: str | Path,
    out_dir: str | Path,
    *,
    model: Spec | None = None,
    layer: str | None = None,
    pca: int | None = None,
    backend: str = "exact",
    params: AnnParams | None = None,
    batch_size: int | None = None,
    device: str = "auto",
    force: bool = False,
    address: str | None = None,
    ray_workers: int = 2,
    cpus_per_worker: float = 1,
    num_gpus_per_worker: float = 0,
    shard_size: int = DEFAULT_SHARD_SIZE,
    shard_dir: str | Path | None = None,
    worker_class: type[ShardWorker] = ShardWorker,
    progress: Progress | None = None,
    run_dir: Spec | None = None,
) -> IndexInfo:
    """Index every image under ``photos_dir`` into ``out_dir``, extracting codes on Ray.

    ``address``: a Ray cluster ("auto", "ray://host:10001"); None starts a local Ray with
    ``ray_workers * cpus_per_worker`` CPUs; each Ray worker holds one copy of the network.
    Shards go to ``shard_dir`` (default ``out_dir/shards``, deleted once the index is written; a
    folder you name is kept). A rerun after a failure skips the shards already written. The
    other arguments are ``build_index``'s (``model``: any SPEC; the encoder is pickled to the
    workers without its network, which each loads once).
    """
    out, settings, encoder = prepare_build(
        photos_dir, out_dir, model=model_argument(model, run_dir), layer=layer, pca=pca,
        backend=backend, params=params, batch_size=batch_size, device=device, force=force)
    root = Path(settings["photos_root"])
    shards = Path(shard_dir).resolve() if shard_dir is not None else out / "shards"
    with writer_lock(out):
        logged = LoggedProgress(progress, out)
        found, folders = scan_folder(root, (out, shards))
        log_folders(folders, logged)
        plan = ShardPlan(tuple(rel_path(root, p) for p in found), shard_size)
        logged.log(f"build {out} from {root} on Ray: {len(plan.files)} files, {ray_workers} "
                   f"workers, model {encoder.fingerprint()['model_hash']}, layer {encoder.layer}")
        cpus = None if address else max(1, int(np.ceil(ray_workers * cpus_per_worker)))
        with ray_session(address, num_cpus=cpus):
            summary = extract_shards(root, plan, encoder, shards, workers=ray_workers,
                                     cpus_per_worker=cpus_per_worker,
                                     num_gpus_per_worker=num_gpus_per_worker,
                                     worker_class=worker_class, progress=logged)
        info = index_from_shards(shards, plan, out, settings, encoder, summary, logged, folders)
    if shard_dir is None:
        shutil.rmtree(shards, ignore_errors=True)
    return info


def index_from_shards(shard_dir: Path, plan: ShardPlan, out: Path, settings: dict[str, Any],
                      encoder: Encoder, summary: ExtractSummary, progress: Progress,
                      folders: list[list[Any]]) -> IndexInfo:
    """Write the first generation of index ``out`` from the complete shards of ``plan``, with
    the build ``settings`` of ``prepare_build``; ``folders``: the skipped records of the
    subfolders that the scan could not read."""
    entries, skipped, bounds = _entries(shard_dir, plan)
    skipped = [*folders, *skipped]
    if not entries:
        raise DataError(settings["photos_root"],
                        f"no readable images found ({len(skipped)} files skipped)")
    tmp = [out / ".raw-codes.npy.tmp", out / ".vectors.npy.tmp"]
    distributed = {"engine": "ray", "shards": summary.n_shards, "shard_size": plan.shard_size}
    try:
        raw = concat_codes(iter_shards(shard_dir, plan), tmp[0], len(entries), encoder.dim)
        manifest, gen = commit_new(out, settings, encoder, entries, raw, skipped, progress,
                                   blocks=bounds, scratch=tmp[1], distributed=distributed)
    finally:
        for path in tmp:
            path.unlink(missing_ok=True)
    info = IndexInfo.of(out, manifest, len(entries), generation=gen, skipped=skipped,
                        seconds=summary.seconds, n_new=summary.rows + summary.bad,
                        added=len(entries))
    return report(info, progress)


def _entries(
    shard_dir: Path, plan: ShardPlan
) -> tuple[list[Entry], list[list[Any]], list[tuple[int, int]]]:
    """Entries with ids 0..N-1 in file order, the skipped records, each shard's row range."""
    entries: list[Entry] = []
    skipped: list[list[Any]] = []
    bounds: list[tuple[int, int]] = []
    for shard in iter_shards(shard_dir, plan):
        start = len(entries)
        entries += [Entry(len(entries) + i, e["path"], e["sha256"], int(e["size"]),
                          int(e["mtime_ns"])) for i, e in enumerate(shard.entries)]
        skipped += [[b["path"], b["problem"], b.get("size"), b.get("mtime_ns")]
                    for b in shard.bad]
        bounds.append((start, len(entries)))
    return entries, skipped, bounds
