"""Reading the revisited benchmarks' ground-truth pickles without running any code from them.

``gnd_roxford5k.pkl`` and ``gnd_rparis6k.pkl`` are Python pickles, and unpickling an arbitrary
pickle can run arbitrary code (a pickle names the functions it calls). ``load_plain_pickle``
admits only what plain data needs: the pickle opcodes for dicts, lists, tuples, strings, bytes
and numbers (which name no function), and the three globals that rebuild a NumPy array
(``numpy.core.multiarray._reconstruct`` or its NumPy 2 name ``numpy._core.multiarray.
_reconstruct``, ``numpy.ndarray`` and ``numpy.dtype``). Any other global (``os.system``,
``builtins.eval``, ``subprocess.Popen``, ...) is refused before anything is called, with a
message naming the file and the global. Arrays of Python objects (``dtype=object``) are refused
too. NumPy arrays pickled with protocol 5 (``numpy._core.numeric._frombuffer``) are not
admitted: the published files use protocol 3.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.errors import DataError

_RECONSTRUCT_MODULES = frozenset({"numpy.core.multiarray", "numpy._core.multiarray"})


def _reconstruct() -> Any:
    try:
        from numpy._core.multiarray import _reconstruct as fn  # NumPy 2
    except ImportError:  # pragma: no cover - NumPy 1
        from numpy.core.multiarray import _reconstruct as fn  # type: ignore[no-redef]
    return fn


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle asked for a global that plain data does not need."""

    def __init__(self, module: str, name: str) -> None:
        self.global_name = f"{module}.{name}"
        super().__init__(self.global_name)


class PlainDataUnpickler(pickle.Unpickler):
    """An unpickler whose ``find_class`` admits only the globals that NumPy arrays need."""

    def find_class(self, module: str, name: str) -> Any:
        if module in _RECONSTRUCT_MODULES and name == "_reconstruct":
            return _reconstruct()
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return np.dtype
        raise RefusedGlobal(module, name)


def load_plain_pickle(path: str | Path) -> Any:
    """The plain data in the pickle file ``path``; ``DataError`` naming the file otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as e:
        raise DataError(path, f"cannot read the file ({e})") from None
    try:
        obj = PlainDataUnpickler(io.BytesIO(data), encoding="latin1").load()
    except RefusedGlobal as e:
        raise DataError(
            path, f"refused: the pickle asks for the global {e.global_name!r}, which plain data "
            "(dicts, lists, strings, numbers, NumPy arrays) does not need; it was not loaded "
            "and nothing in it was run"
        ) from None
    except Exception as e:  # any failure of a malformed pickle is a data error
        raise DataError(path, f"not a readable pickle ({type(e).__name__}: {e})") from None
    _refuse_object_arrays(path, obj)
    return obj


def _refuse_object_arrays(path: Path, obj: Any) -> None:
    """Walk the loaded data; an object array could hold anything, so it is refused."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, np.ndarray) and item.dtype.hasobject:
            raise DataError(path, "refused: holds a NumPy array of Python objects, not plain data")
