"""The run folder contract: where each file lives, the saved configuration, metrics.json
sections, the saved code sets (checked against the model that made them), and finding runs.

Every package that reads or writes a run folder goes through here; nothing else hard-codes a
run folder's file names.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes import __version__
from neuralcodes.artifacts import (
    atomic_save_npy,
    atomic_write_json,
    check_provenance,
    provenance,
    read_json,
)
from neuralcodes.config import RunConfig, from_dict, to_dict
from neuralcodes.errors import ArtifactMismatchError, DataError


class _File:
    """A path below a run folder's root: ``RunDir(root).metrics`` is ``root / "metrics.json"``."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, run: RunDir, owner: type[RunDir]) -> Path:
        return run.root.joinpath(*self.parts)


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run folder; nothing is read or created by building one."""

    root: Path

    config = _File("config.json")
    split = _File("split.json")
    model = _File("model.pt")
    history = _File("history.json")
    metrics = _File("metrics.json")
    codes = _File("codes")
    codes_manifest = _File("codes", "manifest.json")
    codes_extra = _File("codes", "extra.json")  # code sets research tools extracted later
    code_labels = _File("codes", "labels.npy")
    finetune = _File("finetune.json")  # what a fine-tuned run was retrained from
    figures = _File("figures")

    def code_file(self, name: str) -> Path:
        """``codes/<name>.npy`` of a code set: "ood_L6", "test_conv5-spoc", "ood_pixels"."""
        return self.codes / f"{name}.npy"

    def figure(self, name: str) -> Path:
        """``figures/<name>.png``: "history", "retrieval", "pca"."""
        return self.figures / f"{name}.png"

    @property
    def report(self) -> tuple[Path, Path]:
        """``report.md`` and ``report.html``."""
        return self.root / "report.md", self.root / "report.html"

    def relative(self, path: Path) -> str:
        """``path`` relative to the run folder, as the report links it."""
        return path.relative_to(self.root).as_posix()

    def require(self, path: Path, step: str) -> Path:
        """``path`` if it exists, else an error that names the step that writes it."""
        if not self.config.is_file():
            raise DataError(self.root, "not a neuralcodes run folder (no config.json); make one "
                            "with `neuralcodes run` or `neuralcodes prepare`")
        if not path.exists():
            raise DataError(path, f"missing; run `neuralcodes {step} {self.root}` first")
        return path


def require_model(run_dir: str | Path) -> Path:
    """The trained ``model.pt`` of a run folder (any folder that holds one)."""
    path = RunDir(Path(run_dir)).model
    if not path.is_file():
        raise DataError(Path(run_dir), f"no {path.name} in this run folder; train one with "
                        "`neuralcodes run` or name another run folder")
    return path


def save_config(run: RunDir, cfg: RunConfig) -> None:
    atomic_write_json(run.config, {**provenance("run-config"), "config": to_dict(cfg)})


def load_config(run: RunDir) -> RunConfig:
    """The run's configuration; refuses a folder written by another major version."""
    header = read_json(run.require(run.config, "prepare"))
    if header.get("artifact") != "run-config":
        raise ArtifactMismatchError(f"{run.config} is not a neuralcodes run configuration")
    written = str(header.get("neuralcodes_version", "0"))
    if written.split(".")[:2] != __version__.split(".")[:2]:
        raise ArtifactMismatchError(
            f"{run.root} was written by neuralcodes {written}; this is {__version__}. "
            "Re-run the experiment into a new folder, or install that version.")
    return from_dict(RunConfig, header["config"])


def check_same_config(run: RunDir, cfg: RunConfig) -> None:
    """Refuse to reuse a run folder that was made with another configuration."""
    saved = load_config(run)
    if saved != cfg:
        a, b = to_dict(saved), to_dict(cfg)
        diffs = [f"{sec}.{k}: folder has {a[sec][k]!r}, asked {b[sec][k]!r}"
                 for sec in a for k in a[sec] if a[sec][k] != b[sec][k]]
        raise ArtifactMismatchError(
            f"{run.root} holds a run with another configuration ({'; '.join(diffs)}). "
            "Use a new --out folder, or drop the differing options to resume it.")


def read_metrics(run: RunDir) -> dict[str, Any]:
    return _json_or_empty(run.metrics)


def _json_or_empty(path: Path) -> dict[str, Any]:
    """The JSON content of ``path``; ``{}`` when there is no such file."""
    return read_json(path) if path.is_file() else {}


def update_metrics(run: RunDir, **sections: Any) -> dict[str, Any]:
    """Replace the given top-level sections of metrics.json, keeping the others."""
    metrics = read_metrics(run)
    metrics.update(sections)
    metrics["provenance"] = provenance("metrics")
    atomic_write_json(run.metrics, metrics)
    return metrics


