from __future__ import annotations

import json
from typing import Any

import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.images import ImagePolicy, network_policy, photo_policy, tiny_cache_policy
from neuralcodes.images.policy import as_policy


def test_named_policies() -> None:
    assert tiny_cache_policy(64).to_dict() == {
        "name": "tiny-cache", "size": 64, "fit": "stretch", "resample": "bilinear",
        "resize": None, "orient": False, "reduced_decoding": False, "jpeg_decoder": "simplejpeg"}
    assert photo_policy(32).to_dict() == {
        "name": "photo", "size": 32, "fit": "centre-square", "resample": "lanczos",
        "resize": None, "orient": True, "reduced_decoding": True, "jpeg_decoder": "pillow"}
    resnet = network_policy("resnet50", 224, resize=256, resample="bilinear")
    assert (resnet.fit, resnet.size, resnet.resize, resnet.target) == (
        "shorter-side-crop", 224, 256, 256)
    vit = network_policy("vit", 224)
    assert (vit.fit, vit.resample, vit.resize, vit.target) == ("stretch", "bicubic", None, 224)
    assert as_policy(64) == photo_policy(64) and as_policy(vit) is vit


def test_json_round_trip_and_comparison() -> None:
    policy = network_policy("resnet50", 224, resize=256, resample="bilinear")
    again = ImagePolicy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert again == policy and again.name == "resnet50"
    renamed = network_policy("another net", 224, resize=256, resample="bilinear")
    assert renamed == policy  # the name is a label: the same preprocessing compares equal
    assert network_policy("resnet50", 224, resize=256, resample="bicubic") != policy
    assert hash(renamed) == hash(policy)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"fit": "crop"}, "fit must be one of"),
        ({"resample": "cubic"}, "resample must be one of"),
        ({"size": 0}, "size must be a positive integer"),
        ({"size": 2.5}, "size must be a positive integer"),
        ({"fit": "shorter-side-crop"}, "resize .R. is needed by, and only by"),
        ({"resize": 256}, "resize .R. is needed by, and only by"),
        ({"fit": "shorter-side-crop", "resize": 100}, "resize must be an integer >= size 224"),
        ({"jpeg_decoder": "simplejpeg"}, "simplejpeg decoder goes only with"),
        ({"jpeg_decoder": "libjpeg"}, "jpeg_decoder must be one of"),
    ],
)
def test_invalid_policies_are_refused_when_built(fields: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {"name": "n", "size": 224, "fit": "stretch", "resample": "bicubic"}
    with pytest.raises(ConfigError, match=message):
        ImagePolicy(**{**base, **fields})


def test_from_dict_refuses_unknown_and_missing_fields() -> None:
    d = photo_policy(64).to_dict()
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['crop_pct'\]"):
        ImagePolicy.from_dict({**d, "crop_pct": 0.875})
    del d["size"]
    with pytest.raises(ConfigError, match="size"):
        ImagePolicy.from_dict(d)


def test_network_fits_and_their_json() -> None:
    crop = network_policy("n", 224, resize=256, fit="stretch-crop", crop_offset="floor",
                          reducing_gap=2.0)
    assert (crop.fit, crop.target, crop.crop_offset, crop.reducing_gap) == (
        "stretch-crop", 256, "floor", 2.0)
    d = crop.to_dict()
    assert (d["crop_offset"], d["reducing_gap"]) == ("floor", 2.0)
    assert ImagePolicy.from_dict(json.loads(json.dumps(d))) == crop
    exact = network_policy("n", 224, fit="centre-crop", reducing_gap=None)
    assert (exact.resize, exact.reduced_decoding, exact.target) == (None, False, 224)
    assert "crop_offset" not in photo_policy(64).to_dict()  # defaults are not written
    with pytest.raises(ConfigError, match="reducing_gap must be a number >= 1"):
        network_policy("n", 224, reducing_gap=0.5)
    with pytest.raises(ConfigError, match="crop_offset must be one of"):
        network_policy("n", 224, crop_offset="ceil")  # type: ignore[arg-type]
