"""The common form of every benchmark once read: database images, queries, and what is relevant.

Each dataset module (``holidays``, ``oxford``, ``revisited``, ``ukbench``) reads its official
layout and ground truth into a ``Dataset``; from there one code path encodes, ranks and scores.
Database images are numbered 0..N-1 in the order of ``files``; every id below is such a number.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from neuralcodes.errors import ConfigError, DataError

BenchmarkName = Literal["holidays", "oxford5k", "paris6k", "roxford5k", "rparis6k", "ukbench"]
NAMES: tuple[BenchmarkName, ...] = (
    "holidays", "oxford5k", "paris6k", "roxford5k", "rparis6k", "ukbench",
)
Metric = Literal["map", "revisited", "ns"]
BBox = tuple[float, float, float, float]  # x1, y1, x2, y2 in the stored image's pixels


def check_name(name: str) -> BenchmarkName:
    """``name`` if it is one of ``NAMES``; a ``ConfigError`` listing them otherwise."""
    if name not in NAMES:
        raise ConfigError(f"unknown benchmark {name!r}; choose one of {', '.join(NAMES)}")
    return name  # type: ignore[return-value]


@dataclass(frozen=True)
class Query:
    """One query: an image file, optionally cropped, and its database id when it is in there."""

    name: str  # as the ground truth names it: "100000", "all_souls_1", "ukbench00004"
    file: Path
    bbox: BBox | None = None  # the query crop (Oxford, Paris), applied before preprocessing
    db_index: int | None = None  # its own database id (its code is reused when not cropped)


@dataclass(frozen=True)
class Relevance:
    """What one query's ranking is scored against."""

    positives: np.ndarray  # (P,) int64 database ids of the relevant images
    junk: np.ndarray  # (J,) int64 database ids ignored wherever they are ranked
    n_positives: int  # the P the official code divides by (may count images absent here)


@dataclass(frozen=True)
class Dataset:
    """A benchmark read from its folder, validated, ready to encode."""

    name: BenchmarkName
    root: Path
    files: tuple[Path, ...]  # (N,) database images
    names: tuple[str, ...]  # (N,) their names as the ground truth writes them
    queries: tuple[Query, ...]  # (Q,)
    truth: Mapping[str, tuple[Relevance, ...]]  # setup ("all", "easy", ...) -> (Q,) relevance
    metric: Metric
    leave_query_out: bool = False  # Holidays: a query's own image is not ranked
    notes: dict[str, Any] = field(default_factory=dict)  # counts, completeness, options

    def summary(self) -> dict[str, Any]:
        """What config.json records about the data."""
        return {"name": self.name, "root": str(self.root), "n_images": len(self.files),
                "n_queries": len(self.queries), "metric": self.metric,
                "setups": list(self.truth), **self.notes}


def require_dir(path: Path, what: str) -> Path:
    if not path.is_dir():
        raise DataError(path, f"no such folder: {what}")
    return path


def index_images(folder: Path, suffix: str = ".jpg") -> dict[str, Path]:
    """Image stem -> path for every ``*.jpg`` below ``folder`` (any depth, hidden files skipped).

    Two files with the same stem are an error: the ground truth names images by stem.
    """
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(filenames):
            if f.startswith(".") or not f.lower().endswith(suffix):
                continue
            stem = f[: -len(suffix)]
            if stem in found:
                raise DataError(Path(dirpath, f), f"a second image named {stem}{suffix} "
                                f"(the first is {found[stem]}); the names must be unique")
            found[stem] = Path(dirpath, f)
    return found


def find_images(folder: Path, layout: str, pattern: re.Pattern[str] | None = None,
                named: str = "") -> dict[str, Path]:
    """``index_images`` of ``folder``, which must exist (``layout`` says what it holds) and hold
    images; with ``pattern``, each named as it matches (``named``: "Holidays images (NNNNNN.jpg)"),
    so that another dataset's folder is refused."""
    found = index_images(require_dir(folder, layout))
    if not found:
        raise DataError(folder, "no .jpg images here")
    bad = sorted(s for s in found if pattern is not None and not pattern.match(s))
    if bad:
        raise DataError(folder, f"{len(bad)} images are not named like {named}, e.g. "
                        f"{found[bad[0]].name}: is this another dataset?")
    return found


def missing_error(where: Path, missing: Sequence[str], what: str) -> DataError:
    """One message naming the missing images (the first ten) and how many there are."""
    shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
    return DataError(where, f"{len(missing)} {what} missing: {shown}")


def ids(values: Iterable[int]) -> np.ndarray:
    """A sorted, de-duplicated (n,) int64 array of database ids."""
    return np.unique(np.asarray(list(values), dtype=np.int64))


def completeness(n: int, expected: int, what: str) -> dict[str, Any]:
    """Notes recording whether the folder holds the whole official dataset."""
    return {f"expected_{what}": expected, "complete": n == expected}
