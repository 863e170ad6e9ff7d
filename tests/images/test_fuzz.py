"""Mutated JPEG, PNG, TIFF, WebP, GIF, BMP and EXIF byte strings through the loader (seeded):
whatever the bytes, the only exception that may come out is ``ImageError``."""

from __future__ import annotations

import struct
import warnings

import numpy as np
import pytest
from PIL import Image

from neuralcodes.images import ImageError, load_image, photo_policy, tiny_cache_policy

from .helpers import BROKEN_EXIF, ORIENT_6, encode, ifd, jpeg_with_exif, smooth, tiff_with_width

MAX_PIXELS = 4_000_000  # the policy is the same at any limit; a small one keeps decodes fast


def _seeds() -> list[bytes]:
    a = smooth(24, 32)
    rgba = np.dstack([a, np.arange(24 * 32, dtype=np.uint8).reshape(24, 32)])
    exif = Image.Exif()
    exif[0x0112], exif[0x011A], exif[0x010F] = 6, 72.0, "camera"
    return [
        encode(a, "JPEG", quality=80, exif=exif),
        encode(a, "JPEG", quality=60, progressive=True),
        encode(Image.fromarray(a).convert("L"), "JPEG"),
        encode(Image.fromarray(a).convert("CMYK"), "JPEG"),
        jpeg_with_exif(ifd(BROKEN_EXIF["x-resolution as text"])),
        jpeg_with_exif(ifd([ORIENT_6, (0x8769, 4, 1, struct.pack("<I", 26))])),
        encode(rgba, "PNG"),
        encode(Image.fromarray(a).convert("P"), "PNG", transparency=3),
        encode(Image.new("I;16", (20, 10), 3000), "PNG"),
        encode(a, "TIFF"),
        encode(a, "TIFF", compression="tiff_lzw", exif=exif),
        tiff_with_width((256, 3, 1, struct.pack("<H", 4))),
        encode(a, "WEBP", quality=70),
        encode(rgba, "WEBP", lossless=True),
        encode(Image.fromarray(a).convert("P"), "GIF"),
        encode(a, "BMP"),
        b"Exif\x00\x00" + ifd([ORIENT_6, (0x011A, 5, 1, struct.pack("<II", 72, 1))]),
    ]


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        kind = int(rng.integers(0, 6))
        i = int(rng.integers(0, len(b))) if b else 0
        if kind == 0 and b:  # flip a byte, often in the headers
            j = int(rng.integers(0, min(len(b), 96))) if rng.random() < 0.6 else i
            b[j] = int(rng.integers(0, 256))
        elif kind == 1 and b:  # an extreme value over 1 to 4 bytes
            b[i : i + int(rng.integers(1, 5))] = bytes([0xFF if rng.random() < 0.5 else 0x00] * 4)
        elif kind == 2:  # insert random bytes
            b[i:i] = rng.integers(0, 256, int(rng.integers(1, 16))).astype(np.uint8).tobytes()
        elif kind == 3 and b:  # delete a run
            del b[i : i + int(rng.integers(1, 32))]
        elif kind == 4:  # truncate
            b = b[: int(rng.integers(0, len(b) + 1))]
        else:  # repeat a run (duplicated markers and chunks)
            j = int(rng.integers(i, min(len(b), i + 64) + 1))
            b[j:j] = b[i:j]
    return bytes(b)


def _fuzz(n: int, seed: int) -> dict[str, int]:
    rng = np.random.default_rng(seed)
    seeds = _seeds()
    outcomes = {"decoded": 0, "refused": 0}
    policies = [photo_policy(16), tiny_cache_policy(16)]
    for k in range(n):
        data = _mutate(seeds[k % len(seeds)], rng)
        policy = policies[k % 2]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Pillow warns about corrupt EXIF, on its way
                out = load_image(data, policy, max_pixels=MAX_PIXELS, name=f"case-{k}")
        except ImageError as e:
            assert e.path == f"case-{k}" and e.problem
            outcomes["refused"] += 1
        else:
            assert out.shape == (16, 16, 3) and out.dtype == np.uint8
            outcomes["decoded"] += 1
    return outcomes


def test_fuzz_fast_subset() -> None:
    outcomes = _fuzz(1500, seed=0)
    assert outcomes["decoded"] > 150 and outcomes["refused"] > 150  # both paths are exercised


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fuzz_thousands(seed: int) -> None:
    outcomes = _fuzz(5000, seed=seed)
    assert sum(outcomes.values()) == 5000
