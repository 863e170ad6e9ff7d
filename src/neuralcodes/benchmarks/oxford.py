"""Oxford5k (Philbin et al., CVPR 2007) and Paris6k (Philbin et al., CVPR 2008), in their original
protocol (``read_oxford``) and revisited (``read_revisited``: ROxford5k and RParis6k).

The original protocol. Layout (the official image archives and ground-truth archive, extracted)::

    DIR/jpg/all_souls_000000.jpg ...       images, at any depth (Paris keeps paris/<landmark>/)
    DIR/gt/all_souls_1_query.txt ...       ground truth (gt_files_170407.tgz, paris_120310.tgz)
    DIR/gt/all_souls_1_good.txt, _ok.txt, _junk.txt
    DIR/corrupt.txt                        Paris only, optional: images left out of the database

55 queries (11 landmarks x 5). ``<q>_query.txt`` holds one line ``<image> x1 y1 x2 y2``: the
query image (``oxc1_<name>`` in Oxford, ``paris_<name>`` in Paris) and the box it is cropped to.
The database is every image of the folder (the query images too). Good and ok images are
relevant, junk images are ignored wherever they rank, and AP is computed as the datasets' own
``compute_ap.cpp`` does: the trapezoid rule over the ranked list with junk removed, divided by the
number of distinct good and ok names (an image absent from the folder counts as never retrieved).
Paris's official archives hold a few unreadable images, listed in the official ``corrupt.txt``;
the usual practice is to delete them: images listed there are left out and may be absent.

Revisited Oxford and Paris (Radenovic et al., CVPR 2018). Layout (revisitop's
``data/datasets/<name>/``)::

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
    find_images,
    ids,
    missing_error,
    require_dir,
)
from neuralcodes.benchmarks.safe_pickle import load_plain_pickle
from neuralcodes.errors import DataError

Which = Literal["oxford5k", "paris6k"]
Revisited = Literal["roxford5k", "rparis6k"]
TITLE = {"oxford5k": "Oxford5k", "paris6k": "Paris6k", "roxford5k": "ROxford5k",
         "rparis6k": "RParis6k"}
PREFIX: dict[Which, str] = {"oxford5k": "oxc1_", "paris6k": "paris_"}
EXPECTED_IMAGES: dict[Which, int] = {"oxford5k": 5062, "paris6k": 6412}
EXPECTED_QUERIES = 55
SETUPS = ("easy", "medium", "hard")


def read_oxford(root: str | Path, which: Which) -> Dataset:
    """Oxford5k or Paris6k in ``root`` (see the module docstring), validated."""
    root = Path(root)
    jpg = root / "jpg"
    images = find_images(jpg, f"a {TITLE[which]} folder holds its images in jpg/")
    gt = require_dir(root / "gt", f"a {TITLE[which]} folder holds its ground truth in gt/ "
                     "(<query>_query.txt, _good.txt, _ok.txt, _junk.txt)")
    corrupt = _corrupt_names(root / "corrupt.txt")
    found = {s: p for s, p in images.items() if s not in corrupt}
    _check_image_names(jpg, found, which)
    names = sorted(found)
    position = {n: i for i, n in enumerate(names)}
    query_files = sorted(gt.glob("*_query.txt"))
    if not query_files:
        raise DataError(gt, "no <query>_query.txt ground-truth files here")
    queries, truth, missing = [], [], []
    for qf in query_files:
        query, rel, absent = _read_query(qf, which, position, corrupt)
        queries.append(Query(query[0], found[query[1]], query[2], position[query[1]]))
        truth.append(rel)
        missing += absent
    if missing:
        raise missing_error(jpg, sorted(set(missing)), f"images named in the ground truth of "
                            f"{gt} are")
    notes = {"expected_images": EXPECTED_IMAGES[which], "expected_queries": EXPECTED_QUERIES,
             "left_out_as_corrupt": len(corrupt),
             "complete": len(names) + len(corrupt) == EXPECTED_IMAGES[which]}
    return Dataset(which, root, tuple(found[n] for n in names), tuple(names), tuple(queries),
                   {"all": tuple(truth)}, "map", notes=notes)


def _corrupt_names(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {Path(line.strip()).stem for line in path.read_text().splitlines() if line.strip()}


def _check_image_names(jpg: Path, found: dict[str, Path], which: Which) -> None:
    """Paris images are all named paris_*, Oxford images never: another dataset is refused."""
    paris = [s for s in found if s.startswith("paris_")]
    wrong = [s for s in found if s not in paris] if which == "paris6k" else paris
    if wrong:
        other = "Oxford" if which == "paris6k" else "Paris6k"
        raise DataError(found[wrong[0]], f"looks like an image of {other}, not {TITLE[which]} "
                        f"({len(wrong)} such images in {jpg})")


def _read_query(
    qf: Path, which: Which, position: dict[str, int], corrupt: set[str]
) -> tuple[tuple[str, str, BBox], Relevance, list[str]]:
    """((query name, image name, box), relevance, names absent from the folder)."""
    qname = qf.name.removesuffix("_query.txt")
    image, bbox = _parse_query_line(qf, which)
    if image not in position:
        raise DataError(qf, f"its query image {image}.jpg is not in the folder")
    lists = {kind: _read_list(qf.with_name(f"{qname}_{kind}.txt"))
             for kind in ("good", "ok", "junk")}
    pos_names = set(lists["good"]) | set(lists["ok"])
    absent = [n for n in (*pos_names, *lists["junk"]) if n not in position and n not in corrupt]
    rel = Relevance(ids(position[n] for n in pos_names if n in position),
                    ids(position[n] for n in lists["junk"] if n in position), len(pos_names))
    return (qname, image, bbox), rel, absent


def _parse_query_line(qf: Path, which: Which) -> tuple[str, BBox]:
    fields = qf.read_text().split()
    if len(fields) != 5:
        raise DataError(qf, f"expected one line '<image> x1 y1 x2 y2', got {' '.join(fields)!r}")
    prefix = PREFIX[which]
    if not fields[0].startswith(prefix):
        other = "Paris6k" if which == "oxford5k" else "Oxford5k"
        raise DataError(qf, f"query image {fields[0]!r} does not start with {prefix!r}: this is "
                        f"a ground-truth file of {other}, not of {TITLE[which]}")
    image = fields[0].removeprefix("oxc1_")
    try:
        x1, y1, x2, y2 = (float(v) for v in fields[1:])
    except ValueError:
        raise DataError(qf, f"the box {' '.join(fields[1:])!r} is not four numbers") from None
    if not (x2 > x1 and y2 > y1):
        raise DataError(qf, f"empty query box ({x1}, {y1}, {x2}, {y2}): x2 > x1 and y2 > y1")
    return image, (x1, y1, x2, y2)


def _read_list(path: Path) -> list[str]:
    try:
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    except FileNotFoundError:
        raise DataError(path, "file not found (each query has a _good, _ok and _junk list)"
                        ) from None


def read_revisited(root: str | Path, which: Revisited) -> Dataset:
    """ROxford5k or RParis6k in ``root`` (see the module docstring), validated."""
    root = Path(root)
    gnd_path = _gnd_file(root, which)
    imlist, qimlist, gnd = _check_gnd(gnd_path, load_plain_pickle(gnd_path), which)
    jpg = root / "jpg"
    found = find_images(jpg, f"a {TITLE[which]} folder holds its images in jpg/")
    missing = [n for n in dict.fromkeys([*imlist, *qimlist]) if n not in found]
    if missing:
        raise missing_error(jpg, missing, f"images named in {gnd_path.name} are")
    queries = tuple(Query(q, found[q], _bbox(gnd_path, i, g)) for i, (q, g)
                    in enumerate(zip(qimlist, gnd, strict=True)))
    truth = {s: tuple(_setup(g, s) for g in gnd) for s in SETUPS}
    notes = {"ground_truth": str(gnd_path), "complete": True}
    return Dataset(which, root, tuple(found[n] for n in imlist), tuple(imlist), queries, truth,
                   "revisited", notes=notes)


def _gnd_file(root: Path, which: Revisited) -> Path:
    path = root / f"gnd_{which}.pkl"
    if path.is_file():
        return path
    other: Revisited = "rparis6k" if which == "roxford5k" else "roxford5k"
    if (root / f"gnd_{other}.pkl").is_file():
        raise DataError(root / f"gnd_{other}.pkl", f"this is the ground truth of "
                        f"{TITLE[other]}; {TITLE[which]} needs gnd_{which}.pkl")
    raise DataError(path, "file not found (the published ground truth of revisitop)")


def _check_gnd(path: Path, data: Any, which: Revisited) -> tuple[list[str], list[str], list[Any]]:
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
