"""uint8 NHWC batches to network input; crops and flips of the augment recipe; the batch feeder
(the data-on-the-GPU branch is exercised through its decision, which takes the free memory)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from neuralcodes.data.tensors import BatchFeeder, fits_on_device, random_crop_flip, to_input

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_to_input_scales_and_transposes() -> None:
    batch = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)  # (B, H, W, C)
    for channels_last in (False, True):
        x = to_input(batch, "cpu", channels_last=channels_last)
        assert x.dtype == torch.float32 and tuple(x.shape) == (2, 3, 3, 4)
        expected = torch.from_numpy(batch.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)
        torch.testing.assert_close(x, expected, rtol=0, atol=0)
        assert x.is_contiguous(memory_format=torch.channels_last) == channels_last
    value = to_input(torch.from_numpy(batch), "cpu")[1, 2, 0, 1]  # pixel (1, 0, 1), channel 2
    assert value.item() == np.float32(41) / np.float32(255)


def test_to_input_reads_read_only_memory_maps_without_warnings(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.full((4, 2, 2, 3), 51, np.uint8))
    images = np.load(tmp_path / "x.npy", mmap_mode="r")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = to_input(images[1:3], "cpu")
    assert tuple(x.shape) == (2, 3, 2, 2) and bool((x == np.float32(0.2)).all())


def test_to_input_refuses_other_layouts() -> None:
    with pytest.raises(ValueError, match="uint8"):
        to_input(np.zeros((1, 4, 4, 3), np.float32), "cpu")
    with pytest.raises(ValueError, match=r"\(B, H, W, 3\)"):
        to_input(np.zeros((1, 3, 4, 4), np.uint8), "cpu")


def test_random_crop_flip_is_a_shifted_reflect_padded_crop() -> None:
    x = torch.rand(5, 3, 8, 8)
    out = random_crop_flip(x, np.random.default_rng(7), pad=2)
    rng = np.random.default_rng(7)  # the same draws, in the same order
    offsets, flips = rng.integers(0, 5, size=(2, 5)), rng.random(5) < 0.5
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (2, 2), (2, 2)), mode="reflect")
    for i in range(5):
        oy, ox = offsets[:, i]
        crop = padded[i, :, oy : oy + 8, ox : ox + 8]
        expected = crop[:, :, ::-1] if flips[i] else crop
        np.testing.assert_array_equal(out[i].numpy(), expected)
    assert flips.any() and not flips.all()  # the seed exercises both branches


def test_random_crop_flip_keeps_channels_last() -> None:
    x = torch.rand(4, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    out = random_crop_flip(x, np.random.default_rng(0))
    assert out.is_contiguous(memory_format=torch.channels_last)
    assert out.shape == x.shape


def test_images_live_on_the_device_only_on_a_gpu_with_room() -> None:
    assert not fits_on_device(10, CPU, free_bytes=10**9)
    assert fits_on_device(1000, CUDA, free_bytes=2000)
    assert not fits_on_device(1001, CUDA, free_bytes=2000)


@pytest.mark.parametrize("on_device", [False, True])
def test_batch_feeder_gives_the_rows_asked_for_in_order(on_device: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 8, 8, 3), dtype=np.uint8)
    labels = np.arange(10) * 3
    batches = [np.array([1, 4, 7]), np.array([0, 2]), np.array([9])]
    feeder = BatchFeeder(images, labels, CPU, on_device=on_device)
    got = list(feeder.epoch(batches))
    assert len(got) == 3 and feeder.wait >= 0.0
    for (x, y), idx in zip(got, batches, strict=True):
        torch.testing.assert_close(x, to_input(images[idx], CPU, channels_last=True))
        assert x.is_contiguous(memory_format=torch.channels_last)
        assert y.dtype == torch.int64 and y.tolist() == (idx * 3).tolist()
