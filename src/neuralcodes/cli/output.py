"""What commands print on stdout with ``--json``: any result as plain JSON values."""

from __future__ import annotations

import json
from typing import Any

from neuralcodes.artifacts import jsonable


def print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2))


def print_result(as_json: bool, record: Any, text: str) -> None:
    """``record`` as JSON on stdout (``--json``), else ``text`` for people."""
    if as_json:
        print_json(record)
    else:
        print(text)
