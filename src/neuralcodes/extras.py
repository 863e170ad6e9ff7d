"""The optional extras (``pip install 'neuralcodes[NAME]'``): one error type, one install hint,
one way to ask for an extra's modules. Heavy dependencies are imported only through these, lazily,
so that a missing one says what to install instead of ending in an ``ImportError``."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Mapping
from types import ModuleType

from neuralcodes.errors import ConfigError


class MissingExtraError(ConfigError):
    """An optional dependency group is not installed; the message says what to install."""


def install_hint(extra: str) -> str:
    """The command that installs the extra ``extra``."""
    return f"pip install 'neuralcodes[{extra}]'"


def require(extra: str, modules: Mapping[str, str], needed_for: str) -> None:
    """Raise ``MissingExtraError`` naming ``extra`` unless every module is importable.

    ``modules`` maps import names to distribution names; a key "a|b" is found if either imports.
    """
    missing = [dist for names, dist in modules.items()
               if not any(importlib.util.find_spec(name) for name in names.split("|"))]
    if missing:
        raise MissingExtraError(f"{needed_for} needs {', '.join(missing)}, which is not "
                                f"installed: run {install_hint(extra)}")


def import_extra(module: str, extra: str, needed_for: str, *, or_else: str = "") -> ModuleType:
    """``module`` imported, or a ``MissingExtraError`` naming ``extra`` (and ``or_else``, another
    way out, e.g. "or use --backend exact")."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        hint = install_hint(extra) + (f" ({or_else})" if or_else else "")
        raise MissingExtraError(f"{needed_for} needs {module.split('.')[0]}, which is not "
                                f"installed ({e}): run {hint}") from None
