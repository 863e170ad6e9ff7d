"""Labelled image folders: class order, decoding, bad files, the seeded split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.errors import DataError
from neuralcodes.progress import Recorder
from neuralcodes.research.folders import read_labelled_folder, split_folder


def test_classes_in_sorted_order_and_bad_files_skipped(
        tmp_path: Path, make_labelled: Callable[..., Path]) -> None:
    root = make_labelled(tmp_path / "f", n_classes=2, per_class=3)
    (root / "class1" / "broken.jpg").write_bytes(b"not a jpeg")
    (root / ".hidden").mkdir()
    rec = Recorder()
    folder = read_labelled_folder(root, 16, progress=rec)
    assert folder.class_names == ("class0", "class1")
    assert folder.images.shape == (6, 16, 16, 3) and folder.images.dtype == np.uint8
    assert folder.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert folder.files[3] == "class1/img0.png"
    assert any("broken.jpg" in m for m in rec.messages)


def test_folders_without_a_task_are_refused(tmp_path: Path,
                                            make_labelled: Callable[..., Path]) -> None:
    with pytest.raises(DataError, match="at least 2"):
        read_labelled_folder(make_labelled(tmp_path / "one", n_classes=1), 16)
    with pytest.raises(DataError, match="single image"):
        read_labelled_folder(make_labelled(tmp_path / "single", per_class=1), 16)
    with pytest.raises(DataError, match="not a folder"):
        read_labelled_folder(tmp_path / "missing", 16)


def test_split_holds_out_a_fraction_of_each_class(labelled: Path) -> None:
    folder = read_labelled_folder(labelled, 16)
    train, val = split_folder(folder, 0.25, seed=3)
    assert len(val) == 3 and len(train) == 9 and not set(train) & set(val)
    assert sorted(folder.labels[val].tolist()) == [0, 1, 2]
    again = split_folder(folder, 0.25, seed=3)
    assert np.array_equal(again[1], val)
