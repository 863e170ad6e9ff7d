"""Fixtures of the benchmark tests: a replica writer, and an HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..file_server import FileServer, serve_files
from .replicas import Replica


@pytest.fixture
def rep() -> Replica:
    return Replica()


@pytest.fixture
def server() -> Iterator[FileServer]:
    with serve_files() as files:
        yield files
