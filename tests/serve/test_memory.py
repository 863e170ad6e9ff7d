"""Memory under large uploads: 100 PNGs of 64 megapixels (200 KB each, 192 MB decoded) at
concurrency 16 keep ``neuralcodes serve`` under 1 GB and give the memory back; searches by id
answer meanwhile (their latency is printed, not asserted: speed is a benchmark's business, and
this machine may be loaded).

Slow (a minute or more on two cores): ``pytest -m slow tests/serve/test_memory.py -s``. The same
figures for any size: ``python -m benchmarks.bench_serve --skip load``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from .photos import build_real_index

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc for the RSS"),
]
pytest.importorskip("uvicorn", reason="needs the serve extra: pip install 'neuralcodes[serve]'")


def test_large_uploads_keep_the_server_under_1_gb_and_searches_by_id_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks.serve_client import large_uploads, server

    index = build_real_index(tmp_path)
    with server(index.index_dir) as (address, pid):
        figures = large_uploads(address, pid, index.entries[0].id, n=100, concurrency=16,
                                megapixels=64)
    with capsys.disabled():
        print(f"\nlarge uploads: {json.dumps(figures)}")
    assert figures["ok"] == 100 and figures["png_kb"] < 400
    assert figures["rss_peak_mb"] < 1024, figures
    assert figures["by_id_searches"] > 0, figures  # they were not starved
    assert figures["rss_end_mb"] < figures["rss_start_mb"] + 100, figures
