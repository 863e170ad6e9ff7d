"""Turning a job's results into the next generation of an index, and what it reports.

``assemble`` merges the current entries and vectors with the newly encoded files (untouched rows
are copied, never recomputed); ``commit`` builds the search backend (``build_backend``: trained
on a sample, filled block by block, so the vectors may be memory-mapped), measures its recall@10
against exact search, and writes the generation and the manifest (store.py). ``commit_new`` is
a first build's path, whoever produced the codes (the single-process encoder or Ray shards):
PCA, the manifest (``manifest.new_manifest``), then ``commit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes import __version__
from neuralcodes.encoder import Encoder
from neuralcodes.index.ann_params import AnnParams
from neuralcodes.index.backends import build_backend, measure_recall
from neuralcodes.index.encode_job import EncodeResult
from neuralcodes.index.manifest import new_manifest, now
from neuralcodes.index.pca_step import fit_index_pca, project_blocks, projector
from neuralcodes.index.plan import Plan
from neuralcodes.index.store import ANN_FILE, PCA_FILE, Entry, Generation, write_generation
from neuralcodes.progress import Progress, ensure

RECALL_QUERIES = 1000
Blocks = list[tuple[int, int]]  # row ranges [a, b) of the vectors, filled in this order


@dataclass(frozen=True)
class IndexInfo:
    """What a build or update did and what the index now holds."""

    index_dir: str
    count: int  # images in the index
    dim: int  # length of the stored vectors
    layer: str
    backend: str  # the backend asked for: exact, ivfpq, hnsw, faiss
    structure: str | None = None  # what was built (FAISS notation: "IVF64,PQ16x8", "Flat")
    added: int = 0
    changed: int = 0
    removed: int = 0
    skipped: tuple[tuple[str, str], ...] = ()  # (path, problem) of files that could not be read
    resumed: int = 0  # files whose codes came from an interrupted job's checkpoint
    recall_at_10: float | None = None  # approximate backends: against exact search
    seconds: float = 0.0
    images_per_s: float | None = None  # decoding + encoding throughput of this job
    generation: str | None = None  # None: nothing changed, nothing written

    @classmethod
    def of(cls, index_dir: Path, manifest: dict[str, Any], count: int, *,
           generation: str | None, skipped: list[Any], seconds: float = 0.0, n_new: int = 0,
           **counts: int) -> IndexInfo:
        """The summary of a job on the index that ``manifest`` describes."""
        backend = manifest["backend"]
        return cls(
            index_dir=str(index_dir), count=count, dim=int(manifest["dim"]),
            layer=manifest["layer"], backend=backend["kind"], structure=backend.get("structure"),
            skipped=tuple((str(s[0]), str(s[1])) for s in skipped),
            recall_at_10=backend.get("recall_at_10"), seconds=round(seconds, 3),
            images_per_s=round(n_new / seconds, 1) if n_new and seconds else None,
            generation=generation, **counts)


def assemble(
    state: Generation, plan: Plan, result: EncodeResult, project: Callable[[np.ndarray], np.ndarray]
) -> tuple[list[Entry], np.ndarray, dict[str, int]]:
    """The next entries and vectors: kept rows copied, re-encoded rows replaced, new rows added.

    ``project`` maps raw codes (B, D_raw) to stored vectors (B, D) (the PCA, if any).
    """
    order = list(result.encoded)
    raw = np.stack([result.encoded[p].code for p in order]) if order else None
    new_vecs = project(raw) if raw is not None else np.zeros((0, state.vectors.shape[1]))
    new_row = {p: j for j, p in enumerate(order)}
    entries: list[Entry] = []
    source: list[tuple[bool, int]] = []  # (is_new, row)
    counts = {"added": 0, "changed": 0, "removed": 0}
    again = set(plan.encode)
    for i, e in enumerate(state.entries):
        if e.id in plan.drop or (e.path in again and e.path not in new_row):
            counts["removed"] += 1
        elif e.path in again:
            enc = result.encoded[e.path]
            entries.append(Entry(e.id, e.path, enc.sha256, enc.size, enc.mtime_ns))
            source.append((True, new_row[e.path]))
            counts["changed"] += 1
        else:
            entries.append(plan.restat.get(e.id, e))
            source.append((False, i))
    tracked = {e.path for e in state.entries}
    next_id = int(state.manifest.get("next_id", 0))
    for p in (p for p in plan.encode if p not in tracked and p in new_row):
        enc = result.encoded[p]
        entries.append(Entry(next_id, p, enc.sha256, enc.size, enc.mtime_ns))
        source.append((True, new_row[p]))
        next_id += 1
        counts["added"] += 1
    state.manifest["next_id"] = next_id
    return entries, _gather(state.vectors, new_vecs, source), counts


def _gather(old: np.ndarray, new: np.ndarray, source: list[tuple[bool, int]]) -> np.ndarray:
    """Rows picked from ``old`` (N, D) or ``new`` (B, D) in ``source`` order -> (M, D)."""
    out = np.empty((len(source), old.shape[1]), dtype=np.float32)
    is_new = np.array([s[0] for s in source], dtype=bool)
    rows = np.array([s[1] for s in source], dtype=np.int64)
    if len(source):
        out[~is_new] = old[rows[~is_new]]
        out[is_new] = new[rows[is_new]]
    return out


def commit_new(
    out: Path, settings: dict[str, Any], encoder: Encoder, entries: list[Entry], raw: np.ndarray,
    skipped: list[list[Any]], progress: Progress, *, blocks: Blocks | None = None,
    scratch: Path | None = None, distributed: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], str]:
    """The first generation of a new index from the raw codes (N, D_raw) of ``entries`` (ids
    0..N-1), in memory or memory-mapped: PCA fitted and applied (block by block into the memory
    map ``scratch`` when given), manifest made, committed. Returns (manifest, generation)."""
    pca, pca_info, pca_blob = fit_index_pca(settings["pca"], encoder, raw, progress)
    vectors = raw if pca is None else project_blocks(raw, projector(pca), blocks, scratch)
    manifest = new_manifest(encoder.fingerprint(), photos_root=settings["photos_root"],
                            model=settings.get("model"), run_dir=encoder.run_dir,
                            image_policy=encoder.image_policy, pca=pca_info,
                            backend=settings["backend"],
                            requested=settings.get("requested", {}), skipped=skipped,
                            next_id=len(entries), distributed=distributed)
    gen = commit(out, manifest, entries, vectors, pca_blob, progress, blocks=blocks)
    return manifest, gen


def commit(
    index_dir: Path,
    manifest: dict[str, Any],
    entries: list[Entry],
    vectors: np.ndarray,
    pca_blob: bytes | None,
    progress: Progress | None = None,
    *,
    blocks: Blocks | None = None,
) -> str:
    """Write the next generation of ``vectors`` (N, D), in memory or memory-mapped (the backend
    is filled with the row ranges ``blocks``); returns its name. ``manifest["backend"]`` gets
    the structure built, its parameters and recall@10."""
    files: dict[str, bytes] = {PCA_FILE: pca_blob} if pca_blob is not None else {}
    if manifest["backend"]["kind"] != "exact":
        files[ANN_FILE] = _build_ann(manifest["backend"], vectors, blocks, ensure(progress))
    manifest["counts"] = {"entries": len(entries), "skipped": len(manifest.get("skipped", []))}
    manifest["dim"] = int(vectors.shape[1])
    manifest["neuralcodes_version"] = __version__
    manifest["updated"] = now()
    return write_generation(index_dir, manifest, entries, vectors, files)


def _build_ann(backend: dict[str, Any], vectors: np.ndarray, blocks: Blocks | None,
               progress: Progress) -> bytes:
    """Build the approximate index, record it in ``backend`` (the manifest's), serialise it."""
    kind, start = backend["kind"], time.perf_counter()
    built = build_backend(kind, vectors, params=AnnParams.from_manifest(backend.get("requested")),
                          blocks=blocks)
    seconds = time.perf_counter() - start
    recall = measure_recall(built, vectors, k=10, n_queries=RECALL_QUERIES)
    n_q = min(len(vectors), RECALL_QUERIES)
    backend.update(structure=built.structure, params=built.params, recall_at_10=recall,
                   recall_queries=n_q, build_seconds=round(seconds, 3))
    note = f" ({built.params['structure']})" if "structure" in built.params else ""
    progress.log(f"{kind} backend: {built.structure} index{note} over {len(vectors)} vectors "
                 f"built in {seconds:.1f} s; recall@10 against exact search: {recall:.4f} "
                 f"({n_q} queries)")
    return built.serialize()  # type: ignore[attr-defined, no-any-return]
