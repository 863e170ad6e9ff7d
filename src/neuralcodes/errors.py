"""Exceptions raised by the library. The CLI turns them into one-line messages."""

from __future__ import annotations

from pathlib import Path

from neuralcodes.names import shown


class NeuralCodesError(Exception):
    """Base class of every error that the CLI reports without a traceback."""


class DataError(NeuralCodesError):
    """A data file or folder is missing, unreadable or not what it should be. ``path`` is kept as
    given; the message shows it escaped (``names.shown``: one printable line)."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{shown(self.path)}: {problem}")


class ArtifactMismatchError(NeuralCodesError):
    """A saved artifact (run folder, model, codes, index) does not match what it is used with."""


class ConfigError(NeuralCodesError):
    """A configuration value is invalid; the message says what is possible."""
