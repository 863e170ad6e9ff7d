"""File names as text: shown in a terminal or a log, and sent over JSON without loss.

A file name on Linux is bytes, and need not be UTF-8 (``caf\\xe9.jpg`` from an old camera or a
Latin-1 system). Python carries each byte that is not UTF-8 as a surrogate escape (``b"\\xe9"`` is
``"\\udce9"``), and ``os.fsencode`` gives the bytes back: the index keeps names that way (its JSON
files escape them as ``\\udce9``), losslessly. Such a string cannot be written as UTF-8 text, and
a name may also hold a newline or a terminal escape code (``\\x1b[2J``). So:

- ``shown(name)``: for a terminal or a log line: control characters (``\\n``, ``\\x1b``...), the
  Unicode line separators and bidirectional overrides escaped, and every byte that is not UTF-8
  written ``\\xNN``. One line, printable, never an error; a name that needs none is unchanged.
- ``display(name)``: for JSON and a web page: the bytes that are not UTF-8 become U+FFFD, the rest
  is the name as it is (JSON escapes control characters itself).
- ``name_b64(name)``: the name's exact bytes in base64, beside ``display`` where a client must get
  the file name back exactly (the HTTP API's ``path_b64``).
"""

from __future__ import annotations

import base64
import os
import re

# C0 and C1 control characters, DEL, the line/paragraph separators, the bidirectional embeddings,
# overrides and isolates (which reorder what a terminal shows), and any lone surrogate
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def shown(name: str | os.PathLike[str]) -> str:
    """``name`` as one printable line: control characters escaped (``\\n``, ``\\x1b``), bytes that
    are not UTF-8 as ``\\xNN``. Applying it twice changes nothing more."""
    return _UNSAFE.sub(_escape, os.fspath(name))


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # a surrogate escape: the byte it stands for
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def name_bytes(name: str | os.PathLike[str]) -> bytes:
    """The bytes of a file name as the file system has them."""
    return os.fsencode(name)


def display(name: str | os.PathLike[str]) -> str:
    """``name`` as valid Unicode text: bytes that are not UTF-8 replaced by U+FFFD."""
    return name_bytes(name).decode("utf-8", errors="replace")


def name_b64(name: str | os.PathLike[str]) -> str:
    """The exact bytes of ``name``, base64-encoded (standard alphabet, padded)."""
    return base64.b64encode(name_bytes(name)).decode("ascii")
