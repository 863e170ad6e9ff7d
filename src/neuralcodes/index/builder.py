"""Building and maintaining an index: ``build_index``, ``update_index``, ``add_files``,
``remove_files``.

Each is one job under the index's writer lock: plan (plan.py), encode what needs encoding with
checkpoints (encode_job.py), merge with the current generation and commit the next one
(commit.py). Killed at any moment, a job leaves the previous generation in use; run
``update_index`` (or the same build) again and it finishes from its checkpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.encoder import Encoder, open_encoder, open_index_encoder, spec_of
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.index.ann_params import AnnParams, check_params
from neuralcodes.index.commit import IndexInfo, assemble, commit, commit_new
from neuralcodes.index.destination import check_destination, writing
from neuralcodes.index.encode_job import CodeCache, EncodeResult, encode_paths, read_job
from neuralcodes.index.pca_step import check_pca_dims, generation_pca, projector
from neuralcodes.index.plan import (
    Plan,
    expand,
    log_folders,
    plan_add,
    plan_remove,
    plan_update,
    rel_path,
)
from neuralcodes.index.store import (
    MANIFEST,
    Entry,
    Generation,
    append_log,
    read_generation,
    writer_lock,
)
from neuralcodes.models.fingerprint import check_model
from neuralcodes.models.spec import Spec, model_argument, recorded_spec
from neuralcodes.names import shown
from neuralcodes.progress import Progress, ensure

__all__ = ["add_files", "build_index", "check_model", "remove_files", "update_index"]


class LoggedProgress:
    """A Progress that also appends every message to the index's progress.log; messages are
    one printable line (file names in them escaped: ``names.shown``)."""

    def __init__(self, inner: Progress | None, index_dir: Path) -> None:
        self.inner, self.index_dir = ensure(inner), index_dir
        self.track, self.update = self.inner.track, self.inner.update

    def log(self, message: str, level: int = logging.INFO) -> None:
        message = shown(message)
        append_log(self.index_dir, message)
        self.inner.log(message, level)


def prepare_build(
    photos_dir: str | Path, out_dir: str | Path, *, model: Spec | None, layer: str | None,
    pca: int | None, backend: str, params: AnnParams | None, batch_size: int | None,
    device: str, force: bool, encoder: Encoder | None = None,
) -> tuple[Path, dict[str, Any], Encoder]:
    """What every build checks before any work: the settings, the photo folder, the model and
    the destination. Returns (index folder, settings, encoder)."""
    check_pca_dims(pca)
    root = Path(photos_dir).expanduser().resolve()
    if not root.is_dir():
        raise DataError(root, "not a folder")
    out = Path(out_dir).expanduser().resolve()
    if out == root:
        raise ConfigError(f"--out {out}: the index needs a folder of its own, not the photo "
                          "folder itself (a subfolder of it is fine: it is not scanned)")
    if encoder is None:
        encoder = open_encoder(model, layer=layer, device=device, batch_size=batch_size)
    params = check_params(backend, params or AnnParams(), pca or encoder.dim)
    check_destination(out, root, encoder.fingerprint(), force=force)
    settings = {"photos_root": str(root), "model": spec_of(encoder),
                **({"run_dir": str(encoder.run_dir)} if encoder.run_dir is not None else {}),
                "layer": encoder.layer, "pca": pca, "backend": backend,
                "requested": params.to_manifest()}
    return out, settings, encoder


def build_index(
    photos_dir: str | Path,
    out_dir: str | Path,
    *,
    model: Spec | None = None,
    layer: str | None = None,
    pca: int | None = None,
    backend: str = "exact",
    params: AnnParams | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str = "auto",
    force: bool = False,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
    run_dir: Spec | None = None,
) -> IndexInfo:
    """Index every image under ``photos_dir`` into ``out_dir`` with the network of the SPEC
    ``model`` (a run folder, ``alexnet[:PATH]``, ``hf:ORG/NAME[@REV]``, ``hf:/folder``; default:
    the newest run folder under ./runs; or ``encoder``, one already opened), ``layer`` (default:
    a run's best layer, a network's documented default code), optional ``pca`` dims and the
    knobs ``params`` of an approximate ``backend``. ``out_dir`` must be new, empty, or an index
    of the same network, layer and photos (``force``: any folder). ``run_dir``: the older name
    of ``model``. ``batch_size`` defaults by kind of network (256 run, 64 AlexNet, 32 HF)."""
    out, settings, encoder = prepare_build(
        photos_dir, out_dir, model=model_argument(model, run_dir), layer=layer, pca=pca,
        backend=backend, params=params, batch_size=batch_size, device=device, force=force,
        encoder=encoder)
    with writer_lock(out):
        return _build(out, settings, encoder, workers, LoggedProgress(progress, out))


def _build(out: Path, settings: dict[str, Any], encoder: Encoder, workers: int | None,
           progress: LoggedProgress) -> IndexInfo:
    root = Path(settings["photos_root"])
    fp = encoder.fingerprint()
    progress.log(f"build {out} from {root}: model {fp['model_hash']} ({settings['model']}), "
                 f"layer {encoder.layer}, pca {settings['pca']}, backend {settings['backend']} "
                 f"{settings.get('requested') or ''}".rstrip())
    cache = CodeCache(out, {"kind": "build", "fingerprint": fp, "settings": settings})
    plan = plan_update(root, [], set(), out)
    log_folders(plan.folders, progress)
    result = encode_paths(root, plan.encode, encoder, cache, workers=workers, progress=progress)
    if not result.encoded:
        raise DataError(root, f"no readable images found ({len(result.bad)} files skipped)")
    order = [p for p in plan.encode if p in result.encoded]
    entries = [Entry(i, p, e.sha256, e.size, e.mtime_ns)
               for i, (p, e) in enumerate((p, result.encoded[p]) for p in order)]
    raw = np.stack([result.encoded[p].code for p in order])  # (N, D_raw)
    skipped = plan.folders + result.bad
    manifest, gen = commit_new(out, settings, encoder, entries, raw, skipped, progress)
    return _done(out, manifest, len(entries), gen, skipped, result, cache, progress,
                 added=len(entries))


def report(info: IndexInfo, progress: Progress) -> IndexInfo:
    """Log what a job that wrote a generation did; returns ``info``."""
    progress.log(f"{info.generation}: {info.count} images ({info.added} added, {info.changed} "
                 f"changed, {info.removed} removed, {len(info.skipped)} skipped)")
    return info


def _done(index_dir: Path, manifest: dict[str, Any], count: int, generation: str,
          skipped: list[list[Any]], result: EncodeResult, cache: CodeCache, progress: Progress,
          **counts: int) -> IndexInfo:
    """Clear the checkpoint of a job that wrote ``generation``, log what it did and return it."""
    cache.clear()
    return report(IndexInfo.of(index_dir, manifest, count, generation=generation,
                               skipped=skipped, seconds=result.seconds, n_new=result.n_encoded,
                               resumed=result.n_resumed, **counts), progress)


def _open_job(index_dir: Path, model: Spec | None, device: str, batch_size: int | None,
              progress: Progress | None) -> tuple[Generation, Encoder, LoggedProgress]:
    """The current generation of an index and its encoder, refusing a model that differs; a
    ``model`` named again (it has moved) is what the next generation's manifest records."""
    state = read_generation(index_dir)
    encoder = open_index_encoder(state.manifest, model, device=device, batch_size=batch_size)
    check_model(state.manifest, encoder, index_dir)
    if model is not None:
        state.manifest["model"] = spec_of(encoder)
        if encoder.run_dir is not None:
            state.manifest["run_dir"] = str(encoder.run_dir)
    return state, encoder, LoggedProgress(progress, index_dir)


