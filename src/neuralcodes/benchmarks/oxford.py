"""Oxford5k (Philbin et al., CVPR 2007) and Paris6k (Philbin et al., CVPR 2008), original protocol.

Layout (the official image archives and ground-truth archive, extracted)::

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
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from neuralcodes.benchmarks.dataset import (
    BBox,
    Dataset,
    Query,
    Relevance,
    ids,
    index_images,
    missing_error,
    require_dir,
)
from neuralcodes.errors import DataError

Which = Literal["oxford5k", "paris6k"]
PREFIX: dict[Which, str] = {"oxford5k": "oxc1_", "paris6k": "paris_"}
EXPECTED_IMAGES: dict[Which, int] = {"oxford5k": 5062, "paris6k": 6412}
EXPECTED_QUERIES = 55
TITLE: dict[Which, str] = {"oxford5k": "Oxford5k", "paris6k": "Paris6k"}


def read_oxford(root: str | Path, which: Which) -> Dataset:
    """Oxford5k or Paris6k in ``root`` (see the module docstring), validated."""
    root = Path(root)
    jpg = require_dir(root / "jpg", f"a {TITLE[which]} folder holds its images in jpg/")
    gt = require_dir(root / "gt", f"a {TITLE[which]} folder holds its ground truth in gt/ "
                     "(<query>_query.txt, _good.txt, _ok.txt, _junk.txt)")
    corrupt = _corrupt_names(root / "corrupt.txt")
    found = {s: p for s, p in index_images(jpg).items() if s not in corrupt}
    if not found:
        raise DataError(jpg, "no .jpg images here")
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
