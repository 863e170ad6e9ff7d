"""The peer: the seed notebook's ``load_imagenet``, reproduced for measurement.

One image at a time with ``matplotlib.image.imread`` (Pillow underneath), each class into its own
``uint8`` array, the arrays concatenated class by class (every ``np.concatenate`` copies everything
loaded so far), then the notebook's seeded shuffle and split and its conversion of every set to
``float32`` divided by 255. This is what the notebook timed at 137 s on Colab.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def load_class_images(root: Path, wnid: str, label: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 64, 64, 3) uint8 images of one class folder in sorted file order, and their labels."""
    import matplotlib.image as mpimg

    folder = root / "train" / wnid / "images"
    files = sorted(os.listdir(folder))
    images = np.zeros((len(files), 64, 64, 3), dtype=np.uint8)
    for i, name in enumerate(files):
        img = mpimg.imread(folder / name)
        images[i] = np.expand_dims(img, -1) if img.ndim == 2 else img
    return images, np.full(len(files), label, dtype=np.uint8)


def load_like_notebook(
    root: str | Path, num_train_classes: int = 190, *, to_float: bool = True
) -> dict[str, np.ndarray]:
    """The notebook's train/val/test/ood arrays (float32 in [0, 1] unless ``to_float=False``)."""
    root = Path(root)
    wnids = sorted(os.listdir(root / "train"))
    img = labels = ood_x = ood_y = None
    for k, wnid in enumerate(wnids):
        x, y = load_class_images(root, wnid, k)
        if k < num_train_classes:
            img = x if img is None else np.concatenate((img, x), axis=0)
            labels = y if labels is None else np.concatenate((labels, y))
        else:
            ood_x = x if ood_x is None else np.concatenate((ood_x, x), axis=0)
            ood_y = y if ood_y is None else np.concatenate((ood_y, y))
    assert img is not None and labels is not None
    return _split_like_notebook(img, labels, ood_x, ood_y, to_float)


def _split_like_notebook(
    img: np.ndarray,
    labels: np.ndarray,
    ood_x: np.ndarray | None,
    ood_y: np.ndarray | None,
    to_float: bool,
) -> dict[str, np.ndarray]:
    """NumPy legacy seed 42: validation, test, train; then the OOD shuffle; then float32 / 255."""
    np.random.seed(42)
    rp = np.random.permutation(len(img))
    img, labels = img[rp], labels[rp]
    n_val = n_test = int(round(len(img) * 0.1))
    out = {
        "val_x": img[:n_val],
        "val_y": labels[:n_val],
        "test_x": img[n_val : n_val + n_test],
        "test_y": labels[n_val : n_val + n_test],
        "train_x": img[n_val + n_test :],
        "train_y": labels[n_val + n_test :],
    }
    del img
    if ood_x is not None and ood_y is not None:
        rp = np.random.permutation(len(ood_x))
        out["ood_x"], out["ood_y"] = ood_x[rp], ood_y[rp]
    if to_float:
        for key in list(out):
            out[key] = out[key].astype(np.float32)  # the notebook converts labels too
            if key.endswith("_x"):
                out[key] /= 255.0
    return out
