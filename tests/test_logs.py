"""The library's messages are logging records: under ``neuralcodes``, at their level, named
after the module that had something to say; the library adds no handler."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from neuralcodes.index.builder import LoggedProgress
from neuralcodes.logs import emit
from neuralcodes.progress import Recorder, Silent
from neuralcodes.research.folders import read_labelled_folder


def test_progress_messages_are_info_records(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "neuralcodes"):
        Silent().log("a step started")
        Recorder().log("a file skipped", logging.WARNING)
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("neuralcodes", logging.INFO, "a step started"),  # a caller outside the package
        ("neuralcodes", logging.WARNING, "a file skipped"),
    ]
    assert caplog.records[0].funcName == "test_progress_messages_are_info_records"


def test_a_skipped_file_is_a_warning_of_the_module_that_skipped_it(
        tmp_path: Path, make_labelled: Callable[..., Path],
        caplog: pytest.LogCaptureFixture) -> None:
    root = make_labelled(tmp_path / "f", n_classes=2, per_class=3)
    (root / "class1" / "broken.jpg").write_bytes(b"not a jpeg")
    with caplog.at_level(logging.INFO, "neuralcodes"):
        read_labelled_folder(root, 16)  # no Progress: the records come all the same
    [record] = [r for r in caplog.records if "broken.jpg" in r.getMessage()]
    assert (record.name, record.levelno) == ("neuralcodes.research.folders", logging.WARNING)
    assert record.funcName == "read_labelled_folder"


def test_a_wrapping_progress_is_not_named_as_the_source(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "idx").mkdir()
    wrapped = LoggedProgress(Recorder(), tmp_path / "idx")
    with caplog.at_level(logging.DEBUG, "neuralcodes"):
        wrapped.log("resuming", logging.INFO)
    assert [(r.name, r.funcName) for r in caplog.records] == [
        ("neuralcodes", "test_a_wrapping_progress_is_not_named_as_the_source")]
    assert wrapped.inner.messages == ["resuming"]  # type: ignore[attr-defined]


def test_silenced_by_the_application(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("neuralcodes")
    caplog.set_level(logging.INFO)
    logger.setLevel(logging.WARNING)
    try:
        emit("not shown")
        emit("shown", logging.ERROR)
    finally:
        logger.setLevel(logging.NOTSET)
    assert [r.getMessage() for r in caplog.records] == ["shown"]


def test_the_library_adds_no_handler() -> None:
    import neuralcodes.index  # noqa: F401  (a good part of the package imported)

    assert logging.getLogger("neuralcodes").handlers == []
