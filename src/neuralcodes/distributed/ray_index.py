"""``build_index_ray``: ``neuralcodes.index.build_index`` with the codes extracted on Ray.

The image list is scanned as ``index build`` scans it, cut into shards, extracted on Ray workers
(``ray_extract``), and the index is assembled from the shards without holding the collection in
memory: the codes are concatenated into a memory-mapped ``.npy``, the optional PCA is applied
shard by shard, an approximate backend is trained on a sample and then filled shard by shard.
The result is the index that the single-process build writes (same ids, paths, hashes, manifest
fields, backend parameters; codes equal to float tolerance), in the same on-disk format, so
``search``, ``update``, ``add`` and ``remove`` work on it unchanged.
"""

from __future__ import annotations

import contextlib
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import provenance
from neuralcodes.distributed.ray_extract import ExtractSummary, ShardWorker, extract_shards
from neuralcodes.distributed.ray_runtime import ray_session
from neuralcodes.distributed.shards import DEFAULT_SHARD_SIZE, ShardPlan, concat_codes, iter_shards
from neuralcodes.errors import DataError
from neuralcodes.index.backends import check_backend
from neuralcodes.index.builder import LoggedProgress
from neuralcodes.index.commit import IndexInfo
from neuralcodes.index.encoder import Encoder
from neuralcodes.index.images import DEFAULT_MAX_PIXELS, scan_images
from neuralcodes.index.pca_step import check_pca_dims, fit_index_pca, projector
from neuralcodes.index.plan import rel_path
from neuralcodes.index.store import ARTIFACT, FORMAT, Entry, writer_lock
from neuralcodes.progress import Progress, ensure


def build_index_ray(
    photos_dir: str | Path,
    out_dir: str | Path,
    *,
    run_dir: str | Path | None = None,
    layer: str | None = None,
    pca: int | None = None,
    backend: str = "exact",
    batch_size: int = 256,
    device: str = "auto",
    address: str | None = None,
    workers: int = 2,
    cpus_per_worker: float = 1,
    num_gpus_per_worker: float = 0,
    shard_size: int = DEFAULT_SHARD_SIZE,
    shard_dir: str | Path | None = None,
    worker_class: type[ShardWorker] = ShardWorker,
    progress: Progress | None = None,
) -> IndexInfo:
    """Index every image under ``photos_dir`` into ``out_dir``, extracting codes on Ray.

    ``address``: a Ray cluster ("auto", "ray://host:10001"); None starts a local Ray with
    ``workers * cpus_per_worker`` CPUs. Shards go to ``shard_dir`` (default ``out_dir/shards``,
    deleted once the index is written; a folder you name is kept). A rerun after a failure skips
    the shards already written.
    """
    check_backend(backend)
    check_pca_dims(pca)
    root, out = Path(photos_dir).resolve(), Path(out_dir).resolve()
    if not root.is_dir():
        raise DataError(root, "not a folder")
    encoder = Encoder.from_run(run_dir, layer=layer, device=device, batch_size=batch_size)
    shards = Path(shard_dir).resolve() if shard_dir is not None else out / "shards"
    with writer_lock(out):
        logged = LoggedProgress(ensure(progress), out)
        plan = ShardPlan(tuple(rel_path(root, p) for p in scan_images(root, skip=(out, shards))),
                         shard_size)
        logged.log(f"build {out} from {root} on Ray: {len(plan.files)} files, {workers} workers, "
                   f"model {encoder.fingerprint()['model_hash']}, layer {encoder.layer}")
        cpus = None if address else max(1, int(np.ceil(workers * cpus_per_worker)))
        with ray_session(address, num_cpus=cpus):
            summary = extract_shards(root, plan, encoder, shards, workers=workers,
                                     cpus_per_worker=cpus_per_worker,
                                     num_gpus_per_worker=num_gpus_per_worker,
                                     worker_class=worker_class, progress=logged)
        info = index_from_shards(shards, plan, root, out, encoder, pca=pca, backend=backend,
                                 summary=summary, progress=logged)
    if shard_dir is None:
        shutil.rmtree(shards, ignore_errors=True)
    return info


