"""The six benchmarks by name: how each is read, what it is, what its folder looks like."""

from __future__ import annotations

from pathlib import Path

from neuralcodes.benchmarks.dataset import Dataset, check_name
from neuralcodes.benchmarks.holidays import read_holidays
from neuralcodes.benchmarks.oxford import read_oxford, read_revisited
from neuralcodes.benchmarks.ukbench import read_ukbench

DESCRIPTION = {
    "holidays": "INRIA Holidays: 1,491 images, 500 queries; mAP, query left out "
                "(DIR/jpg/NNNNNN.jpg)",
    "oxford5k": "Oxford5k, original protocol: 55 cropped queries; mAP, junk ignored "
                "(DIR/jpg/*.jpg, DIR/gt/*_query.txt ...)",
    "paris6k": "Paris6k, original protocol: 55 cropped queries; mAP, junk ignored "
               "(DIR/jpg/*.jpg, DIR/gt/*_query.txt ...)",
    "roxford5k": "Revisited Oxford: 70 cropped queries; Easy/Medium/Hard mAP and mP@1,5,10 "
                 "(DIR/jpg/*.jpg, DIR/gnd_roxford5k.pkl)",
    "rparis6k": "Revisited Paris: 70 cropped queries; Easy/Medium/Hard mAP and mP@1,5,10 "
                "(DIR/jpg/*.jpg, DIR/gnd_rparis6k.pkl)",
    "ukbench": "UKBench: 10,200 images in groups of 4; N-S score, at best 4 "
               "(DIR/full/ukbenchNNNNN.jpg)",
}


def read_benchmark(name: str, data: str | Path, *, rotated: str | Path | None = None) -> Dataset:
    """The benchmark ``name`` read from its folder ``data`` and validated (nothing encoded)."""
    name = check_name(name)
    if name == "holidays":
        return read_holidays(data, rotated=rotated)
    if name in ("oxford5k", "paris6k"):
        return read_oxford(data, name)  # type: ignore[arg-type]
    if name in ("roxford5k", "rparis6k"):
        return read_revisited(data, name)  # type: ignore[arg-type]
    return read_ukbench(data)
