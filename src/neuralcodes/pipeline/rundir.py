"""The run folder: where each file lives, the saved configuration, and metrics.json sections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neuralcodes import __version__
from neuralcodes.artifacts import atomic_write_json, provenance, read_json
from neuralcodes.config import RunConfig, from_dict, to_dict
from neuralcodes.errors import ArtifactMismatchError, DataError


@dataclass(frozen=True)
class RunDir:
    """Paths inside one run folder; nothing is read or created by building one."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def split(self) -> Path:
        return self.root / "split.json"

    @property
    def model(self) -> Path:
        return self.root / "model.pt"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def history(self) -> Path:
        return self.root / "history.json"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def codes(self) -> Path:
        return self.root / "codes"

    @property
    def figures(self) -> Path:
        return self.root / "figures"

    def require(self, path: Path, step: str) -> Path:
        """``path`` if it exists, else an error that names the step that writes it."""
        if not path.exists():
            raise DataError(path, f"missing; run `neuralcodes {step} {self.root}` first")
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
    return read_json(run.metrics) if run.metrics.exists() else {}


def update_metrics(run: RunDir, **sections: Any) -> dict[str, Any]:
    """Replace the given top-level sections of metrics.json, keeping the others."""
    metrics = read_metrics(run)
    metrics.update(sections)
    metrics["provenance"] = provenance("metrics")
    atomic_write_json(run.metrics, metrics)
    return metrics
