"""The optional ``export`` extra (safetensors, onnx, onnxruntime, onnxscript), imported lazily."""

from __future__ import annotations

from neuralcodes.extras import MissingExtraError, require

__all__ = ["NEEDS", "MissingExtraError", "require_export_extra"]
# what each format needs: import name -> distribution name
NEEDS = {
    "safetensors": {"safetensors": "safetensors"},
    "onnx": {"onnx": "onnx", "onnxscript": "onnxscript", "onnxruntime": "onnxruntime"},
}


def require_export_extra(fmt: str) -> None:
    """Raise ``MissingExtraError``, naming the extra to install, if ``fmt`` lacks a module."""
    require("export", NEEDS[fmt], f"exporting to {fmt}")