def _run(state: Generation, encoder: Encoder, plan: Plan, workers: int | None,
         progress: LoggedProgress, kept: list[list[Any]]) -> IndexInfo:
    """Encode what ``plan`` asks for, merge it with ``state`` and commit (nothing is written when
    nothing changed); ``kept``: the skipped records that stay (files not read again)."""
    cache = CodeCache(state.index_dir, {"kind": "update", "fingerprint": encoder.fingerprint()})
    result = encode_paths(state.root, plan.encode, encoder, cache, workers=workers,
                          progress=progress)
    state.manifest["skipped"] = kept + result.bad
    skipped = plan.folders + result.bad
    if plan.is_empty():
        cache.clear()
        return IndexInfo.of(state.index_dir, state.manifest, len(state.entries),
                            generation=None, skipped=skipped)
    entries, vectors, counts = assemble(state, plan, result, projector(generation_pca(state)))
    gen = commit(state.index_dir, state.manifest, entries, vectors, state.pca_blob, progress)
    return _done(state.index_dir, state.manifest, len(entries), gen, skipped, result, cache,
                 progress, **counts)


def update_index(
    index_dir: str | Path,
    *,
    model: Spec | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    run_dir: Spec | None = None,
) -> IndexInfo:
    """Rescan the photo folder: add new files, re-encode changed ones, drop deleted ones; files
    that could not be read are tried again once they change. ``model``: the network's SPEC if
    it is not where the index records it (checked against the index all the same).

    Also finishes a first build that was interrupted before it wrote an index.
    """
    out = Path(index_dir).resolve()
    model = model_argument(model, run_dir)
    with writing(out):
        job = read_job(out)
        if not (out / MANIFEST).is_file() and job is not None and job.get("kind") == "build":
            return _finish_build(out, job, model, device, batch_size, workers, progress)
        state, encoder, logged = _open_job(out, model, device, batch_size, progress)
        excluded = set(state.manifest.get("excluded", []))
        plan = plan_update(state.root, state.entries, excluded, out, state.manifest["skipped"])
        logged.log(f"update {out}: {len(plan.encode)} to encode, {len(plan.drop)} to drop, "
                   f"{len(plan.still_bad)} unreadable files unchanged")
        log_folders(plan.folders, logged)
        return _run(state, encoder, plan, workers, logged, plan.skipped())


