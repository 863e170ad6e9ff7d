"""UKBench (Nister and Stewenius, CVPR 2006): 10,200 photos of 2,550 objects, 4 of each.

Layout (``ukbench.zip`` extracted)::

    DIR/full/ukbench00000.jpg ... ukbench10199.jpg

Images ``4g .. 4g+3`` show object ``g``. Every image queries the whole database, itself
included, and the N-S score is the mean number of its object's 4 images among its first 4
results (4.0 at best).
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
    missing_error,
)

EXPECTED_IMAGES = 10200
_NAME = re.compile(r"^ukbench(\d{5})$")


def read_ukbench(root: str | Path) -> Dataset:
    """UKBench in ``root`` (see the module docstring), validated: whole groups of 4."""
    root = Path(root)
    full = root / "full"
    found = find_images(full, "a UKBench folder holds its images in full/ (ukbench00000.jpg ...)",
                        _NAME, "UKBench images (ukbenchNNNNN.jpg)")
    numbers = sorted(int(s[len("ukbench"):]) for s in found)
    n = 4 * (-(-(numbers[-1] + 1) // 4))  # whole groups up to the largest number
    missing = [f"ukbench{i:05d}.jpg" for i in sorted(set(range(n)) - set(numbers))]
    if missing:
        raise missing_error(full, missing, "images of incomplete groups of 4 are")
    names = [f"ukbench{i:05d}" for i in range(n)]
    files = [found[s] for s in names]
    queries = tuple(Query(s, f, db_index=i)
                    for i, (s, f) in enumerate(zip(names, files, strict=True)))
    truth = tuple(Relevance(np.arange(4 * (i // 4), 4 * (i // 4) + 4, dtype=np.int64),
                            np.zeros(0, np.int64), 4) for i in range(n))
    return Dataset("ukbench", root, tuple(files), tuple(names), queries, {"all": truth}, "ns",
                   notes=completeness(n, EXPECTED_IMAGES, "images"))
