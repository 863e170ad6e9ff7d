from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PIL import Image

from neuralcodes.images import ImagePolicy, load_image, network_policy, open_image, photo_policy
from neuralcodes.images.resize import fit, prepare

from .helpers import encode, smooth


def _nearest(fit_: str, size: int, resize: int | None = None) -> ImagePolicy:
    return ImagePolicy("t", size, fit_, "nearest", resize=resize)  # type: ignore[arg-type]


def _grey(a: np.ndarray) -> Image.Image:
    return Image.fromarray(a.astype(np.uint8))


def test_stretch() -> None:
    a = np.array([[10, 20, 30, 40], [50, 60, 70, 80]])  # 2 x 4
    out = fit(_grey(a), _nearest("stretch", 2))
    np.testing.assert_array_equal(out[..., 0], [[20, 40], [60, 80]])  # each output's centre
    assert out.shape == (2, 2, 3) and (out[..., 0] == out[..., 2]).all()


def test_centre_square() -> None:
    a = np.array([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12]])  # 2 x 6: the middle 2 x 2 is kept
    out = fit(_grey(a), _nearest("centre-square", 2))
    np.testing.assert_array_equal(out[..., 0], [[3, 4], [9, 10]])


def test_shorter_side_then_centre_crop() -> None:
    a = np.arange(32).reshape(4, 8)  # shorter side already R = 4: no resize, crop at (3, 1)
    out = fit(_grey(a), _nearest("shorter-side-crop", 2, resize=4))
    np.testing.assert_array_equal(out[..., 0], a[1:3, 3:5])
    b = np.zeros((6, 12), np.uint8)
    b[:, 6:] = 200  # 6 x 12 -> 4 x 8 (nearest: columns 0..4 and 6..11 of b), crop columns 3..4
    out = fit(_grey(b), _nearest("shorter-side-crop", 2, resize=4))
    np.testing.assert_array_equal(out[..., 0], [[0, 200], [0, 200]])


def test_portrait_is_cropped_vertically() -> None:
    a = np.arange(24).reshape(8, 3)  # 8 x 3: R = 3 keeps it, crop rows round(2.5) = 2.. of 3 x 3
    out = fit(_grey(a), _nearest("shorter-side-crop", 3, resize=3))
    np.testing.assert_array_equal(out[..., 0], a[2:5, :])


def test_transparency_is_composited_after_resizing() -> None:
    a = np.zeros((4, 4, 4), np.uint8)
    a[..., 0], a[..., 3] = 255, 0  # transparent red: white once composited
    out = fit(Image.fromarray(a, "RGBA"), photo_policy(2))
    np.testing.assert_array_equal(out, np.full((2, 2, 3), 255))


def test_jpeg_decoded_at_a_reduced_scale() -> None:
    data = encode(Image.new("RGB", (4000, 3000), (10, 120, 230)), "JPEG")
    assert prepare(open_image(data), photo_policy(64)).size == (500, 375)  # 1/8: >= 3 x 64
    assert prepare(open_image(data), photo_policy(224)).size == (1000, 750)  # 1/4: >= 3 x 224
    full = dataclasses.replace(photo_policy(64), reduced_decoding=False)
    assert prepare(open_image(data), full).size == (4000, 3000)


def test_grayscale_stays_one_channel_until_it_is_small() -> None:
    data = encode(Image.new("L", (3000, 2000), 90))
    img = prepare(open_image(data), photo_policy(64))
    assert (img.mode, img.size) == ("L", (3000, 2000))
    np.testing.assert_array_equal(fit(img, photo_policy(64)), np.full((64, 64, 3), 90))


POLICIES = [photo_policy(64), photo_policy(224), network_policy("crop", 224, resize=256),
            network_policy("stretch", 224)]


def _agreement(fmt: str, shape: tuple[int, int]) -> None:
    """The tolerance stated in ``neuralcodes.images.resize``: 0.4 levels on average, 2 at most."""
    kw = {"quality": 95} if fmt == "JPEG" else {"lossless": True} if fmt == "WEBP" else {}
    data = encode(smooth(*shape, seed=1), fmt, **kw)
    for policy in POLICIES:
        full = dataclasses.replace(policy, reduced_decoding=False)
        diff = np.abs(load_image(data, policy).astype(int) - load_image(data, full).astype(int))
        assert diff.mean() <= 0.4 and diff.max() <= 2, (policy, diff.mean(), diff.max())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_reduced_decoding_agrees_with_full_decoding(fmt: str) -> None:
    _agreement(fmt, (900, 700))


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("shape", [(1200, 1600), (3000, 4000)])
def test_reduced_decoding_agrees_on_larger_images(fmt: str, shape: tuple[int, int]) -> None:
    _agreement(fmt, shape)


def test_stretch_then_crop_and_crop_alone() -> None:
    a = np.arange(36).reshape(6, 6)
    out = fit(_grey(a), ImagePolicy("t", 2, "stretch-crop", "nearest", resize=6))  # R x R, crop
    np.testing.assert_array_equal(out[..., 0], a[2:4, 2:4])
    # 6 - 3 = 3: the offset 1.5 is rounded (torchvision: 2) or floored (Hugging Face: 1)
    rounded = fit(_grey(a), ImagePolicy("t", 3, "centre-crop", "nearest"))
    np.testing.assert_array_equal(rounded[..., 0], a[2:5, 2:5])
    floored = fit(_grey(a), ImagePolicy("t", 3, "centre-crop", "nearest", crop_offset="floor"))
    np.testing.assert_array_equal(floored[..., 0], a[1:4, 1:4])
    small = fit(_grey(np.full((2, 2), 200)), ImagePolicy("t", 4, "centre-crop", "nearest"))
    expected = np.zeros((4, 4))
    expected[1:3, 1:3] = 200  # a crop larger than the image is filled with black
    np.testing.assert_array_equal(small[..., 0], expected)


def test_geometry_of_each_fit() -> None:
    from neuralcodes.images.resize import fit_geometry

    crop = network_policy("n", 32, resize=36, crop_offset="floor")
    assert fit_geometry(70, 50, crop) == (50, 36, 9, 2)  # int(36 * 70 / 50) = 50
    assert fit_geometry(50, 70, crop) == (36, 50, 2, 9)
    assert fit_geometry(100, 80, network_policy("n", 32)) == (32, 32, 0, 0)  # stretch
    assert fit_geometry(100, 80, photo_policy(32)) == (32, 32, 0, 0)
