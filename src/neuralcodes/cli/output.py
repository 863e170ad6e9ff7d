"""What commands print on stdout with ``--json``: any result as plain JSON values."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def jsonable(value: Any) -> Any:
    """``value`` as JSON values: ``to_dict()`` when it has one, dataclasses and mappings as
    objects, sequences and arrays as
    lists, paths as strings, NumPy scalars as numbers, NaN and infinities as null."""
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def print_json(value: Any) -> None:
    print(json.dumps(jsonable(value), indent=2))


def print_result(as_json: bool, record: Any, text: str) -> None:
    """``record`` as JSON on stdout (``--json``), else ``text`` for people."""
    if as_json:
        print_json(record)
    else:
        print(text)
