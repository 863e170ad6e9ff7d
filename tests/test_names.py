"""File names as text: escaped for a terminal or a log, readable and exact for JSON."""

from __future__ import annotations

import base64
import os
from pathlib import Path

from neuralcodes.errors import DataError
from neuralcodes.names import display, name_b64, name_bytes, shown

LATIN1 = os.fsdecode(b"caf\xe9.jpg")  # a Latin-1 name: not UTF-8, legal on Linux


def test_shown_escapes_control_characters_and_bytes_that_are_not_utf8() -> None:
    assert shown("holiday/IMG_0042.jpg") == "holiday/IMG_0042.jpg"
    assert shown("été 😀 a b.jpg") == "été 😀 a b.jpg"  # valid Unicode is kept
    assert shown(LATIN1) == "caf\\xe9.jpg"
    assert shown("new\nline\r\tx.jpg") == "new\\nline\\r\\tx.jpg"
    assert shown("\x1b[2J\x1b]0;owned\x07.jpg") == "\\x1b[2J\\x1b]0;owned\\x07.jpg"
    assert shown("a\x7f\x85b") == "a\\x7f\\x85b"
    assert shown("gnp.\u202eevil.jpg") == "gnp.\\u202eevil.jpg"  # a right-to-left override
    assert shown("a\u2028b") == "a\\u2028b"
    assert shown(Path("/x") / LATIN1) == "/x/caf\\xe9.jpg"


def test_shown_twice_is_shown_once() -> None:
    for name in (LATIN1, "a\nb", "\x1b[31m", "plain"):
        assert shown(shown(name)) == shown(name)
        assert shown(name).isprintable()


def test_display_and_b64_give_readable_text_and_the_exact_bytes() -> None:
    assert display(LATIN1) == "caf\ufffd.jpg"
    assert display("été.jpg") == "été.jpg"
    assert display("a\nb") == "a\nb"  # JSON escapes it
    assert name_bytes(LATIN1) == b"caf\xe9.jpg"
    assert base64.b64decode(name_b64(LATIN1)) == b"caf\xe9.jpg"
    assert name_b64("été.jpg") == base64.b64encode("été.jpg".encode()).decode()
    assert os.fsdecode(base64.b64decode(name_b64(LATIN1))) == LATIN1


def test_a_data_error_shows_its_path_escaped_and_keeps_it() -> None:
    e = DataError(f"/photos/{LATIN1}\n", "not an image")
    assert str(e) == "/photos/caf\\xe9.jpg\\n: not an image"
    assert e.path == f"/photos/{LATIN1}\n"
    str(e).encode("ascii")  # printable anywhere
