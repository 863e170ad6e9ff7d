"""Bootstrap intervals and paired comparisons over queries: determinism and exact edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.stats import bootstrap_ci, paired_comparison


def test_bootstrap_is_deterministic_under_the_seed() -> None:
    values = np.random.default_rng(0).uniform(size=200)
    assert bootstrap_ci(values, seed=3) == bootstrap_ci(values, seed=3)
    assert bootstrap_ci(values, seed=3) != bootstrap_ci(values, seed=4)
    low, high = bootstrap_ci(values, n_resamples=2000, confidence=0.9)
    assert low < values.mean() < high
    # the standard error of a mean of 200 uniforms is ~0.0204; a 90 % interval spans ~3.3 of them
    assert 0.05 < high - low < 0.085


def test_constant_scores_have_a_zero_width_interval() -> None:
    assert bootstrap_ci(np.full(10, 0.25), n_resamples=50) == (0.25, 0.25)


def test_paired_constant_shift() -> None:
    b = np.random.default_rng(1).uniform(size=50)
    r = paired_comparison(b + 0.1, b, n_resamples=999, seed=0)
    assert r.mean_diff == pytest.approx(0.1)
    assert r.ci_low == pytest.approx(0.1) and r.ci_high == pytest.approx(0.1)
    # only an all-equal sign pattern (probability 2 ** -49) would be as extreme: none drawn
    assert r.p_value == pytest.approx(1 / 1000)


def test_paired_identical_methods() -> None:
    a = np.random.default_rng(2).uniform(size=30)
    r = paired_comparison(a, a.copy(), n_resamples=100)
    assert (r.mean_diff, r.ci_low, r.ci_high, r.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_paired_noise_versus_signal() -> None:
    rng = np.random.default_rng(3)
    base = rng.uniform(size=400)
    noise = paired_comparison(base + rng.normal(0, 0.1, 400), base, seed=1)
    signal = paired_comparison(base + 0.05 + rng.normal(0, 0.1, 400), base, seed=1)
    assert noise.ci_low < 0 < noise.ci_high and noise.p_value > 0.01
    assert signal.ci_low > 0 and signal.p_value < 0.01
    again = paired_comparison(base + 0.3, base, seed=7)
    assert again == paired_comparison(base + 0.3, base, seed=7)


def test_errors() -> None:
    with pytest.raises(ConfigError, match="NaN"):
        bootstrap_ci(np.array([0.1, np.nan]))
    with pytest.raises(ConfigError, match="same queries"):
        paired_comparison(np.ones(3), np.ones(4))
    with pytest.raises(ConfigError, match="confidence"):
        bootstrap_ci(np.ones(3), confidence=1.0)
    with pytest.raises(ConfigError, match="n_resamples"):
        bootstrap_ci(np.ones(3), n_resamples=0)
