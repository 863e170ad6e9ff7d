"""``neuralcodes serve``: an HTTP API and a web page to search an index by image.

Needs the ``serve`` extra (``pip install 'neuralcodes[serve]'``: FastAPI, Uvicorn,
python-multipart). Importing this package is cheap: ``create_app`` (and with it the index, NumPy
and FastAPI) is loaded on first use, once ``require_serve_extra`` found the extra, so the CLI
starts fast.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

from neuralcodes.errors import NeuralCodesError
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from neuralcodes.serve.app import create_app

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "MissingExtraError", "create_app", "require_serve_extra"]
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


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_serve_extra()  # before FastAPI is imported: a missing extra says what to install
        from neuralcodes.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
