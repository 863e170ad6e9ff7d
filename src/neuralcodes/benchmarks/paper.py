"""The paper's own figures for its ImageNet AlexNet, quoted with their table and row.

Babenko, Slesarev, Chigorin and Lempitsky, "Neural Codes for Image Retrieval", ECCV 2014
(arXiv:1404.1777 v2) reports, for the AlexNet trained on ImageNet, mAP on Holidays and Oxford5k
and the N-S score on UKBench for the codes of Layers 5, 6 and 7 (its Table 1, "full-size
holistic descriptors"), and for PCA-compressed codes (its compressed-codes table). A result
prints each figure of ``FIGURES`` that matches its benchmark, layer and size beside ours.

``FIGURES`` holds only numbers checked against the paper's text. When this module was written no
copy of the paper's tables could be read where it was written, so none is transcribed yet:
transcribe them from the paper as ``PaperFigure(benchmark, layer, dims, value, metric, table,
row)`` (``dims=None`` for the full-size codes), never from memory or from a secondary source.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("Babenko et al., Neural Codes for Image Retrieval, ECCV 2014 (arXiv:1404.1777 v2), "
          "AlexNet trained on ImageNet")


@dataclass(frozen=True)
class PaperFigure:
    benchmark: str  # "holidays", "oxford5k", "ukbench", ...
    layer: str  # "L5", "L6" or "L7" (the paper's Layer 5, 6, 7)
    dims: int | None  # None: the full-size code; else its PCA-compressed size
    value: float
    metric: str  # "mAP" or "N-S"
    table: str  # e.g. "Table 1 (full-size holistic descriptors)"
    row: str  # the row's label in that table

    def cite(self) -> str:
        return f"{self.table}, row {self.row!r}"


FIGURES: tuple[PaperFigure, ...] = ()


def figures_for(benchmark: str, layer: str, dims: int | None) -> list[PaperFigure]:
    """The paper's figures for this benchmark, layer and code size (none when it gives none)."""
    return [f for f in FIGURES if (f.benchmark, f.layer, f.dims) == (benchmark, layer, dims)]
