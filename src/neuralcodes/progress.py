"""Progress reporting. The library calls a ``Progress`` object; only the CLI draws bars.

Library functions take ``progress: Progress | None``; ``None`` means no bars. Messages
(``log``) are ``logging`` records whatever the ``Progress``: ``Silent`` and ``Recorder`` emit
them (``neuralcodes.logs.emit``), so an application that configures ``logging`` sees them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

from neuralcodes.logs import emit

T = TypeVar("T")


class Progress(Protocol):
    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        """Yield ``items`` while showing how far along they are."""
        ...

    def update(self, **metrics: Any) -> None:
        """Show running metrics (loss, accuracy) beside the current bar."""
        ...

    def log(self, message: str, level: int = logging.INFO) -> None:
        """A one-line message (a step started, a file skipped, a result) as a ``logging``
        record at ``level`` (INFO; WARNING for a file skipped)."""
        ...


class Silent:
    """The default: no bars; messages go to ``logging`` only."""

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        yield from items

    def update(self, **metrics: Any) -> None:
        pass

    def log(self, message: str, level: int = logging.INFO) -> None:
        emit(message, level)


class Recorder(Silent):
    """Keeps every message (and logs it); used by tests and by callers that want the
    skipped-file list."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def log(self, message: str, level: int = logging.INFO) -> None:
        self.messages.append(message)
        emit(message, level)


def ensure(progress: Progress | None) -> Progress:
    return progress if progress is not None else Silent()
