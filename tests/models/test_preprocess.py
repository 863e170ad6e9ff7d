"""A network's preprocessing: read from processor configs, applied as the model's processor does."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import load_image
from neuralcodes.images.convert import to_8bit
from neuralcodes.images.resize import fit, fit_geometry
from neuralcodes.models.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Preprocess,
    alexnet_preprocess,
    from_processor_config,
)

from .helpers import OPENAI, PROCESSORS

OPENAI_MEAN, OPENAI_STD = tuple(OPENAI["image_mean"]), tuple(OPENAI["image_std"])


def _photo(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_shorter_side_geometry() -> None:
    pre = Preprocess(32, "shorter", 36, "bicubic")
    # 70 x 50: shorter side 50 -> 36, longer int(36 * 70 / 50) = 50; crop offsets floor(18/2), 2
    assert fit_geometry(70, 50, pre.image_policy) == (50, 36, 9, 2)
    assert fit_geometry(50, 70, pre.image_policy) == (36, 50, 2, 9)
    exact = Preprocess(32, "exact", 32, "bilinear")
    assert fit_geometry(32, 32, exact.image_policy) == (32, 32, 0, 0)


def test_crop_offsets_floor_or_round() -> None:
    # 63 - 32 = 31: HF floors (15), torchvision rounds half to even (round(15.5) = 16)
    floor = Preprocess(32, "exact", 63, "bilinear")
    assert fit_geometry(100, 80, floor.image_policy)[2:] == (15, 15)
    rounded = dataclasses.replace(floor, crop_offset="round")
    assert fit_geometry(100, 80, rounded.image_policy)[2:] == (16, 16)


def test_the_geometry_is_the_image_pipelines() -> None:
    """One implementation of resize + crop: a Preprocess is a neuralcodes.images policy."""
    from neuralcodes.images import network_policy

    assert Preprocess(32, "shorter", 36, "bicubic").image_policy == network_policy(
        "x", 32, resize=36, crop_offset="floor", reducing_gap=2.0)
    warp = Preprocess(32, "exact", 40, "bilinear").image_policy
    assert (warp.fit, warp.resize, warp.resample) == ("stretch-crop", 40, "bilinear")
    assert Preprocess(32, "exact", 32, "bilinear").image_policy.fit == "stretch"
    crop = Preprocess(32, "none", 32, "nearest", reducing_gap=None).image_policy
    assert (crop.fit, crop.reduced_decoding) == ("centre-crop", False)
    alexnet = alexnet_preprocess().image_policy
    assert (alexnet.fit, alexnet.resize, alexnet.crop_offset) == ("shorter-side-crop", 256,
                                                                  "round")


def test_alexnet_is_torchvisions_convention() -> None:
    pre = alexnet_preprocess()
    assert (pre.size, pre.resize, pre.resize_to, pre.resample, pre.crop_offset) == (
        224, "shorter", 256, "bilinear", "round")
    assert pre.mean == IMAGENET_MEAN and pre.std == IMAGENET_STD and pre.rescale == 1 / 255


@pytest.mark.parametrize("family, expected", [
    ("dinov2", (32, "shorter", 36, "bicubic", IMAGENET_MEAN, IMAGENET_STD)),
    ("clip", (32, "shorter", 32, "bicubic", OPENAI_MEAN, OPENAI_STD)),
    ("vit", (32, "exact", 32, "bilinear", (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))),
    ("resnet", (32, "shorter", 36, "bicubic", IMAGENET_MEAN, IMAGENET_STD)),  # 32 / 0.875
    ("convnext", (32, "shorter", 36, "bicubic", IMAGENET_MEAN, IMAGENET_STD)),
])
def test_processor_configs(family: str, expected: tuple[object, ...]) -> None:
    pre = from_processor_config(PROCESSORS[family], "cfg.json")
    assert (pre.size, pre.resize, pre.resize_to, pre.resample, pre.mean, pre.std) == expected
    assert pre.rescale == pytest.approx(1 / 255) and pre.crop_offset == "floor"


def test_processor_config_variants() -> None:
    big = {"image_processor_type": "ConvNextImageProcessor", "size": {"shortest_edge": 384},
           "resample": 3, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    pre = from_processor_config(big, "c.json")  # ConvNeXt at 384 warps, no crop
    assert (pre.size, pre.resize, pre.resize_to) == (384, "exact", 384)
    raw = {"size": {"height": 8, "width": 8}, "do_rescale": False, "do_normalize": False,
           "resample": 0}
    pre = from_processor_config(raw, "r.json")
    assert (pre.rescale, pre.mean, pre.std, pre.resample) == (1.0, (0, 0, 0), (1, 1, 1),
                                                             "nearest")
    assert pre.to_dict()["mean"] == [0.0, 0.0, 0.0] and "source" not in pre.to_dict()


@pytest.mark.parametrize("cfg, message", [
    ({"size": {"height": 8, "width": 9}}, "non-square"),
    ({"size": "big"}, "cannot read the image size"),
    ({"size": 8, "resample": 9, "do_normalize": False}, "unknown resample"),
    ({"image_processor_type": "OtherImageProcessor", "size": 8, "resample": 2}, "image_mean"),
])
def test_bad_processor_configs_name_the_file(cfg: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=f"p.json: .*{message}"):
        from_processor_config(cfg, "p.json")


def test_preprocess_is_validated() -> None:
    with pytest.raises(ConfigError, match="unknown resample"):
        Preprocess(32, "shorter", 36, "cubic")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="smaller than"):
        Preprocess(32, "shorter", 30, "bicubic")
    with pytest.raises(ConfigError, match="std"):
        Preprocess(32, "shorter", 36, "bicubic", std=(1.0, 0.0, 1.0))


@pytest.mark.parametrize("family", sorted(PROCESSORS))
def test_same_pixels_as_the_models_own_processor(family: str, hf_models: dict[str, Path]) -> None:
    """transformers' own image processor, run on a PNG: the same network input as ours."""
    import torch
    from transformers import AutoImageProcessor

    image = _photo(70, 50)
    theirs = AutoImageProcessor.from_pretrained(hf_models[family], local_files_only=True)(
        images=image, return_tensors="pt")["pixel_values"]  # (1, 3, S, S)
    pre = from_processor_config(PROCESSORS[family], "x")
    x = torch.from_numpy(fit(to_8bit(image), pre.image_policy)).permute(2, 0, 1)[None].double()
    mean, std = torch.tensor(pre.mean).view(1, 3, 1, 1), torch.tensor(pre.std).view(1, 3, 1, 1)
    ours = (x * pre.rescale - mean) / std
    torch.testing.assert_close(ours.float(), theirs, rtol=0, atol=1e-5)


