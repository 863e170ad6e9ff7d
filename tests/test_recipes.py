"""Named training recipes."""

from __future__ import annotations

import pytest
import torch

from neuralcodes.config import ModelConfig, Recipe, TrainConfig, choices
from neuralcodes.errors import ConfigError
from neuralcodes.model import create_model
from neuralcodes.recipes import RECIPES, apply_recipe, make_optimizer, make_scheduler


def test_every_recipe_choice_has_its_settings() -> None:
    assert tuple(RECIPES) == choices(Recipe)


@pytest.mark.parametrize(
    ("name", "augment", "batchnorm", "weight_decay", "schedule"),
    [
        ("notebook", False, False, 0.0, "constant"),
        ("augment", True, False, 0.0, "constant"),
        ("bn", False, True, 0.0, "constant"),
        ("wd", False, False, 5e-4, "constant"),
        ("cosine", False, False, 0.0, "cosine"),
        ("improved", True, True, 5e-4, "cosine"),
    ],
)
def test_recipes_set_their_fields_and_keep_the_others(
    name: str, augment: bool, batchnorm: bool, weight_decay: float, schedule: str
) -> None:
    base_train = TrainConfig(epochs=7, lr=3e-4, augment=True, lr_schedule="cosine")
    base_model = ModelConfig(width=0.5, batchnorm=True)
    train, model = apply_recipe(name, base_train, base_model)
    assert (train.recipe, train.augment, model.batchnorm) == (name, augment, batchnorm)
    assert (train.weight_decay, train.lr_schedule) == (weight_decay, schedule)
    assert (train.epochs, train.lr, model.width) == (7, 3e-4, 0.5)


def test_unknown_recipe_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="'fancy'.*augment.*improved.*notebook"):
        apply_recipe("fancy", TrainConfig(), ModelConfig())


def test_cosine_schedule_halves_the_rate_midway_and_ends_at_zero() -> None:
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=0.1)
    cfg = TrainConfig(epochs=2, lr_schedule="cosine")
    scheduler = make_scheduler(optimizer, cfg, steps_per_epoch=5)
    assert scheduler is not None
    rates = []
    for _ in range(10):
        optimizer.step()
        scheduler.step()
        rates.append(optimizer.param_groups[0]["lr"])
    assert rates[4] == pytest.approx(0.05) and rates[9] == pytest.approx(0.0, abs=1e-12)
    assert make_scheduler(optimizer, TrainConfig(), 5) is None
    with pytest.raises(ConfigError, match="'step'.*cosine"):
        make_scheduler(optimizer, TrainConfig(lr_schedule="step"), 5)


def test_optimizer_is_amsgrad_adam_or_adamw_fused_for_large_models() -> None:
    torch.manual_seed(0)
    model = create_model(ModelConfig(num_classes=4, width=1 / 16))
    fast = TrainConfig(lr=1e-3)
    adam = make_optimizer(model, fast, torch.device("cpu"))
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["amsgrad"]
    assert adam.defaults["eps"] == 1e-7 and not adam.defaults["fused"]
    large = make_optimizer(torch.nn.Linear(1000, 1000), fast, torch.device("cpu"))
    assert large.defaults["fused"]
    wd = make_optimizer(model, TrainConfig(weight_decay=5e-4), torch.device("cpu"))
    assert isinstance(wd, torch.optim.AdamW) and wd.defaults["weight_decay"] == 5e-4