def index_from_shards(
    shard_dir: str | Path,
    plan: ShardPlan,
    root: Path,
    out: Path,
    encoder: Encoder,
    *,
    pca: int | None = None,
    backend: str = "exact",
    summary: ExtractSummary | None = None,
    progress: Progress | None = None,
) -> IndexInfo:
    """Write the next generation of index ``out`` from the complete shards of ``plan``."""
    from neuralcodes.distributed.ann_fill import commit_streamed

    progress = ensure(progress)
    entries, skipped, bounds = _entries(shard_dir, plan)
    if not entries:
        raise DataError(root, f"no readable images found ({len(skipped)} files skipped)")
    tmp = [out / ".raw-codes.npy.tmp", out / ".vectors.npy.tmp"]
    try:
        raw = concat_codes(iter_shards(shard_dir, plan), tmp[0], len(entries), encoder.dim)
        pca_obj, pca_info, pca_blob = fit_index_pca(pca, encoder, raw, progress)
        vectors = _project(raw, bounds, projector(pca_obj), tmp[1]) if pca_obj else raw
        manifest = _manifest(root, encoder, backend, pca_info, skipped, len(entries))
        if summary is not None:
            manifest["distributed"] = {"engine": "ray", "shards": summary.n_shards,
                                       "shard_size": plan.shard_size}
        gen, recall = commit_streamed(out, manifest, entries, vectors, bounds, pca_blob, progress)
    finally:
        for path in tmp:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
    seconds = summary.seconds if summary is not None else 0.0
    info = IndexInfo(index_dir=str(out), count=len(entries), dim=int(manifest["dim"]),
                     layer=encoder.layer, backend=backend, added=len(entries),
                     skipped=tuple(skipped), recall_at_10=recall, seconds=round(seconds, 3),
                     images_per_s=summary.images_per_s if summary else None, generation=gen)
    progress.log(f"{gen}: {info.count} images ({info.added} added, {len(skipped)} skipped)")
    return info


def _entries(
    shard_dir: str | Path, plan: ShardPlan
) -> tuple[list[Entry], list[tuple[str, str]], list[tuple[int, int]]]:
    """Entries with ids 0..N-1 in file order, the skipped files, and each shard's row range."""
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    bounds: list[tuple[int, int]] = []
    for shard in iter_shards(shard_dir, plan):
        start = len(entries)
        entries += [Entry(len(entries) + i, e["path"], e["sha256"], int(e["size"]),
                          int(e["mtime_ns"])) for i, e in enumerate(shard.entries)]
        skipped += [(b["path"], b["problem"]) for b in shard.bad]
        bounds.append((start, len(entries)))
    return entries, skipped, bounds


def _project(raw: np.ndarray, bounds: list[tuple[int, int]], project: Any,
             path: Path) -> np.ndarray:
    """PCA-projected vectors, shard by shard, into an (N, dims) memory map."""
    first = project(np.asarray(raw[:1]))  # (1, dims): the output width
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                    shape=(len(raw), first.shape[1]))
    for a, b in bounds:
        if b > a:
            out[a:b] = project(np.asarray(raw[a:b]))  # (n_k, dims)
    out.flush()
    return out


def _manifest(root: Path, encoder: Encoder, backend: str, pca_info: dict[str, Any] | None,
              skipped: list[tuple[str, str]], n: int) -> dict[str, Any]:
    """The manifest ``index.build_index`` writes, field for field."""
    return {**provenance(ARTIFACT, format=FORMAT, **encoder.fingerprint()),
            "photos_root": str(root), "run_dir": str(encoder.run_dir), "pca": pca_info,
            "normalized": True, "backend": {"kind": backend},
            "image": {"size": encoder.image_size, "max_pixels": DEFAULT_MAX_PIXELS,
                      "policy": "centre square crop, Lanczos resize, EXIF orientation, RGB"},
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "next_id": n,
            "excluded": [], "skipped": [list(f) for f in skipped]}
