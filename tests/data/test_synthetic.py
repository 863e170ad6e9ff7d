from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from neuralcodes.data.decode import decode_files
from neuralcodes.data.synthetic import class_recipes, make_synthetic
from neuralcodes.data.tinyimagenet import read_tiny_imagenet
from neuralcodes.errors import ConfigError, DataError


def test_layout_is_tiny_imagenet(tiny_dataset: Path) -> None:
    assert tiny_dataset.name == "tiny-imagenet-200"
    wnids = sorted(p.name for p in (tiny_dataset / "train").iterdir())
    assert len(wnids) == 10 and all(w.startswith("n") and len(w) == 9 for w in wnids)
    for w in wnids:
        images = sorted(p.name for p in (tiny_dataset / "train" / w / "images").iterdir())
        assert images == sorted(f"{w}_{i}.JPEG" for i in range(20))
        assert (tiny_dataset / "train" / w / f"{w}_boxes.txt").exists()
    listed = (tiny_dataset / "wnids.txt").read_text().split()
    assert sorted(listed) == wnids and listed != wnids  # unsorted, like the real file
    words = (tiny_dataset / "words.txt").read_text().splitlines()
    assert len(words) > 10 and all(len(line.split("\t")) == 2 for line in words)
    index = read_tiny_imagenet(tiny_dataset)
    assert len(index) == 200 and index.wnids == tuple(wnids)
    recipes = class_recipes(10, 0)
    assert index.class_names == tuple(f"{c} {f} {s}, {n}" for s, f, c, n in recipes)


def test_some_grayscale_and_all_decodable(tiny_dataset: Path) -> None:
    files = sorted((tiny_dataset / "train").glob("*/images/*.JPEG"))
    modes = [Image.open(f).mode for f in files]
    assert modes.count("L") == 4 and modes.count("RGB") == 196  # 2 % of 200
    out = decode_files(None, [str(f) for f in files], workers=1)
    assert out.ok.all() and not out.problems


def test_deterministic_reuse_and_overwrite(tmp_path: Path) -> None:
    a = make_synthetic(tmp_path / "a", n_classes=3, per_class=4, seed=5)
    b = make_synthetic(tmp_path / "b", n_classes=3, per_class=4, seed=5)
    c = make_synthetic(tmp_path / "c", n_classes=3, per_class=4, seed=6)

    def contents(root: Path) -> list[bytes]:
        return [p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()]

    assert contents(a) == contents(b) != contents(c)
    mtime = (a / "wnids.txt").stat().st_mtime_ns
    assert make_synthetic(tmp_path / "a", n_classes=3, per_class=4, seed=5) == a
    assert (a / "wnids.txt").stat().st_mtime_ns == mtime  # reused, not rewritten
    with pytest.raises(DataError, match="not written with these parameters"):
        make_synthetic(tmp_path / "a", n_classes=3, per_class=5, seed=5)
    make_synthetic(tmp_path / "a", n_classes=3, per_class=5, seed=5, overwrite=True)
    assert len(read_tiny_imagenet(a)) == 15
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["tiny-imagenet-200"]


def test_raw_pixels_do_not_separate_classes(tiny_dataset: Path) -> None:
    """Leave-one-out 1-NN on raw pixels is far from perfect: the class is not in the pixels."""
    index = read_tiny_imagenet(tiny_dataset)
    x = decode_files(index.root, index.members, workers=1).images.reshape(200, -1) / np.float32(255)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    d = 2.0 - 2.0 * x @ x.T  # (200, 200) squared distances of unit rows
    np.fill_diagonal(d, np.inf)
    accuracy = (index.labels[d.argmin(1)] == index.labels).mean()
    assert accuracy < 0.5, accuracy  # chance is 0.1 (this seed: 0.185)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_classes": 0}, "n_classes must be in"),
        ({"n_classes": 10_000}, "n_classes must be in 1..576"),
        ({"per_class": 0}, "per_class must be at least 1"),
        ({"size": 8}, "size must be at least 16"),
        ({"grayscale_fraction": 2.0}, "grayscale_fraction"),
    ],
)
def test_bad_parameters(tmp_path: Path, kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_synthetic(tmp_path, **kwargs)  # type: ignore[arg-type]
