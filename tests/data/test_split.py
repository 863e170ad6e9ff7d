from __future__ import annotations

import json

import numpy as np
import pytest

from neuralcodes.data.split import Split, make_split
from neuralcodes.errors import ConfigError


def _labels(n_classes: int = 20, per_class: int = 50) -> np.ndarray:
    return np.repeat(np.arange(n_classes, dtype=np.int64), per_class)  # (N,), class order


def test_sizes_and_disjoint_cover() -> None:
    split = make_split(_labels(), n_in_domain=16)
    assert split.sizes() == {"train": 640, "val": 80, "test": 80, "ood": 200}
    parts = [split.train, split.val, split.test, split.ood]
    together = np.concatenate(parts)
    assert len(np.unique(together)) == len(together) == 1000
    assert all(p.dtype == np.int64 for p in parts)
    labels = _labels()
    assert (labels[split.ood] >= 16).all()
    assert (labels[np.concatenate(parts[:3])] < 16).all()


def test_full_size_protocol_counts() -> None:
    split = make_split(_labels(200, 500))
    assert split.sizes() == {"train": 76000, "val": 9500, "test": 9500, "ood": 5000}


def test_notebook_order_matches_numpy_global_seed() -> None:
    labels = _labels(20, 50)
    state = np.random.get_state()
    try:
        np.random.seed(42)  # what the notebook did, on the global state
        rp = np.random.permutation(800)
        rp_ood = np.random.permutation(200)
        np.random.seed(123)
        split = make_split(labels, n_in_domain=16, seed=42, order="notebook")
        drawn = np.random.random()
        np.random.seed(123)
        assert drawn == np.random.random()  # the global state was not used
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(split.val, rp[:80])
    np.testing.assert_array_equal(split.test, rp[80:160])
    np.testing.assert_array_equal(split.train, rp[160:])
    np.testing.assert_array_equal(split.ood, 800 + rp_ood)


def test_indices_point_into_arrays_with_skipped_images() -> None:
    labels = np.delete(_labels(), [3, 850])  # two skipped images: 998 rows
    split = make_split(labels, n_in_domain=16)
    assert len(split.ood) == 199 and (labels[split.ood] >= 16).all()
    assert len(split.val) == round(799 * 0.1)
    assert np.concatenate([split.train, split.val, split.test]).max() == 798


def test_deterministic_under_seed() -> None:
    a, b = (
        make_split(_labels(), n_in_domain=16, seed=7),
        make_split(_labels(), n_in_domain=16, seed=7),
    )
    c = make_split(_labels(), n_in_domain=16, seed=8)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    np.testing.assert_array_equal(a.train, b.train)


def test_stratified_gives_each_class_its_share() -> None:
    labels = _labels()
    split = make_split(labels, n_in_domain=16, order="stratified", seed=3)
    for part, n in ((split.val, 5), (split.test, 5), (split.train, 40)):
        np.testing.assert_array_equal(np.bincount(labels[part], minlength=16), np.full(16, n))
    assert sorted(split.ood.tolist()) == list(range(800, 1000))
    assert split.ood.tolist() != list(range(800, 1000))  # shuffled


def test_round_trip_through_json() -> None:
    split = make_split(_labels(), n_in_domain=16)
    data = json.loads(json.dumps(split.to_dict()))
    back = Split.from_dict(data)
    assert back.fingerprint() == split.fingerprint() == data["fingerprint"]
    assert (back.order, back.seed, back.n_in_domain) == ("notebook", 42, 16)
    data["val"][0], data["val"][1] = data["val"][1], data["val"][0]
    with pytest.raises(ConfigError, match="fingerprint"):
        Split.from_dict(data)
    del data["train"]
    with pytest.raises(ConfigError, match="missing key 'train'"):
        Split.from_dict(data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_in_domain": 20}, r"n_in_domain must be in 1\.\.19 .*got 20"),
        ({"n_in_domain": 0}, "n_in_domain must be in"),
        ({"val_fraction": -0.1}, r"val_fraction must be in \[0, 1\)"),
        ({"test_fraction": 1.0}, "test_fraction must be in"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "must be below 1"),
        ({"order": "random"}, "split order must be one of"),
    ],
)
def test_bad_settings_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_split(_labels(), **{"n_in_domain": 16, **kwargs})  # type: ignore[arg-type]


def test_bad_labels_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="1-D integer"):
        make_split(np.zeros(0, np.int64))
    with pytest.raises(ConfigError, match="1-D integer"):
        make_split(np.zeros(10, np.float32))
