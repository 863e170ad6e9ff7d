"""Frozen configuration dataclasses, written as JSON next to every output.

``RunConfig`` holds the whole experiment; each step reads the part it needs. Every choice is a
``Literal`` type, and every section checks its fields against their annotations when it is built
(``RunConfig(...)``, ``replace(...)``, ``from_dict(...)``): a bad value is a ``ConfigError`` that
names the field and lists the choices, before any work starts. ``to_dict`` and ``from_dict``
round-trip exactly; ``from_dict`` refuses unknown keys and values of the wrong type.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar

from neuralcodes.errors import ConfigError

T = TypeVar("T")

Device = Literal["auto", "cpu", "cuda", "mps"]
Precision = Literal["fp32", "bf16", "fp16", "auto"]
Recipe = Literal["notebook", "augment", "bn", "wd", "cosine", "improved"]
LrSchedule = Literal["constant", "cosine"]
SplitOrder = Literal["notebook", "stratified"]  # the notebook's exact split, or per class
Estimator = Literal["spec", "trapezoid"]  # AP: docs/protocol.md's, or the Oxford/Holidays code's
PcaFitOn = Literal["test", "val", "train", "database"]  # held-out in-domain images, or the OOD db
Pooling = Literal["spoc", "spoc-centre", "mac", "gem"]
Baseline = Literal["pixels", "untrained"]


def choices(literal: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` type: ``choices(Precision) == ("fp32", "bf16", ...)``."""
    return typing.get_args(literal)


def split_code_spec(text: str, *, pooled: bool = False,
                    where: str = "") -> tuple[str, str | None]:
    """The layer and pooling of a code spec: "L6" -> ("L6", None), "conv5:spoc" -> ("conv5",
    "spoc"); ``pooled``: a pooling is required. Anything else is a ConfigError (naming the
    field ``where``, if given)."""
    layer, sep, pool = text.partition(":")
    if not layer or ((sep or pooled) and pool not in choices(Pooling)):
        field = f"{where}: " if where else ""
        form = "layer:pooling" if pooled else "a layer (L6) or layer:pooling"
        raise ConfigError(f"{field}bad spec {text!r}; write {form} (conv5:spoc) with a pooling "
                          f"among {choices(Pooling)}")
    return layer, pool or None


class Checked:
    """Checks every field of a frozen dataclass against its annotation after ``__init__``
    (lists become tuples, ints become floats where a float is declared), then ``check()``."""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in fields(self):  # type: ignore[arg-type]
            where = f"{_SECTIONS.get(type(self).__name__, type(self).__name__)}.{f.name}"
            value = _checked(hints[f.name], getattr(self, f.name), where)
            object.__setattr__(self, f.name, value)
        self.check()

    def check(self) -> None:
        """Checks across fields (ranges, formats); none by default."""


@dataclass(frozen=True)
class DataConfig(Checked):
    """Where the images come from and how they are split (docs/protocol.md, "Data")."""

    source: str = "synthetic"  # a tiny-imagenet-200 folder or .zip, or "synthetic"
    n_in_domain: int = 190  # classes 0..n_in_domain-1 train the network; the rest are OOD
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    seed: int = 42
    split_order: SplitOrder = "notebook"  # NumPy's legacy global seed, as in the notebook
    image_size: int = 64
    synthetic_classes: int = 40  # synthetic dataset only
    synthetic_per_class: int = 60  # synthetic dataset only

    def check(self) -> None:
        _at_least(self, 1, "n_in_domain", "image_size")
        _at_least(self, 2, "synthetic_classes", "synthetic_per_class")
        if not (self.val_fraction > 0 and self.test_fraction > 0
                and self.val_fraction + self.test_fraction < 1):
            raise ConfigError(f"data.val_fraction={self.val_fraction}, data.test_fraction="
                              f"{self.test_fraction}: each must be > 0 and together < 1")


@dataclass(frozen=True)
class ModelConfig(Checked):
    """The network of docs/protocol.md; ``width`` scales every layer's channels for small runs."""

    name: str = "notebook"
    num_classes: int = 190
    image_size: int = 64
    width: float = 1.0
    dropout: float = 0.5
    batchnorm: bool = False

    def check(self) -> None:
        _at_least(self, 1, "num_classes", "image_size")
        if not (self.width > 0 and 0 <= self.dropout < 1):
            raise ConfigError(f"model.width={self.width} must be > 0 and model.dropout="
                              f"{self.dropout} in [0, 1)")


