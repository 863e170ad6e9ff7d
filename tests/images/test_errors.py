from __future__ import annotations

import pickle
import struct

import pytest
from PIL import Image

from neuralcodes.errors import DataError
from neuralcodes.images import ImageError, image_errors


def test_image_error_is_a_data_error_naming_the_file() -> None:
    e = ImageError("a/b.jpg", "damaged image header (ValueError: Invalid dimensions)")
    assert isinstance(e, DataError)
    assert (e.path, e.kind) == ("a/b.jpg", "damaged")
    assert str(e) == "a/b.jpg: damaged image header (ValueError: Invalid dimensions)"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown ImageError kind"):
        ImageError("x", "y", "odd")  # type: ignore[arg-type]


def test_pickles_across_processes() -> None:
    e = pickle.loads(pickle.dumps(ImageError("x.png", "file too large", "too-large")))
    assert (e.path, e.problem, e.kind) == ("x.png", "file too large", "too-large")


@pytest.mark.parametrize(
    ("raised", "problem", "kind"),
    [
        (struct.error("ushort format requires 0 <= number <= 65535"),
         "cannot decode the image (error: ushort format requires 0 <= number <= 65535)", "damaged"),
        (TypeError("bad operand type for abs(): 'str'"),
         "cannot decode the image (TypeError: bad operand type for abs(): 'str')", "damaged"),
        (ValueError("Invalid dimensions"),
         "cannot decode the image (ValueError: Invalid dimensions)", "damaged"),
        (SyntaxError("not a TIFF file"),
         "cannot decode the image (SyntaxError: not a TIFF file)", "damaged"),
        (OSError(5, "Input/output error"), "cannot decode the image (Input/output error)",
         "damaged"),
        (Image.DecompressionBombError("too big"),
         "cannot decode the image (DecompressionBombError: too big)", "too-many-pixels"),
        (MemoryError(), "cannot decode the image: out of memory", "too-many-pixels"),
        (KeyError("MPO"), "cannot decode the image (KeyError: 'MPO')", "damaged"),
    ],
)
def test_any_exception_becomes_an_image_error(raised: Exception, problem: str, kind: str) -> None:
    with pytest.raises(ImageError) as e, image_errors("p.jpg"):
        raise raised
    assert (e.value.path, e.value.problem, e.value.kind) == ("p.jpg", problem, kind)


def test_image_errors_pass_unchanged_and_interrupts_are_not_caught() -> None:
    original = ImageError("q.png", "file not found", "missing")
    with pytest.raises(ImageError) as e, image_errors("other"):
        raise original
    assert e.value is original
    with pytest.raises(KeyboardInterrupt), image_errors("p.jpg"):
        raise KeyboardInterrupt
