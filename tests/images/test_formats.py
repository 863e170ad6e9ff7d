from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

from neuralcodes.images import HEIF_EXTRA, IMAGE_EXTENSIONS, ImageError, is_image_name, load_image
from neuralcodes.images import formats as formats_module
from neuralcodes.images.formats import accepted_formats, avif_supported, container_brand

from .helpers import encode


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(brands)) + b"ftyp" + brands + b"\0" * 32


def test_phone_formats_are_image_extensions() -> None:
    assert {".heic", ".heif", ".avif"} <= IMAGE_EXTENSIONS
    assert all(is_image_name(n) for n in ["a.HEIC", "b.heif", "c.Avif", "d.JPG", "e.tiff"])
    assert not any(is_image_name(n) for n in ["a.txt", "b.jpg.bak", "c", "heic"])


@pytest.mark.parametrize(
    ("head", "brand"),
    [
        (_ftyp(b"heic", b"mif1", b"heic"), "HEIF"),
        (_ftyp(b"mif1", b"heic"), "HEIF"),
        (_ftyp(b"avif", b"mif1"), "AVIF"),
        (_ftyp(b"mif1", b"avif", b"miaf"), "AVIF"),
        (_ftyp(b"isom", b"mp41"), None),  # an MP4 video
        (b"\xff\xd8\xff\xe0" + b"\0" * 40, None),
        (b"", None),
    ],
)
def test_container_brand(head: bytes, brand: str | None) -> None:
    assert container_brand(head) == brand


def test_heic_without_the_extra_is_refused_with_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # as if pillow-heif were absent
    monkeypatch.setattr(formats_module, "register_heif", lambda: False)
    assert "HEIF" not in accepted_formats()
    with pytest.raises(ImageError) as e:
        load_image(_ftyp(b"heic", b"mif1", b"heic"), 8, name="IMG_0001.HEIC")
    assert e.value.kind == "needs-extra"
    assert e.value.problem == ("a HEIC/HEIF image: reading it needs the optional extra, "
                               "pip install 'neuralcodes[heif]'")
    assert HEIF_EXTRA == "pip install 'neuralcodes[heif]'"


def test_heic_through_the_extra() -> None:
    pytest.importorskip("pillow_heif")
    assert formats_module.register_heif() and "HEIF" in accepted_formats()
    data = encode(Image.new("RGB", (40, 30), (200, 30, 60)), "HEIF", quality=95)
    out = load_image(data, 8).astype(int)
    assert out.shape == (8, 8, 3)
    assert np.abs(out - [200, 30, 60]).max() <= 6  # lossy HEVC on a flat colour


def test_avif_through_pillow() -> None:
    if not avif_supported():
        pytest.skip("this Pillow has no AVIF")
    data = encode(Image.new("RGB", (40, 30), (20, 160, 90)), "AVIF", quality=95)
    out = load_image(data, 8).astype(int)
    assert np.abs(out - [20, 160, 90]).max() <= 6
