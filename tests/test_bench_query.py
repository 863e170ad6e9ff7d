"""The query and approximate-search benchmarks measure what they say (never speed here): the
phases of a query add up, bf16 is checked against fp32, the recall table's arithmetic."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `benchmarks`

from benchmarks.common import Row  # noqa: E402

from benchmarks import ann_codes, bench_query, query_workers  # noqa: E402


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(query_workers, "BENCH_DIR", tmp_path_factory.mktemp("query-bench"))
        index_dir, built = query_workers.collection(24, 1 / 16, log=lambda _: None)
        again = query_workers.collection(24, 1 / 16, log=lambda _: None)  # made once, reused
        assert again == (index_dir, built)
        yield index_dir, built


def test_query_phases_and_by_id(index: tuple[Path, dict[str, object]]) -> None:
    index_dir, built = index
    assert (built["images"], built["dim"], built["width"]) == (24, 128, 1 / 16)
    out = query_workers.index_worker(index_dir, "fp32", 3)
    assert set(out) == {"threads", "faults_per_query", "total", "decode", "forward", "search",
                        "by_id"}
    parts = sum(out[p]["p50"] for p in ("decode", "forward", "search"))
    assert 0 < parts <= out["total"]["p95"] * 3
    assert out["by_id"]["p50"] > 0


def test_bf16_before_and_after_agree_with_fp32(index: tuple[Path, dict[str, object]]) -> None:
    for variant in ("bf16", "bf16-before"):
        out = query_workers.index_worker(index[0], variant, 2)
        assert out["agreement"]["self_first_fp32"] == 1.0
        assert 0.0 <= out["agreement"]["top10_overlap"] <= 1.0


def test_split_table_rows() -> None:
    rows = [Row("q", "ours", "ms", [10.0, 12.0], False,
                extra={"p95 ms": 20.0, "decode ms": 2.0, "forward ms": 7.5, "search ms": 0.5,
                       "page faults/query": 3.0, "threads": 2.0}),
            Row("by id", "ours", "ms", [0.25], False, extra={"p95 ms": 0.5})]
    assert bench_query.split_table(rows).splitlines()[2:] == [
        "| q | ours | 11.0 | 20.0 | 2.0 | 7.5 | 0.50 | 3 | 2 |",
        "| by id | ours | 0.25 | 0.50 | - | - | 0.25 | - | - |"]


def test_recall_is_the_share_of_true_neighbours_found() -> None:
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 9], [5, 6, 7, 8]])
    assert ann_codes.recall(found, truth) == 0.75  # (2/4 + 4/4) / 2


def test_measure_rows_per_setting() -> None:
    pytest.importorskip("faiss")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1200, 16)).astype(np.float32)
    codes = ann_codes.CodeSet("test", x / np.linalg.norm(x, axis=1, keepdims=True))
    out = ann_codes.measure(codes, 100, log=lambda _: None)
    assert [(r["backend"].split()[0], r["setting"]) for r in out] == [
        ("exact", "-"), ("ivfpq", "nprobe=4"), ("ivfpq", "nprobe=16"), ("hnsw", "efSearch=16"),
        ("hnsw", "efSearch=64"), ("hnsw", "efSearch=256")]  # nprobe=64 > nlist=30 is left out
    assert out[0]["recall"] == 1.0 and all(0 < r["recall"] <= 1 for r in out)
    assert {(r["n"], r["d"], r["q"]) for r in out} == {(1100, 16, 100)}
    assert ann_codes.markdown(out).count("\n") == len(out) + 1
