"""The CLI's ``Progress``: tqdm bars on a terminal, a progress line every ``PERIOD_S`` without one.

Messages (``log``) are ``logging`` records like the library's (``neuralcodes.cli.console``
shows them). Without a terminal (nohup, CI, a cluster job) a bar would be noise in the log, and
silence would hide a 20-minute epoch: every ``PERIOD_S`` seconds a line says the step, how many
items of how many, the rate and the time left, then one line when a long step ends.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from neuralcodes.cli.console import info_shown

T = TypeVar("T")
PERIOD_S = 30.0  # seconds between two progress lines without a terminal
log = logging.getLogger(__name__)


class ConsoleProgress:
    """Draws a tqdm bar per ``track`` call on a terminal; prints periodic lines elsewhere.

    ``quiet`` (default: when ``-q`` hides INFO records) shows neither; ``bars`` (default: when
    stderr is a terminal) chooses between the two; ``clock`` is for tests.
    """

    def __init__(self, quiet: bool | None = None, bars: bool | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet = not info_shown() if quiet is None else quiet
        self.bars = sys.stderr.isatty() if bars is None else bars
        self.clock = clock
        self._bar: Any = None
        self._metrics: dict[str, Any] = {}

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        self._metrics = {}
        if self.quiet:
            yield from items
        elif self.bars:
            yield from self._bar_track(items, total, desc)
        else:
            yield from self._line_track(items, total, desc)

    def _bar_track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        from tqdm import tqdm

        with tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False,
                  dynamic_ncols=True) as bar:
            self._bar = bar
            try:
                yield from bar
            finally:
                self._bar = None

    def _line_track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        start = last = self.clock()
        done = 0
        for item in items:
            yield item
            done += 1
            now = self.clock()
            if now - last >= PERIOD_S:
                last = now
                log.info(progress_line(desc, done, total, now - start, self._metrics))
        if last != start:  # a step that printed lines says when it ended
            log.info(progress_line(desc, done, total, self.clock() - start, self._metrics,
                                   finished=True))

    def update(self, **metrics: Any) -> None:
        self._metrics = metrics
        if self._bar is not None:
            self._bar.set_postfix({k: _fmt(v) for k, v in metrics.items()}, refresh=False)

    def log(self, message: str, level: int = logging.INFO) -> None:
        from neuralcodes.logs import emit

        emit(message, level)


def progress_line(desc: str, done: int, total: int | None, elapsed: float,
                  metrics: dict[str, Any], finished: bool = False) -> str:
    """``epoch 3: 120/760 (15 %), 1.4/s, about 7 min 32 s left; loss 2.3100``, or when the
    step is over ``epoch 3: 760 done in 9 min 3 s, 1.4/s``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    if finished:
        text = f"{desc}: {done} done in {duration(elapsed)}, {rate:.3g}/s"
    elif total:
        left = f"about {duration((total - done) / rate)} left" if rate > 0 else "time left unknown"
        text = f"{desc}: {done}/{total} ({100 * done // total} %), {rate:.3g}/s, {left}"
    else:
        text = f"{desc}: {done}, {rate:.3g}/s"
    extra = ", ".join(f"{k} {_fmt(v)}" for k, v in metrics.items())
    return f"{text}; {extra}" if extra else text


def duration(seconds: float) -> str:
    """``42 s``, ``7 min 37 s``, ``2 h 05 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
