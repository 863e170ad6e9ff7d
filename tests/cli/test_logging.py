"""The command line shows the library's records on stderr, at the level -q/-v ask for, once
each; without a terminal, long steps print a progress line every PERIOD_S seconds."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Iterator

import pytest

from neuralcodes.cli import main, search_cmd
from neuralcodes.cli.console import TerminalFormatter, terminal_logging
from neuralcodes.cli.progress_cli import PERIOD_S, ConsoleProgress, duration, progress_line
from neuralcodes.progress import ensure

library = logging.getLogger("neuralcodes.somewhere")


def _talkative(args: argparse.Namespace) -> int:
    """A command that logs at every level, through a Progress and directly."""
    progress = ConsoleProgress(bars=False)
    ensure(progress).log("through the progress object")
    library.debug("a detail")
    library.info("a step")
    library.warning("a file skipped")
    for _ in progress.track(range(3), 3, "work"):
        pass
    print("the result")
    return 0


@pytest.fixture
def talkative(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_cmd, "_search", _talkative)


def _err_lines(capsys: pytest.CaptureFixture[str]) -> tuple[str, list[str]]:
    captured = capsys.readouterr()
    return captured.out, captured.err.splitlines()


@pytest.mark.usefixtures("talkative")
def test_messages_on_stderr_once_each_result_on_stdout(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "index", "q.jpg"]) == 0
    out, err = _err_lines(capsys)
    assert out == "the result\n"
    assert err == ["neuralcodes: through the progress object", "neuralcodes: a step",
                   "neuralcodes: warning: a file skipped"]


@pytest.mark.usefixtures("talkative")
def test_quiet_keeps_warnings_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "index", "q.jpg", "-q"]) == 0
    assert _err_lines(capsys) == ("the result\n", ["neuralcodes: warning: a file skipped"])
    assert main(["-q", "search", "index", "q.jpg"]) == 0  # before the command works too
    assert _err_lines(capsys)[1] == ["neuralcodes: warning: a file skipped"]


@pytest.mark.usefixtures("talkative")
def test_verbose_adds_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "index", "q.jpg", "-v"]) == 0
    assert "neuralcodes: a detail" in _err_lines(capsys)[1]


@pytest.mark.usefixtures("talkative")
def test_the_cli_leaves_logging_as_it_found_it() -> None:
    logger = logging.getLogger("neuralcodes")
    before = (list(logger.handlers), logger.level)
    assert main(["search", "index", "q.jpg", "-v"]) == 0
    assert (list(logger.handlers), logger.level) == before


def test_formatter() -> None:
    def line(level: int, msg: str) -> str:
        record = logging.LogRecord("neuralcodes.x", level, __file__, 1, msg, None, None)
        return TerminalFormatter().format(record)

    assert line(logging.INFO, "built") == "neuralcodes: built"
    assert line(logging.WARNING, "a.jpg: truncated") == "neuralcodes: warning: a.jpg: truncated"
    assert line(logging.ERROR, "gone") == "neuralcodes: error: gone"


class FakeClock:
    """Each reading is ``step`` seconds after the previous one."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "neuralcodes.cli.progress_cli"]


def test_without_a_terminal_a_line_every_period(caplog: pytest.LogCaptureFixture) -> None:
    assert PERIOD_S == 30.0
    progress = ConsoleProgress(quiet=False, bars=False, clock=FakeClock(10.0))  # 10 s per item

    def items() -> Iterator[int]:
        for i in range(10):
            progress.update(loss=2.5 - i / 10)
            yield i

    with caplog.at_level(logging.INFO, "neuralcodes"):
        assert list(progress.track(items(), 10, "epoch 1")) == list(range(10))
    assert _lines(caplog) == [
        "epoch 1: 3/10 (30 %), 0.1/s, about 1 min 10 s left; loss 2.3000",
        "epoch 1: 6/10 (60 %), 0.1/s, about 40 s left; loss 2.0000",
        "epoch 1: 9/10 (90 %), 0.1/s, about 10 s left; loss 1.7000",
        "epoch 1: 10 done in 1 min 50 s, 0.0909/s; loss 1.6000",
    ]


def test_a_short_step_prints_no_line_and_quiet_none(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, "neuralcodes"):
        fast = ConsoleProgress(quiet=False, bars=False, clock=FakeClock(1.0))
        assert list(fast.track(range(20), 20, "codes")) == list(range(20))  # 20 s in all
        quiet = ConsoleProgress(quiet=True, bars=False, clock=FakeClock(100.0))
        assert list(quiet.track(range(5), 5, "codes")) == list(range(5))
    assert _lines(caplog) == []


def test_quiet_follows_the_level(caplog: pytest.LogCaptureFixture) -> None:
    with terminal_logging(logging.WARNING):
        assert ConsoleProgress().quiet
    with terminal_logging(logging.INFO):
        assert not ConsoleProgress().quiet


def test_progress_line_without_a_total() -> None:
    assert progress_line("download", 50, None, 10.0, {}) == "download: 50, 5/s"
    assert progress_line("x", 0, 10, 31.0, {}) == "x: 0/10 (0 %), 0/s, time left unknown"
    assert [duration(s) for s in (0.4, 59, 61, 3599, 3600, 7530)] == [
        "0 s", "59 s", "1 min 1 s", "59 min 59 s", "1 h 00 min", "2 h 05 min"]


def test_a_record_naming_a_file_is_one_printable_line() -> None:
    """A name with a newline or a terminal code, or bytes that are not UTF-8, in a record's
    arguments: escaped in the line shown (``names.shown``); a traceback still has its lines."""
    name = os.fsdecode(b"caf\xe9\n\x1b[2J.jpg")
    record = logging.LogRecord("neuralcodes.x", logging.WARNING, __file__, 1, "skipped %s: %s",
                               (name, "not an image"), None)
    assert TerminalFormatter().format(record) == (
        "neuralcodes: warning: skipped caf\\xe9\\n\\x1b[2J.jpg: not an image")
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.LogRecord("neuralcodes.x", logging.ERROR, __file__, 1, "failed: %s",
                                   (name,), sys.exc_info())
    text = TerminalFormatter().format(failed)
    assert text.startswith("neuralcodes: error: failed: caf\\xe9\\n\\x1b[2J.jpg\nTraceback")
