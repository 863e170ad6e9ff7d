"""The optional ``serve`` extra: FastAPI, Uvicorn, python-multipart; imported only when needed."""

from __future__ import annotations

import importlib.util

from neuralcodes.errors import NeuralCodesError

# import name -> distribution name (python-multipart is imported as python_multipart or multipart)
SERVE_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn", "python_multipart": "python-multipart"}
INSTALL_HINT = "pip install 'neuralcodes[serve]'"


class MissingExtraError(NeuralCodesError):
    """An optional dependency group is not installed; the message says what to install."""


def require_serve_extra() -> None:
    """Raise ``MissingExtraError``, naming the install command, if a ``serve`` module is missing."""
    missing = [
        dist for module, dist in SERVE_MODULES.items()
        if importlib.util.find_spec(module) is None
        and not (module == "python_multipart" and importlib.util.find_spec("multipart"))
    ]  # fmt: skip
    if missing:
        raise MissingExtraError(
            f"`neuralcodes serve` needs {', '.join(missing)}, which is not installed: "
            f"run {INSTALL_HINT}"
        )
