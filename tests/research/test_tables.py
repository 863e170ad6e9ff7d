"""The sweep's figure: one line per code set and setting, with the rows' intervals."""

from __future__ import annotations

from pathlib import Path

from neuralcodes.figures import Series
from neuralcodes.research.sweep import SweepRow
from neuralcodes.research.tables import sweep_series, write_sweep

ROWS = [SweepRow("L6", 8, False, False, 0, 0.5, 0.375, 0.625),
        SweepRow("L6", 4, True, False, 0, 0.25, 0.125, 0.375),
        SweepRow("L6", 4, True, True, 0, 0.375, 0.25, 0.5),
        SweepRow("L6", 8, False, False, 2, 0.625, 0.5, 0.75),
        SweepRow("L6", 4, True, True, 2, 0.5, 0.375, 0.625),
        SweepRow("L7", 8, False, False, 0, 0.75, 0.625, 0.875)]


def test_sweep_series_group_by_code_set_with_whitening_and_qe_as_variants() -> None:
    assert sweep_series(ROWS) == [
        Series("L6", {32: 0.5, 16: 0.25}, {32: (0.375, 0.625), 16: (0.125, 0.375)}),
        Series("L7", {32: 0.75}, {32: (0.625, 0.875)}),
        Series("L6", {32: 0.625}, {32: (0.5, 0.75)}, "+QE2"),
        Series("L6", {16: 0.375}, {16: (0.25, 0.5)}, "whitened"),
        Series("L6", {16: 0.5}, {16: (0.375, 0.625)}, "whitened +QE2"),
    ]


def test_write_sweep_draws_every_setting(tmp_path: Path) -> None:
    files = write_sweep(ROWS, tmp_path)
    assert files["png"] == tmp_path / "figures" / "sweep.png"
    assert files["png"].read_bytes()[:4] == b"\x89PNG"
    assert "| L6 | 4 | yes | 2 |" in files["md"].read_text()
