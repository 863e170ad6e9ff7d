from __future__ import annotations

import builtins
import pickle
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.benchmarks.safe_pickle import load_plain_pickle
from neuralcodes.errors import DataError


@pytest.mark.parametrize("protocol", [3, 4])
def test_plain_data_loads(tmp_path: Path, protocol: int) -> None:
    data = {"imlist": ["a", "b"], "n": 3, "x": 1.5, "t": (1, None, True), "b": b"raw",
            "gnd": [{"bbx": np.array([1.0, 2.0, 3.0, 4.0]), "easy": np.arange(3, dtype=np.int32)}]}
    (tmp_path / "g.pkl").write_bytes(pickle.dumps(data, protocol=protocol))
    out = load_plain_pickle(tmp_path / "g.pkl")
    assert out["imlist"] == ["a", "b"] and out["t"] == (1, None, True) and out["b"] == b"raw"
    np.testing.assert_array_equal(out["gnd"][0]["easy"], [0, 1, 2])
    assert out["gnd"][0]["easy"].dtype == np.int32


def test_numpy_1_module_name_is_admitted(tmp_path: Path) -> None:
    """Files written with NumPy 1 name numpy.core.multiarray._reconstruct."""
    raw = pickle.dumps(np.array([7, 8]), protocol=3).replace(b"numpy._core.multiarray",
                                                               b"numpy.core.multiarray")
    (tmp_path / "old.pkl").write_bytes(raw)
    np.testing.assert_array_equal(load_plain_pickle(tmp_path / "old.pkl"), [7, 8])


class Runs:
    def __init__(self, fn: object, *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (self.fn, self.args)


@pytest.mark.parametrize(("obj", "name"), [
    (Runs(builtins.eval, "1 + 1"), "builtins.eval"),
    (Runs(getattr, 1, "real"), "builtins.getattr"),
    (Runs(np.load, "x.npy"), "numpy.load"),
    ({1, 2}, None),  # a set: not plain data here (protocol 3 names builtins.set)
])
def test_anything_else_is_refused(tmp_path: Path, obj: object, name: str | None) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"gnd": [obj]}, protocol=3))
    with pytest.raises(DataError, match=f"refused: the pickle asks for the global "
                       f"'{name or 'builtins.set'}'") as e:
        load_plain_pickle(path)
    assert e.value.path == str(path)


def test_object_arrays_and_broken_files(tmp_path: Path) -> None:
    (tmp_path / "o.pkl").write_bytes(pickle.dumps(np.array([1, "a"], dtype=object), protocol=3))
    with pytest.raises(DataError, match="array of Python objects"):
        load_plain_pickle(tmp_path / "o.pkl")
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps(list(range(100)))[:20])
    with pytest.raises(DataError, match="not a readable pickle"):
        load_plain_pickle(tmp_path / "cut.pkl")
    with pytest.raises(DataError, match="file not found"):
        load_plain_pickle(tmp_path / "none.pkl")
