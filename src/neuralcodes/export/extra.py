"""The optional ``export`` extra (safetensors, onnx, onnxruntime, onnxscript), imported lazily."""

from __future__ import annotations

import importlib.util

from neuralcodes.errors import NeuralCodesError

INSTALL_HINT = "pip install 'neuralcodes[export]'"
# what each format needs: import name -> distribution name
NEEDS = {
    "safetensors": {"safetensors": "safetensors"},
    "onnx": {"onnx": "onnx", "onnxscript": "onnxscript", "onnxruntime": "onnxruntime"},
}


class MissingExtraError(NeuralCodesError):
    """An optional dependency group is not installed; the message says what to install."""


def require_export_extra(fmt: str) -> None:
    """Raise ``MissingExtraError``, naming the extra to install, if ``fmt`` lacks a module."""
    missing = [dist for module, dist in NEEDS[fmt].items()
               if importlib.util.find_spec(module) is None]
    if missing:
        raise MissingExtraError(
            f"exporting to {fmt} needs {', '.join(missing)}, which is not installed: "
            f"run {INSTALL_HINT}"
        )