DEFAULT_RUNS_ROOT = Path("runs")


def new_run_dir(root: str | Path = DEFAULT_RUNS_ROOT, name: str = "run") -> Path:
    """A fresh folder name ``root/<name>-YYYYmmdd-HHMMSS`` (not created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(root) / f"{name}-{stamp}"
    n = 1
    while path.exists():
        n += 1
        path = Path(root) / f"{name}-{stamp}-{n}"
    return path


def latest_run(root: str | Path = DEFAULT_RUNS_ROOT) -> Path:
    """The most recently modified folder under ``root`` that holds a trained ``model.pt``."""
    root = Path(root)
    candidates = [p.parent for p in root.glob("*/model.pt")] if root.is_dir() else []
    if not candidates:
        raise DataError(
            root, "no run folder with a trained model.pt here; train one with `neuralcodes run` "
            "or name it with --model RUN_DIR"
        )
    return max(candidates, key=lambda p: RunDir(p).model.stat().st_mtime)


def model_hash(run: RunDir) -> str:
    """The hash of the run's trained ``model.pt`` (what codes and indexes are checked against)."""
    from neuralcodes.model import load_model

    return str(load_model(run.require(run.model, "train")).header["model_hash"])


def save_code_sets(run: RunDir, sets: Mapping[str, np.ndarray], labels: np.ndarray,
                   model_hash: str, **fields: Any) -> dict[str, Any]:
    """Write each code set (N, D) as ``codes/<name>.npy``, the OOD labels (N,), and the manifest
    that ties them to the model of ``model_hash`` (written last); returns the manifest."""
    run.codes.mkdir(parents=True, exist_ok=True)
    for name, codes in sets.items():
        atomic_save_npy(run.code_file(name), codes)
    atomic_save_npy(run.code_labels, np.asarray(labels, np.int64))
    manifest = {**provenance("codes", model_hash=model_hash),
                "sets": {n: list(c.shape) for n, c in sets.items()}, **fields}
    atomic_write_json(run.codes_manifest, manifest)
    return manifest


def load_code_sets(run: RunDir) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The saved code sets (``ood_*`` and ``test_*``) and OOD labels, checked against model.pt."""
    manifest = read_json(run.require(run.codes_manifest, "codes"))
    check_provenance(manifest, {"model_hash": model_hash(run)},
                     where=f"{run.codes} (re-run `neuralcodes codes {run.root}`)")
    sets = {n: np.load(run.code_file(n), mmap_mode="r") for n in manifest["sets"]}
    return sets, np.load(run.code_labels)


def load_code_set(run: RunDir, name: str, model_hash: str) -> np.ndarray:
    """One saved code set (N, D), memory-mapped ("ood_L6", "test_conv5-spoc"), refused unless
    the manifest that lists it (the codes step's, or ``extra.json``) names ``model_hash``."""
    path = run.code_file(name)
    if not path.is_file():
        raise DataError(path, "missing")
    in_extra = name.partition("_")[2] in _json_or_empty(run.codes_extra).get("sets", [])
    listing = run.codes_extra if in_extra else run.codes_manifest
    check_provenance(_json_or_empty(listing), {"model_hash": model_hash}, where=path)
    return np.load(path, mmap_mode="r", allow_pickle=False)


def extra_code_sets(run: RunDir, model_hash: str) -> set[str]:
    """The specs ("conv4-mac") extracted later into codes/ for the model of ``model_hash``."""
    extra = _json_or_empty(run.codes_extra)
    return set(extra.get("sets", [])) if extra.get("model_hash") == model_hash else set()


def save_extra_code_sets(run: RunDir, sets: Mapping[str, np.ndarray], specs: set[str],
                         model_hash: str) -> None:
    """Write code sets extracted later and list ``specs`` (all of them) in ``extra.json``."""
    for name, codes in sets.items():
        atomic_save_npy(run.code_file(name), codes)
    atomic_write_json(run.codes_extra, {**provenance("codes-extra", model_hash=model_hash),
                                        "sets": sorted(specs)})


FALLBACK_LAYER = "L6"  # the paper's best layer for instance retrieval


def best_layer(run: RunDir, layer_names: tuple[str, ...]) -> str:
    """The layer with the highest ``retrieval.<layer>.map`` in metrics.json, else L6."""
    try:
        retrieval = read_metrics(run).get("retrieval", {})
    except (DataError, AttributeError):
        retrieval = {}
    entries = retrieval.items() if isinstance(retrieval, dict) else ()
    scores = {name: float(entry["map"]) for name, entry in entries
              if name in layer_names and isinstance(entry, dict)
              and isinstance(entry.get("map"), int | float)}
    if scores:
        return max(scores, key=scores.__getitem__)
    return FALLBACK_LAYER if FALLBACK_LAYER in layer_names else layer_names[-2]
