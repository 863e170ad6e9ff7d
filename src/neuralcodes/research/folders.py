"""A labelled image folder: one subfolder per class, images anywhere below it (ImageFolder-like).

    FOLDER/
      cats/001.jpg, cats/more/002.png, ...
      dogs/...

Classes are numbered in the sorted order of the subfolder names, images within a class in sorted
relative-path order; hidden files and folders are ignored. Every image is read by
``neuralcodes.images`` (any common format, EXIF rotation applied, any mode to RGB) with the
network's image policy: the "photo" policy for a size S (centre-cropped to a square and resized
to S x S), a pretrained network's own preprocessing for its policy. A file that cannot be
decoded is skipped and reported through ``progress``; a folder without two classes, or without
any class of two images, is refused (no retrieval or training task can be made of it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neuralcodes.errors import DataError
from neuralcodes.images import ImagePolicy, load_image, scan_images
from neuralcodes.images.policy import as_policy
from neuralcodes.progress import Progress, ensure


@dataclass(frozen=True, eq=False)
class LabelledFolder:
    root: Path
    images: np.ndarray  # (N, S, S, 3) uint8
    labels: np.ndarray  # (N,) int64, index into class_names
    class_names: tuple[str, ...]
    files: tuple[str, ...]  # (N,) paths relative to root

    def __len__(self) -> int:
        return len(self.labels)


def class_folders(root: str | Path) -> list[Path]:
    """The class subfolders of ``root``, sorted by name (hidden ones left out)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(root, "not a folder (expected one subfolder of images per class)")
    return sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def read_labelled_folder(root: str | Path, size: ImagePolicy | int, *,
                         progress: Progress | None = None) -> LabelledFolder:
    """Decode every image of a labelled folder into (N, S, S, 3) uint8 with its labels, by an
    image policy (an int S: the photo policy at S)."""
    root, progress, policy = Path(root), ensure(progress), as_policy(size)
    size = policy.size
    folders = class_folders(root)
    files = [(label, path) for label, folder in enumerate(folders) for path in scan_images(folder)]
    images = np.zeros((len(files), size, size, 3), np.uint8)  # (N, S, S, 3)
    ok = np.zeros(len(files), bool)
    for i in progress.track(range(len(files)), len(files), desc="decode images"):
        try:
            images[i] = load_image(files[i][1], policy)
            ok[i] = True
        except DataError as e:
            progress.log(f"skipped {e}", logging.WARNING)
    kept = [item for item, good in zip(files, ok, strict=True) if good]
    found = LabelledFolder(root, images[ok], np.array([lab for lab, _ in kept], np.int64),
                           tuple(p.name for p in folders),
                           tuple(p.relative_to(root).as_posix() for _, p in kept))
    _check(found)
    return found


def _check(folder: LabelledFolder) -> None:
    counts = np.bincount(folder.labels, minlength=len(folder.class_names))
    if len(folder.class_names) < 2 or (counts > 0).sum() < 2:
        raise DataError(folder.root, f"found {int((counts > 0).sum())} class subfolder(s) with "
                        "images; a labelled folder needs at least 2 (one subfolder per class)")
    if counts.max() < 2:
        raise DataError(folder.root, "every class has a single image: no query would have a "
                        "relevant item; put at least 2 images in some class subfolder")


def split_folder(folder: LabelledFolder, val_fraction: float,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, val) with ``val_fraction`` of each class (at least one, if the class has
    two or more images) held out for validation; seeded, so the same on every run."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in range(len(folder.class_names)):
        idx = rng.permutation(np.flatnonzero(folder.labels == c))
        n_val = min(len(idx) - 1, max(1, round(val_fraction * len(idx)))) if len(idx) > 1 else 0
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
