"""Models others can use: a run's network as safetensors weights or as an ONNX graph.

Both files describe themselves (model configuration, model hash, layers and code dimensions,
input convention, provenance) in string metadata. ``load_safetensors`` rebuilds the network from
its file alone; the ONNX file runs anywhere ONNX Runtime does. Needs the ``export`` extra.
"""

from neuralcodes.export.exporter import ExportResult, export_model, export_run
from neuralcodes.export.extra import MissingExtraError, require_export_extra
from neuralcodes.export.metadata import (
    DEFAULT_LAYERS,
    DEFAULT_OPSET,
    FORMATS,
    ExportConfig,
    ExportInfo,
    input_convention,
    parse_metadata,
)
from neuralcodes.export.onnx_export import read_onnx_metadata
from neuralcodes.export.weights import load_safetensors, read_safetensors

__all__ = [
    "DEFAULT_LAYERS", "DEFAULT_OPSET", "FORMATS", "ExportConfig", "ExportInfo", "ExportResult",
    "MissingExtraError", "export_model", "export_run", "input_convention", "load_safetensors",
    "parse_metadata", "read_onnx_metadata", "read_safetensors", "require_export_extra",
]  # fmt: skip
