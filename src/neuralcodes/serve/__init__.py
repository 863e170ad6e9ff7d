"""``neuralcodes serve``: an HTTP API and a web page to search an index by image.

Needs the ``serve`` extra (``pip install 'neuralcodes[serve]'``). Importing this package is cheap:
``create_app`` (and with it the index, NumPy and FastAPI) is loaded on first use, so the CLI starts
fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from neuralcodes.serve.app import create_app

__all__ = ["DEFAULT_MAX_UPLOAD_BYTES", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from neuralcodes.serve.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