def _finish_build(out: Path, job: dict[str, Any], model: Spec | None, device: str,
                  batch_size: int | None, workers: int | None,
                  progress: Progress | None) -> IndexInfo:
    """Finish a first build from its checkpoint, with the network its settings record (codes
    checkpointed with another network are discarded by ``CodeCache``)."""
    settings = job["settings"]
    encoder = open_encoder(model if model is not None else recorded_spec(settings),
                           layer=settings["layer"], device=device, batch_size=batch_size)
    settings["model"] = spec_of(encoder)
    return _build(out, settings, encoder, workers, LoggedProgress(progress, out))


def add_files(
    index_dir: str | Path,
    files: Iterable[str | Path],
    *,
    model: Spec | None = None,
    batch_size: int | None = None,
    workers: int | None = None,
    device: str = "auto",
    progress: Progress | None = None,
    run_dir: Spec | None = None,
) -> IndexInfo:
    """Add (or refresh) the given files; folders stand for the images in them."""
    out = Path(index_dir).resolve()
    with writing(out):
        state, encoder, logged = _open_job(out, model_argument(model, run_dir), device,
                                           batch_size, progress)
        paths = expand(files, out)
        plan = plan_add(state.root, state.entries, paths)
        added = {rel_path(state.root, p) for p in paths}
        m = state.manifest
        m["excluded"] = [p for p in m["excluded"] if p not in added]
        kept = [s for s in m["skipped"] if s[0] not in added]
        return _run(state, encoder, plan, workers, logged, kept)


def remove_files(
    index_dir: str | Path,
    files: Iterable[str | Path],
    *,
    progress: Progress | None = None,
) -> IndexInfo:
    """Remove the given files (or folders) from the index; ``update`` will not add them back."""
    out = Path(index_dir).resolve()
    names = list(files)
    if not names:
        raise ConfigError("name at least one file or folder to remove")
    with writing(out):
        state, encoder, logged = _open_job(out, None, "cpu", 1, progress)
        plan, missing = plan_remove(state.root, state.entries, names)
        for name in missing:
            logged.log(f"not in the index: {shown(name)}", logging.WARNING)
        gone = {e.path for e in state.entries if e.id in plan.drop}
        m = state.manifest
        m["excluded"] = sorted(set(m["excluded"]) | gone)
        kept = [s for s in m["skipped"] if s[0] not in gone]
        return _run(state, encoder, plan, 1, logged, kept)
