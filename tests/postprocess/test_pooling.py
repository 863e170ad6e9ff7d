"""Pooling of (B, C, H, W) maps: exact values on hand-built tensors, module wrapper, errors."""

from __future__ import annotations

import math

import pytest
import torch

from neuralcodes.errors import ConfigError
from neuralcodes.postprocess.pooling import Pool, centre_prior, gem, mac, spoc

MAP = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]])  # (1, 1, 3, 3)
MAP = torch.cat([MAP, -MAP], dim=1)  # (1, 2, 3, 3)


def test_spoc_and_mac() -> None:
    torch.testing.assert_close(spoc(MAP), torch.tensor([[45.0, -45.0]]))
    torch.testing.assert_close(mac(MAP), torch.tensor([[9.0, -1.0]]))


def test_centre_prior_exact() -> None:
    # 3x3: sigma = 3 / 6 = 0.5; edge cells at distance 1 -> exp(-2), corners at sqrt(2) -> exp(-4)
    e2, e4 = math.exp(-2.0), math.exp(-4.0)
    expected = torch.tensor([[e4, e2, e4], [e2, 1.0, e2], [e4, e2, e4]])
    torch.testing.assert_close(centre_prior(3, 3), expected)
    value = 5.0 + e2 * (2 + 4 + 6 + 8) + e4 * (1 + 3 + 7 + 9)
    torch.testing.assert_close(spoc(MAP, centre_prior=True), torch.tensor([[value, -value]]))
    torch.testing.assert_close(Pool("spoc-centre")(MAP), spoc(MAP, centre_prior=True))


def test_gem_exact() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])  # (1, 1, 2, 2)
    torch.testing.assert_close(gem(x, p=1.0), torch.tensor([[2.5]]))
    torch.testing.assert_close(gem(x, p=3.0), torch.tensor([[(100.0 / 4) ** (1 / 3)]]))
    torch.testing.assert_close(gem(-x, p=3.0, eps=0.5), torch.tensor([[0.5]]))  # clamped at eps
    torch.testing.assert_close(Pool("gem", p=1.0)(x), torch.tensor([[2.5]]))


def test_pool_module_and_factory() -> None:
    assert Pool("mac")(MAP).shape == (1, 2)
    torch.testing.assert_close(Pool("spoc")(MAP), spoc(MAP))
    with pytest.raises(ConfigError, match="choose one of"):
        Pool("avg")
    with pytest.raises(ConfigError, match="no option"):
        Pool("mac", p=3)


def test_pooling_a_vector_names_the_layers_with_a_map() -> None:
    for fn in (spoc, mac, gem):
        with pytest.raises(ConfigError, match="convolutional layer"):
            fn(torch.zeros(2, 16))
