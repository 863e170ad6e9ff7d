"""The CLI's ``Progress``: tqdm bars on stderr, one-line messages, running metrics in the bar."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class ConsoleProgress:
    """Draws a tqdm bar per ``track`` call and prints ``log`` lines on stderr."""

    def __init__(self, quiet: bool = False, bars: bool | None = None) -> None:
        self.quiet = quiet
        # bars only on a terminal: a log file or CI gets the one-line messages alone
        self.bars = sys.stderr.isatty() if bars is None else bars
        self._bar: Any = None

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        if self.quiet or not self.bars:
            yield from items
            return
        from tqdm import tqdm

        with tqdm(items, total=total, desc=desc, file=sys.stderr, leave=False,
                  dynamic_ncols=True) as bar:
            self._bar = bar
            try:
                yield from bar
            finally:
                self._bar = None

    def update(self, **metrics: Any) -> None:
        if self._bar is not None:
            self._bar.set_postfix({k: _fmt(v) for k, v in metrics.items()}, refresh=False)

    def log(self, message: str) -> None:
        if self.quiet:
            return
        if self._bar is not None:
            self._bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)


def _fmt(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float) else str(value)