@dataclass(frozen=True)
class TrainConfig(Checked):
    """The notebook's recipe by default: Adam 1e-4 AMSGrad, batch 100, early stopping."""

    recipe: Recipe = "notebook"
    epochs: int = 100
    batch_size: int = 100
    lr: float = 1e-4
    amsgrad: bool = True
    weight_decay: float = 0.0
    lr_schedule: LrSchedule = "constant"
    augment: bool = False  # random crops (pad 4) and horizontal flips
    patience: int = 0
    min_delta: float = 0.0
    restore_best: bool = False  # Keras default: keep the last epoch's weights, not the best
    seed: int = 0
    device: Device = "auto"
    precision: Precision = "fp32"
    channels_last: bool = True
    num_threads: int = 0  # 0: leave PyTorch's default
    compile: bool = False  # torch.compile the training step (worth it on a GPU)

    def check(self) -> None:
        _at_least(self, 1, "epochs", "batch_size")
        _at_least(self, 0, "lr", "patience", "min_delta", "weight_decay", "num_threads")


@dataclass(frozen=True)
class RetrievalConfig(Checked):
    """What is extracted and scored on the out-of-domain images."""

    layers: tuple[str, ...] = ("L5", "L6", "L7")
    baselines: tuple[Baseline, ...] = ("pixels", "untrained")
    precision_at: tuple[int, ...] = (1, 5, 10, 100)
    figure_queries: int = 10
    figure_neighbours: int = 5
    batch_size: int = 500
    pca_dims: tuple[int, ...] = (16, 32, 64, 128, 256, 512)
    pca_fit_on: PcaFitOn = "test"  # "database" only if asked for: optimistic numbers
    pca_fit_samples: int = 4096  # at most this many held-out images to fit PCA on
    pca_whiten: bool = False  # PCA-whiten the compressed codes (then L2-normalise again)
    bootstrap: int = 1000  # resamples for the 95 % confidence interval of mAP (0: off)
    recall_at: tuple[int, ...] = (10, 100)
    estimator: Estimator = "spec"
    pooled: tuple[str, ...] = ()  # pooled conv codes "layer:pooling": "conv5:spoc" -> conv5-spoc
    qe: int = 0  # query expansion with the top qe results (0: off); scored besides the plain codes
    qe_alpha: float = 0.0  # 0: average QE; > 0: alpha-QE weights
    compare: tuple[str, ...] = ("L7:L6", "L6:L5", "L7:pixels")  # paired comparisons "a:b"

    def check(self) -> None:
        _at_least(self, 1, "precision_at", "recall_at", "pca_dims", "batch_size",
                  "figure_neighbours")
        _at_least(self, 0, "figure_queries", "bootstrap", "qe", "qe_alpha")
        _at_least(self, 2, "pca_fit_samples")
        if not self.layers:
            raise ConfigError("retrieval.layers: name at least one layer (L5, L6, L7...)")
        for spec in self.pooled:
            split_code_spec(spec, pooled=True, where="retrieval.pooled")
        for pair in self.compare:
            a, _, b = pair.partition(":")
            if not (a and b):
                raise ConfigError(f"retrieval.compare: bad pair {pair!r}; write a:b (L7:L6)")


@dataclass(frozen=True)
class RunConfig(Checked):
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)


_SECTIONS = {"DataConfig": "data", "ModelConfig": "model", "TrainConfig": "train",
             "RetrievalConfig": "retrieval", "RunConfig": "run"}


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field annotations of a config class (computed once per class)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _at_least(cfg: Any, low: float, *names: str) -> None:
    """Refuse a field (a number, or each number of a tuple) below ``low``."""
    for name in names:
        value = getattr(cfg, name)
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, int | float) and v < low for v in values):
            section = _SECTIONS[type(cfg).__name__]
            raise ConfigError(f"{section}.{name} must be >= {low}, got {value!r}")


def _checked(hint: Any, value: Any, where: str) -> Any:
    """``value`` if it has type ``hint`` (a list for a tuple becomes a tuple, an int for a
    float a float), else a ConfigError naming ``where``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"unknown {where.rsplit('.', 1)[-1]} {value!r} ({where}); choose "
                              f"one of {', '.join(map(str, args))}")
        return value
    if origin is tuple and isinstance(value, list | tuple):
        return tuple(_checked(args[0], v, where) for v in value)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    kind = origin or hint  # tuple for tuple[int, ...]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {type(value).__name__} "
                          f"{value!r}")
    return value


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) config dataclass; tuples become lists."""
    return dataclasses.asdict(cfg, dict_factory=_json_ready)


def _json_ready(items: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in items}


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build ``cls`` from a dict written by ``to_dict``; unknown keys and values of the wrong
    type are refused (missing keys take their defaults)."""
    if not isinstance(data, dict):
        raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = _hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}; known keys are {sorted(known)}")
    kwargs = {name: (from_dict(hints[name], value) if dataclasses.is_dataclass(hints[name])
                     else value) for name, value in data.items()}
    return cls(**kwargs)


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
