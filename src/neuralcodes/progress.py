"""Progress reporting. The library calls a ``Progress`` object; only the CLI draws bars or prints.

Library functions take ``progress: Progress | None``; ``None`` means silent.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Progress(Protocol):
    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        """Yield ``items`` while showing how far along they are."""
        ...

    def update(self, **metrics: Any) -> None:
        """Show running metrics (loss, accuracy) beside the current bar."""
        ...

    def log(self, message: str) -> None:
        """A one-line message: a step started, a file skipped, a result."""
        ...


class Silent:
    """The default: reports nothing."""

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        yield from items

    def update(self, **metrics: Any) -> None:
        pass

    def log(self, message: str) -> None:
        pass


class Recorder(Silent):
    """Keeps every message; used by tests and by callers that want the skipped-file list."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def log(self, message: str) -> None:
        self.messages.append(message)


def ensure(progress: Progress | None) -> Progress:
    return progress if progress is not None else Silent()
