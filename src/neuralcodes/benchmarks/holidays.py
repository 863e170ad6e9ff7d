"""INRIA Holidays (Jegou et al., ECCV 2008): 1,491 holiday photos in 500 groups of one scene.

Layout (as the official ``jpg1.tar.gz`` and ``jpg2.tar.gz`` extract)::

    DIR/jpg/100000.jpg, 100001.jpg, ..., 149901.jpg
    DIR/holidays_images.dat    optional: the official image list (from eval_holidays.tgz)

Image ``NNNNXX.jpg`` belongs to group ``NNNN``; the group's first image, ``NNNN00.jpg``, is its
query, and the other images of the group are the relevant ones. As in the official
``holidays_map.py``, each query ranks the whole database with its own image left out, and AP is
the trapezoid rule over the ranks of the relevant images (``score_ap_from_ranks_1``).

Some Holidays photos are stored on their side (neither the pixels nor the EXIF tag are upright).
Papers often report results on a manually rotated copy ("rotated Holidays"); ``rotated`` takes a
folder of such upright copies, named as the originals (any subset): each file there replaces the
original of the same name, and the result records how many were replaced.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from neuralcodes.benchmarks.dataset import (
    Dataset,
    Query,
    Relevance,
    completeness,
    find_images,
    ids,
    index_images,
    missing_error,
    require_dir,
)
from neuralcodes.errors import DataError

EXPECTED_IMAGES, EXPECTED_QUERIES = 1491, 500
_NAME = re.compile(r"^\d{6}$")


def read_holidays(root: str | Path, rotated: str | Path | None = None) -> Dataset:
    """The Holidays benchmark in ``root`` (see the module docstring), validated."""
    root = Path(root)
    jpg = root / "jpg"
    found = find_images(jpg, "a Holidays folder holds its images in jpg/ (NNNNNN.jpg)", _NAME,
                        "Holidays images (NNNNNN.jpg)")
    _check_listed(root, found)
    names = sorted(found)
    files = [found[n] for n in names]
    notes = completeness(len(names), EXPECTED_IMAGES, "images")
    if rotated is not None:
        files, replaced = _use_rotated(names, files, Path(rotated))
        notes["rotated"] = {"folder": str(rotated), "replaced": replaced}
    queries, truth = _groups(jpg, names, files)
    notes["expected_queries"] = EXPECTED_QUERIES
    return Dataset("holidays", root, tuple(files), tuple(names), tuple(queries),
                   {"all": tuple(truth)}, "map", leave_query_out=True, notes=notes)


def _check_listed(root: Path, found: dict[str, Path]) -> None:
    """With the official image list beside the images, every image it lists must be there."""
    listing = root / "holidays_images.dat"
    if not listing.is_file():
        return
    listed = [line.strip() for line in listing.read_text().splitlines() if line.strip()]
    missing = [n for n in listed if n.removesuffix(".jpg") not in found]
    if missing:
        raise missing_error(root / "jpg", missing, f"of the {len(listed)} images listed in "
                            f"{listing.name} are")


def _use_rotated(names: list[str], files: list[Path], folder: Path) -> tuple[list[Path], int]:
    rotated = index_images(require_dir(folder, "the folder of rotated Holidays images"))
    unknown = sorted(set(rotated) - set(names))
    if unknown:
        raise DataError(rotated[unknown[0]], f"not an image of this Holidays folder; the "
                        f"rotated copies must keep the original names ({len(unknown)} unknown)")
    return [rotated.get(n, f) for n, f in zip(names, files, strict=True)], len(rotated)


def _groups(jpg: Path, names: list[str], files: list[Path]) -> tuple[list[Query], list[Relevance]]:
    """One query per group NNNN (its image NNNN00), relevant: the rest of the group."""
    by_group: dict[int, list[int]] = {}
    for i, n in enumerate(names):
        by_group.setdefault(int(n) // 100, []).append(i)
    queries, truth = [], []
    for group, members in sorted(by_group.items()):
        q = f"{group:04d}00"
        if names[members[0]] != q:
            raise DataError(jpg / f"{q}.jpg", f"missing: the query of group {group:04d} "
                            f"(which holds {names[members[0]]}.jpg)")
        if len(members) < 2:
            raise DataError(files[members[0]], f"query of group {group:04d} without any other "
                            "image of its group: nothing is relevant to it")
        queries.append(Query(q, files[members[0]], db_index=members[0]))
        truth.append(Relevance(ids(members[1:]), np.zeros(0, np.int64), len(members) - 1))
    return queries, truth
