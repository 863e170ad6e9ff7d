"""Builders of small image files and Tiny ImageNet layouts for the data tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image


def pattern(h: int = 64, w: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth colour image (h, w, 3) uint8 that survives JPEG compression well."""
    yy, xx = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    a, b, c = rng.integers(1, 4, 3)
    r, g, b_ = xx * a / (3 * w), yy * b / (3 * h), (xx + yy) * c / (3 * (h + w))  # in [0, 1)
    return (np.stack([r, g, b_], -1) * 255).astype(np.uint8)


def encode(img: np.ndarray, fmt: str = "JPEG", mode: str | None = None, **kw: object) -> bytes:
    im = Image.fromarray(img)
    if mode:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def write_layout(
    parent: Path,
    classes: dict[str, list[str]],
    *,
    words: bool = True,
    extra_words: int = 5,
) -> Path:
    """``parent/tiny-imagenet-200`` holding ``{wnid: [file names]}``, a JPEG in every file."""
    root = parent / "tiny-imagenet-200"
    for k, (wnid, names) in enumerate(classes.items()):
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i, name in enumerate(names):
            (folder / name).write_bytes(encode(pattern(seed=100 * k + i), quality=95))
    (root / "wnids.txt").write_text("".join(f"{w}\n" for w in reversed(list(classes))))
    if words:
        lines = [f"{w}\tdescription of {w}, second\textra column\n" for w in classes]
        lines += [f"n9999{j:04d}\tunrelated {j}\n" for j in range(extra_words)]
        (root / "words.txt").write_text("".join(sorted(lines)))
    return root


def zip_folder(folder: Path, zip_path: Path, prefix: str) -> Path:
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(folder.rglob("*")):
            zf.write(p, prefix + p.relative_to(folder).as_posix())
    return zip_path

