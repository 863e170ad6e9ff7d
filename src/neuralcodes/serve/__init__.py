"""``neuralcodes serve``: an HTTP API and a web page to search an index by image.

Needs the ``serve`` extra (``pip install 'neuralcodes[serve]'``: FastAPI, Uvicorn,
python-multipart). Importing this package is cheap: ``create_app`` (and with it the index, NumPy
and FastAPI) is loaded on first use, once ``require_serve_extra`` found the extra, so the CLI
starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralcodes.extras import MissingExtraError, require
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from neuralcodes.serve.app import create_app

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "MissingExtraError", "create_app", "require_serve_extra"]
# import name -> distribution name (python-multipart is imported as python_multipart or multipart)
SERVE_MODULES = {"fastapi": "fastapi", "uvicorn": "uvicorn",
                 "python_multipart|multipart": "python-multipart"}


def require_serve_extra() -> None:
    """Raise ``MissingExtraError``, naming the install command, if a ``serve`` module is missing."""
    require("serve", SERVE_MODULES, "`neuralcodes serve`")


def __getattr__(name: str) -> Any:
    if name == "create_app":
        require_serve_extra()  # before FastAPI is imported: a missing extra says what to install
        from neuralcodes.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
