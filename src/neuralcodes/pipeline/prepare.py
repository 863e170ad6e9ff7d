"""Step 1: resolve the data, decode it into the pixel cache, split it, and write config + split."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from neuralcodes.artifacts import atomic_write_json, provenance, read_json
from neuralcodes.codesets import check_poolable, code_specs
from neuralcodes.config import DataConfig, RunConfig
from neuralcodes.config import replace as cfg_replace
from neuralcodes.data.cache import PixelCache, open_or_build_cache
from neuralcodes.data.split import Split, make_split
from neuralcodes.data.synthetic import make_synthetic
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.model import create_model
from neuralcodes.paths import neuralcodes_home
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import RunDir, check_same_config, load_config, save_config

TINY_IMAGENET_CLASSES = 200
PROBE_WIDTH = 1 / 32  # the network built to check layer names: the names, not the weights


@dataclass(frozen=True)
class RunData:
    """Everything a step needs about the data: the decoded pixels and which image went where."""

    cache: PixelCache
    split: Split

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.cache.class_names)


def resolve_source(data: DataConfig, progress: Progress | None = None) -> Path:
    """The dataset folder (or zip) for ``data.source``; the synthetic one is generated once."""
    if data.source != "synthetic":
        return Path(data.source)
    name = f"synthetic-{data.synthetic_classes}x{data.synthetic_per_class}-s{data.seed}"
    root = neuralcodes_home() / name
    if not (root / "tiny-imagenet-200" / "wnids.txt").exists():
        ensure(progress).log(f"generating the synthetic dataset in {root}")
        make_synthetic(root, n_classes=data.synthetic_classes, per_class=data.synthetic_per_class,
                       size=data.image_size, seed=data.seed)
    return root / "tiny-imagenet-200"


def check_run_config(cfg: RunConfig, *, to_download: bool = False) -> None:
    """Refuse, before any work, a configuration that cannot run: more in-domain classes than
    the synthetic dataset (or Tiny ImageNet ``to_download``) has, a data source that does not
    exist, a classifier that does not fit the data, layers or poolings the network lacks."""
    data, model = cfg.data, cfg.model
    if data.source == "synthetic" and not data.n_in_domain < data.synthetic_classes:
        raise ConfigError(
            f"data.n_in_domain={data.n_in_domain} in-domain classes, but the synthetic dataset has "
            f"{data.synthetic_classes} classes (data.synthetic_classes) and at least one must be "
            "out-of-domain: give Tiny ImageNet (--data DIR or --download), lower --n-in-domain, "
            "or run `neuralcodes demo`")
    if to_download and not data.n_in_domain < TINY_IMAGENET_CLASSES:
        raise ConfigError(f"data.n_in_domain={data.n_in_domain}: Tiny ImageNet has "
                          f"{TINY_IMAGENET_CLASSES} classes and at least one must be out-of-domain")
    if data.source != "synthetic" and not to_download and not Path(data.source).exists():
        raise DataError(Path(data.source), "no such tiny-imagenet-200 folder or .zip "
                        "(`neuralcodes download` fetches it)")
    if (model.num_classes, model.image_size) != (data.n_in_domain, data.image_size):
        raise ConfigError(f"model.num_classes={model.num_classes} and model.image_size="
                          f"{model.image_size} must equal data.n_in_domain={data.n_in_domain} and "
                          f"data.image_size={data.image_size} (presets.resolve derives them)")
    with torch.random.fork_rng(devices=[]):  # leaves the global seed's stream untouched
        probe = create_model(cfg_replace(model, width=min(model.width, PROBE_WIDTH)))
    check_poolable(probe, code_specs(cfg.retrieval), (data.image_size, data.image_size, 3))


def prepare(run_dir: str | Path, cfg: RunConfig, *, workers: int | None = None,
            progress: Progress | None = None) -> RunData:
    """Create (or reopen, if made with the same configuration) the run folder and its data;
    the configuration is checked first (``check_run_config``)."""
    check_run_config(cfg)
    run = RunDir(Path(run_dir))
    if run.config.exists():
        check_same_config(run, cfg)
    run.root.mkdir(parents=True, exist_ok=True)
    cache = _open_cache(cfg.data, workers, progress)
    split = _split(cache, cfg.data)
    save_config(run, cfg)
    params = {k: v for k, v in split.to_dict().items() if k not in ("train", "val", "test", "ood")}
    atomic_write_json(run.split, {**provenance("split", fingerprint=_fingerprint(cache)),
                                  "split": params, "class_names": list(cache.class_names),
                                  "wnids": list(cache.wnids), **split_files(split, cache)})
    return RunData(cache, split)


def open_run_data(run: RunDir, *, workers: int | None = None,
                  progress: Progress | None = None) -> RunData:
    """Reopen the data of a prepared run and check it is the data the run was made with."""
    cfg = load_config(run)
    saved = read_json(run.require(run.split, "prepare"))
    cache = _open_cache(cfg.data, workers, progress)
    if saved.get("fingerprint") != _fingerprint(cache):
        raise ArtifactMismatchError(
            f"{run.split}: the dataset at {cfg.data.source} changed since this run was prepared "
            "(other files or file sizes); prepare a new run folder")
    split = _split(cache, cfg.data)
    if saved.get("split", {}).get("fingerprint") != split.fingerprint():
        raise ArtifactMismatchError(f"{run.split}: the split made now differs from the saved one "
                                    "(another neuralcodes version?); prepare a new run folder")
    return RunData(cache, split)


def _open_cache(data: DataConfig, workers: int | None, progress: Progress | None) -> PixelCache:
    index = read_tiny_imagenet(resolve_source(data, progress))
    return open_or_build_cache(index, None, workers=workers, progress=progress)


def _split(cache: PixelCache, data: DataConfig) -> Split:
    return make_split(np.asarray(cache.labels), n_in_domain=data.n_in_domain,
                      val_fraction=data.val_fraction, test_fraction=data.test_fraction,
                      seed=data.seed, order=data.split_order)


def _fingerprint(cache: PixelCache) -> str:
    h = hashlib.sha256()
    for f in cache.files:
        h.update(os.fsencode(str(f)) + b"\0")  # non-UTF-8 names: their surrogate escapes
    h.update(np.asarray(cache.labels, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def split_files(split: Split, cache: PixelCache) -> dict[str, list[str]]:
    """Which file went where: the relative paths of each part, in the split's order."""
    parts = {"train": split.train, "val": split.val, "test": split.test, "ood": split.ood}
    return {name: [str(cache.files[i]) for i in idx] for name, idx in parts.items()}
