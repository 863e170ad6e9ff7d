"""The targets of BENCHMARKS.md are read from the right rows and marked met, not met or not
measured; the workers get their allocator as the command line gives it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `benchmarks`

from benchmarks.common import Row  # noqa: E402

from benchmarks import bench_extract, bench_train, common, targets  # noqa: E402

KERAS = "Keras/TensorFlow fp32"


def _rows() -> list[Row]:
    train, extract = bench_train.BENCH, bench_extract.BENCH
    return [
        Row(train, KERAS, "images/s", [75.0, 74.0, 76.0], True),
        Row(train, bench_train.impl_name("fp32", "tuned"), "images/s", [72.75], True, KERAS),
        Row(train, bench_train.impl_name("bf16", "tuned"), "images/s", [150.0], True, KERAS),
        Row(train, bench_train.impl_name("fp32", "glibc"), "images/s", [60.0], True, KERAS),
        Row(extract, KERAS, "images/s", [100.0], True),
        Row(extract, bench_extract.impl_name("fp32", "tuned"), "images/s", [276.0], True, KERAS),
        Row(targets.QUERY_BENCH + " (L6, 2048-d)", "neuralcodes Index.search, fp32 (the default)",
            "ms", [52.0], False),
        Row("load 100,000 64x64 JPEGs into arrays", "neuralcodes decode into the uint8 cache",
            "s", [3.5], False, extra={"peak MB": 80.0}),
    ]


def _verdicts(has_bf16: bool = True) -> list[tuple[str, str]]:
    return [targets.verdict(t, _rows(), has_bf16) for t in targets.TARGETS]


def test_targets_read_ratios_medians_and_extras() -> None:
    assert [t.text.split(",")[0] for t in targets.TARGETS[:6]] == [
        "training", "training", "code extraction fp32 as before or better: >= 2.76x Keras (the "
        "previous table's fp32 + tcmalloc)", "code extraction bf16 as before or better: >= "
        "5.50x Keras (the previous table's bf16 + tcmalloc)", "one query end to end",
        "query by id"]
    assert _verdicts()[:9] == [
        ("2.00x (150 vs 75 images/s)", "yes"),  # bf16 training
        ("0.97x (72.8 vs 75 images/s)", "**no** (3 % short)"),  # fp32 training
        ("2.76x (276 vs 100 images/s)", "yes"),  # fp32 extraction
        ("-", "not measured"),  # bf16 extraction: no row
        ("52 ms", "**no** (4 % over)"),  # one query
        ("-", "not measured"),  # by id: no row
        ("3.5 s", "yes"),  # load
        ("-", "not measured"),  # reopen: no row
        ("80 MB", "yes"),  # peak memory: an extra
    ]
    assert _verdicts(has_bf16=False)[0] == ("-", "does not apply: the CPU has no native bf16")


def test_summary_is_one_table_with_the_gpu_row() -> None:
    text = targets.summary(_rows(), True)
    lines = text.splitlines()
    assert lines[:2] == ["| target | measured | met? |", "|---|---|---|"]
    assert len(lines) == 2 + len(targets.TARGETS) + 1
    assert lines[-1].startswith(f"| {targets.GPU_TARGET} | not measured")


def test_allocator_environment_as_the_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    env = common.allocator_environment("glibc", {"LD_PRELOAD": "/x/libtcmalloc.so.4", "A": "1"})
    assert env == {"A": "1", "NEURALCODES_ALLOCATOR": "glibc"}
    monkeypatch.setattr("neuralcodes.allocator.library_path", lambda kind: None)
    with pytest.raises(RuntimeError, match="tcmalloc asked for, but its library is not installed"):
        common.allocator_environment("tcmalloc", {})
    monkeypatch.setattr("neuralcodes.allocator.library_path", lambda kind: f"/l/lib{kind}.so")
    assert common.allocator_environment("jemalloc", {}) == {
        "NEURALCODES_ALLOCATOR": "jemalloc", "LD_PRELOAD": "/l/libjemalloc.so"}
    assert common.allocator_label("tuned") == "tuned glibc malloc (the default)"
    assert common.allocator_label("mimalloc") == "mimalloc (installed by hand)"


@pytest.mark.parametrize("kind, other", [("tuned", "glibc"), ("glibc", "tuned")])
def test_a_worker_applies_and_reports_its_allocator(kind: str, other: str) -> None:
    env = common.allocator_environment(kind, dict(os.environ))
    env["PYTHONPATH"] = str(common.REPO)
    code = "from benchmarks.common import apply_allocator; print(apply_allocator()['allocator'])"
    described = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout.strip()
    common.check_allocator(kind, described)
    with pytest.raises(RuntimeError, match=f"asked for allocator '{other}'"):
        common.check_allocator(other, described)


def test_the_virtual_environment_says_how_it_was_made(tmp_path: Path) -> None:
    from benchmarks.machine import venv_description

    (tmp_path / "pyvenv.cfg").write_text("home = /usr/bin\n")
    text = venv_description(str(tmp_path))
    assert text.startswith(f"{tmp_path}, created 0 min before the run; not made by the Makefile")
    (tmp_path / ".installed").touch()
    assert venv_description(str(tmp_path)).endswith(
        "made by `make` (the README's set-up: CPU torch first, then the package and extras)")


def test_a_quick_run_is_not_judged() -> None:
    lines = targets.summary(_rows(), True, quick=True).splitlines()
    assert lines[2].endswith("| 2.00x (150 vs 75 images/s) | not judged: a --quick run |")
    assert lines[7].endswith("| - | not measured |")  # by id: no row