def test_jpeg_is_decoded_at_reduced_size() -> None:
    """A 1600 x 1200 JPEG for a 36 / 32 network: drafted at 1/8 (200 x 150), near a full decode."""
    buf = io.BytesIO()
    _photo(40, 30).resize((1600, 1200), Image.Resampling.BICUBIC).save(buf, "JPEG", quality=95)
    pre = from_processor_config(PROCESSORS["dinov2"], "x")
    fast = load_image(buf.getvalue(), pre.image_policy)
    exact = load_image(buf.getvalue(), dataclasses.replace(pre, reducing_gap=None).image_policy)
    assert fast.shape == exact.shape == (32, 32, 3) and fast.dtype == np.uint8
    assert np.abs(fast.astype(int) - exact.astype(int)).mean() < 2.0
    opened = Image.open(io.BytesIO(buf.getvalue()))
    opened.draft(None, (72, 72))
    assert opened.size == (200, 150)


def test_exif_orientation_and_modes() -> None:
    pre = Preprocess(8, "exact", 8, "nearest")
    tall = Image.new("RGB", (20, 40), (255, 0, 0))
    tall.paste((0, 0, 255), (0, 0, 20, 20))  # blue top half
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    tall.save(buf, "PNG", exif=exif)
    out = load_image(buf.getvalue(), pre.image_policy)
    assert out.shape == (8, 8, 3)
    assert tuple(out[4, 7]) == (0, 0, 255) and tuple(out[4, 0]) == (255, 0, 0)  # top went right
    gray = load_image(Image.new("L", (10, 10), 128), pre.image_policy)
    assert tuple(gray[0, 0]) == (128, 128, 128)


def test_unreadable_sources_name_themselves(tmp_path: Path) -> None:
    pre = Preprocess(8, "exact", 8, "nearest")
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="bad.jpg"):
        load_image(tmp_path / "bad.jpg", pre.image_policy)
    with pytest.raises(DataError, match="missing.png: file not found"):
        load_image(str(tmp_path / "missing.png"), pre.image_policy)
