"""Configuration: every choice and type checked when a config is built, by any route."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from neuralcodes.config import (
    DataConfig,
    ModelConfig,
    RetrievalConfig,
    RunConfig,
    TrainConfig,
    choices,
    from_dict,
    replace,
    to_dict,
)
from neuralcodes.errors import ConfigError

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig,
            "retrieval": RetrievalConfig}
# every Literal-typed field: (dotted key, a value that is not a choice)
CHOICE_FIELDS = [
    ("data.split_order", "random"), ("train.recipe", "fancy"), ("train.lr_schedule", "step"),
    ("train.device", "tpu"), ("train.precision", "fp64"), ("retrieval.pca_fit_on", "ood"),
    ("retrieval.estimator", "11-point"), ("retrieval.baselines", ("pixels", "noise")),
]


def test_every_choice_field_is_listed_here() -> None:
    literal = []
    for name, cls in SECTIONS.items():
        for f, hint in typing.get_type_hints(cls).items():
            inner = typing.get_args(hint)[0] if typing.get_origin(hint) is tuple else hint
            if typing.get_origin(inner) is typing.Literal:
                literal.append(f"{name}.{f}")
    assert sorted(literal) == sorted(k for k, _ in CHOICE_FIELDS)


@pytest.mark.parametrize(("key", "bad"), CHOICE_FIELDS)
def test_a_bad_choice_is_refused_by_every_route(key: str, bad: object) -> None:
    section, _, name = key.partition(".")
    hint = typing.get_type_hints(SECTIONS[section])[name]
    listed = ", ".join(choices(typing.get_args(hint)[0] if isinstance(bad, tuple) else hint))
    message = rf"\({key}\); choose one of {listed}$"
    with pytest.raises(ConfigError, match=message):
        replace(RunConfig(), **{key: bad})
    with pytest.raises(ConfigError, match=message):
        SECTIONS[section](**{name: bad})
    with pytest.raises(ConfigError, match=message):
        from_dict(RunConfig, {section: {name: list(bad) if isinstance(bad, tuple) else bad}})


@pytest.mark.parametrize(("data", "message"), [
    ({"train": {"epochs": "5"}}, "train.epochs: expected int, got str '5'"),
    ({"train": {"epochs": True}}, "train.epochs: expected int, got bool True"),
    ({"train": {"amsgrad": 1}}, "train.amsgrad: expected bool, got int 1"),
    ({"retrieval": {"layers": "L6"}}, "retrieval.layers: expected tuple, got str 'L6'"),
    ({"retrieval": {"pca_dims": [16, "32"]}}, "retrieval.pca_dims: expected int, got str"),
    ({"data": 3}, "DataConfig: expected a mapping, got int"),
    ({"train": {"learning_rate": 0.1}}, r"TrainConfig: unknown keys \['learning_rate'\]"),
])
def test_from_dict_refuses_values_of_the_wrong_type(data: dict[str, object],
                                                    message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_dict(RunConfig, data)


@pytest.mark.parametrize(("changes", "message"), [
    ({"train.epochs": 0}, "train.epochs must be >= 1, got 0"),
    ({"train.lr": -1e-4}, "train.lr must be >= 0"),
    ({"data.val_fraction": 0.5, "data.test_fraction": 0.5}, "together < 1"),
    ({"model.dropout": 1.0}, r"model.dropout=1.0 in \[0, 1\)"),
    ({"retrieval.precision_at": (1, 0)}, r"retrieval.precision_at must be >= 1, got \(1, 0\)"),
    ({"retrieval.pooled": ("conv5:sum",)}, "bad spec 'conv5:sum'"),
    ({"retrieval.compare": ("L7",)}, "bad pair 'L7'"),
    ({"retrieval.layers": ()}, "name at least one layer"),
])
def test_ranges_and_formats_are_checked(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        replace(RunConfig(), **changes)


def test_lists_become_tuples_and_ints_floats_and_the_round_trip_is_exact() -> None:
    cfg = from_dict(RunConfig, {"train": {"lr": 1}, "retrieval": {"layers": ["L6"]}})
    assert cfg.train.lr == 1.0 and isinstance(cfg.train.lr, float)
    assert cfg.retrieval.layers == ("L6",)
    tuned = replace(cfg, **{"retrieval.pooled": ["conv5:spoc"], "train.precision": "bf16"})
    assert from_dict(RunConfig, to_dict(tuned)) == tuned
    assert tuned.retrieval.pooled == ("conv5:spoc",) and hash(tuned)


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ConfigError, match="unexpected keyword argument 'learning_rate'"):
        replace(RunConfig(), **{"train.learning_rate": 1.0})
    assert dataclasses.is_dataclass(RunConfig())
