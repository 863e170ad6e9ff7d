"""Revisited Oxford and Paris (Radenovic et al., CVPR 2018): ROxford5k and RParis6k.

Layout (revisitop's ``data/datasets/<name>/``)::

    DIR/jpg/*.jpg              the Oxford5k or Paris6k images (any depth)
    DIR/gnd_roxford5k.pkl      or gnd_rparis6k.pkl: the published ground truth

The ground truth is a pickle of ``{"imlist": [names], "qimlist": [names], "gnd": [{"bbx": [x1,
y1, x2, y2], "easy": [ids], "hard": [ids], "junk": [ids]}, ...]}``, ids indexing ``imlist`` (the
database, in that order); it is read without running any code (``safe_pickle``). Each of the 70
queries is its image cropped to ``bbx``. Three setups, as revisitop's ``example_evaluate.py``
builds them: Easy (relevant: easy; ignored: junk and hard), Medium (relevant: easy and hard;
ignored: junk), Hard (relevant: hard; ignored: junk and easy); each scored with mAP and mean
precision at 1, 5 and 10 exactly as its ``compute_map``, queries without any relevant image being
left out of that setup's means.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np

from neuralcodes.benchmarks.dataset import (
    BBox,
    Dataset,
    Query,
    Relevance,
    index_images,
    missing_error,
    require_dir,
)
from neuralcodes.benchmarks.safe_pickle import load_plain_pickle
from neuralcodes.errors import DataError

Which = Literal["roxford5k", "rparis6k"]
TITLE: dict[Which, str] = {"roxford5k": "ROxford5k", "rparis6k": "RParis6k"}
SETUPS = ("easy", "medium", "hard")


def read_revisited(root: str | Path, which: Which) -> Dataset:
    """ROxford5k or RParis6k in ``root`` (see the module docstring), validated."""
    root = Path(root)
    gnd_path = _gnd_file(root, which)
    imlist, qimlist, gnd = _check_gnd(gnd_path, load_plain_pickle(gnd_path), which)
    jpg = require_dir(root / "jpg", f"a {TITLE[which]} folder holds its images in jpg/")
    found = index_images(jpg)
    missing = [n for n in dict.fromkeys([*imlist, *qimlist]) if n not in found]
    if missing:
        raise missing_error(jpg, missing, f"images named in {gnd_path.name} are")
    queries = tuple(Query(q, found[q], _bbox(gnd_path, i, g)) for i, (q, g)
                    in enumerate(zip(qimlist, gnd, strict=True)))
    truth = {s: tuple(_setup(g, s) for g in gnd) for s in SETUPS}
    notes = {"ground_truth": str(gnd_path), "complete": True}
    return Dataset(which, root, tuple(found[n] for n in imlist), tuple(imlist), queries, truth,
                   "revisited", notes=notes)


def _gnd_file(root: Path, which: Which) -> Path:
    path = root / f"gnd_{which}.pkl"
    if path.is_file():
        return path
    other: Which = "rparis6k" if which == "roxford5k" else "roxford5k"
    if (root / f"gnd_{other}.pkl").is_file():
        raise DataError(root / f"gnd_{other}.pkl", f"this is the ground truth of "
                        f"{TITLE[other]}; {TITLE[which]} needs gnd_{which}.pkl")
    raise DataError(path, "file not found (the published ground truth of revisitop)")


def _check_gnd(path: Path, data: Any, which: Which) -> tuple[list[str], list[str], list[Any]]:
    if not isinstance(data, dict) or not {"imlist", "qimlist", "gnd"} <= set(data):
        keys = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise DataError(path, f"not a revisitop ground truth (a dict with imlist, qimlist and "
                        f"gnd); found {keys}")
    imlist, qimlist, gnd = (list(data[k]) for k in ("imlist", "qimlist", "gnd"))
    if not all(isinstance(n, str) for n in [*imlist, *qimlist]):
        raise DataError(path, "imlist and qimlist must be lists of image names")
    if len(gnd) != len(qimlist) or not qimlist:
        raise DataError(path, f"{len(qimlist)} query names but {len(gnd)} gnd entries")
    paris = sum(n.startswith("paris_") for n in imlist)
    if (which == "rparis6k") != (paris == len(imlist)) or 0 < paris < len(imlist):
        kind = "Paris" if paris else "Oxford"
        raise DataError(path, f"its images are {kind} images ({imlist[0]}, ...): this is not "
                        f"the ground truth of {TITLE[which]}")
    for i, g in enumerate(gnd):
        _check_entry(path, i, g, len(imlist))
    return imlist, qimlist, gnd


def _check_entry(path: Path, i: int, g: Any, n: int) -> None:
    if not isinstance(g, dict) or not {"bbx", "easy", "hard", "junk"} <= set(g):
        raise DataError(path, f"gnd[{i}] is not a dict with bbx, easy, hard and junk")
    for key in ("easy", "hard", "junk"):
        values = np.asarray(g[key])
        if values.size and (values.ndim != 1 or not np.issubdtype(values.dtype, np.integer)
                            or values.min() < 0 or values.max() >= n):
            raise DataError(path, f"gnd[{i}][{key!r}] must be image ids in 0..{n - 1}")


def _bbox(path: Path, i: int, g: dict[str, Any]) -> BBox:
    box = np.asarray(g["bbx"], dtype=np.float64).reshape(-1)
    if box.shape != (4,) or not (box[2] > box[0] and box[3] > box[1]):
        raise DataError(path, f"gnd[{i}]['bbx'] must be x1, y1, x2, y2 with x2 > x1, y2 > y1")
    return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))


def _setup(g: dict[str, Any], setup: str) -> Relevance:
    """revisitop's positive and junk sets of one setup (``example_evaluate.py``)."""
    easy, hard, junk = (np.asarray(g[k], dtype=np.int64).reshape(-1)
                        for k in ("easy", "hard", "junk"))
    ok, ignored = {"easy": ([easy], [junk, hard]), "medium": ([easy, hard], [junk]),
                   "hard": ([hard], [junk, easy])}[setup]
    positives = np.concatenate(ok)
    return Relevance(positives, np.concatenate(ignored), len(positives))
