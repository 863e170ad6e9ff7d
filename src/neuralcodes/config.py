"""Frozen configuration dataclasses, written as JSON next to every output.

``RunConfig`` holds the whole experiment; each step reads the part it needs. ``to_dict`` and
``from_dict`` round-trip exactly, and ``from_dict`` refuses unknown keys with a clear message.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from neuralcodes.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from and how they are split (SPEC.md, "The reference experiment")."""

    source: str = "synthetic"  # a tiny-imagenet-200 folder or .zip, or "synthetic"
    n_in_domain: int = 190  # classes 0..n_in_domain-1 train the network; the rest are OOD
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 42
    split_order: str = "notebook"  # "notebook": NumPy legacy global seed, as in the notebook
    image_size: int = 64
    synthetic_classes: int = 40  # synthetic dataset only
    synthetic_per_class: int = 60  # synthetic dataset only


@dataclass(frozen=True)
class ModelConfig:
    """The network of SPEC.md; ``width`` scales every layer's channels for small CPU runs."""

    name: str = "notebook"
    num_classes: int = 190
    image_size: int = 64
    width: float = 1.0
    dropout: float = 0.5
    batchnorm: bool = False


@dataclass(frozen=True)
class TrainConfig:
    """The notebook's recipe by default: Adam 1e-4 AMSGrad, batch 100, early stopping."""

    recipe: str = "notebook"
    epochs: int = 100
    batch_size: int = 100
    lr: float = 1e-4
    amsgrad: bool = True
    weight_decay: float = 0.0
    lr_schedule: str = "constant"  # "constant" or "cosine"
    augment: bool = False  # random crops (pad 4) and horizontal flips
    patience: int = 0
    min_delta: float = 0.0
    restore_best: bool = False  # Keras default: keep the last epoch's weights, not the best
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | mps
    precision: str = "fp32"  # fp32 | bf16 | fp16 | auto
    channels_last: bool = True
    num_threads: int = 0  # 0: leave PyTorch's default
    compile: bool = False  # torch.compile the training step (worth it on a GPU)


@dataclass(frozen=True)
class RetrievalConfig:
    """What is extracted and scored on the out-of-domain images."""

    layers: tuple[str, ...] = ("L5", "L6", "L7")
    baselines: tuple[str, ...] = ("pixels", "untrained")
    precision_at: tuple[int, ...] = (1, 5, 10, 100)
    figure_queries: int = 10
    figure_neighbours: int = 5
    batch_size: int = 500
    pca_dims: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    pca_fit_on: str = "test"  # "test" | "val" | "train" (in-domain), or "database" (only if asked)
    pca_fit_samples: int = 4096  # at most this many held-out images to fit PCA on
    pca_whiten: bool = False  # PCA-whiten the compressed codes (then L2-normalise again)
    bootstrap: int = 1000  # resamples for the 95 % confidence interval of mAP (0: off)
    recall_at: tuple[int, ...] = (10, 100)
    estimator: str = "spec"  # AP estimator: "spec" (SPEC.md) or "trapezoid" (Oxford/Holidays code)
    pooled: tuple[str, ...] = ()  # pooled conv codes "layer:pooling": "conv5:spoc" -> conv5-spoc
    qe: int = 0  # query expansion with the top qe results (0: off); scored besides the plain codes
    qe_alpha: float = 0.0  # 0: average QE; > 0: alpha-QE weights
    compare: tuple[str, ...] = ("L7:L6", "L6:L5", "L7:pixels")  # paired comparisons "a:b"


@dataclass(frozen=True)
class RunConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass; tuples become lists."""
    out: dict[str, Any] = {}
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            value = to_dict(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from a dict written by ``to_dict``; unknown keys are an error."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}; known keys are {sorted(known)}")
    kwargs = {name: _coerce(hints[name], value) for name, value in data.items()}
    return cls(**kwargs)


def _coerce(hint: Any, value: Any) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_dict(hint, value)
    origin = typing.get_origin(hint)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        return value
    return value


def replace(cfg: T, **changes: Any) -> T:
    """``dataclasses.replace`` with dotted keys too: ``replace(run, **{"train.lr": 1e-3})``."""
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for key, value in changes.items():
        head, _, rest = key.partition(".")
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[key] = value
    for head, sub in nested.items():
        flat[head] = replace(getattr(cfg, head), **sub)
    try:
        return dataclasses.replace(cfg, **flat)  # type: ignore[type-var]
    except TypeError as e:
        raise ConfigError(f"{type(cfg).__name__}: {e}") from None
