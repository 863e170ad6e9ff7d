"""A trained run's model as safetensors or ONNX: the one call behind ``neuralcodes export``."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from neuralcodes.artifacts import read_json
from neuralcodes.config import ModelConfig
from neuralcodes.errors import DataError
from neuralcodes.export.extra import require_export_extra
from neuralcodes.export.metadata import NORM_SUFFIX, ExportConfig, build_metadata
from neuralcodes.export.weights import save_safetensors
from neuralcodes.model import feature_model, load_model
from neuralcodes.models.stages import check_layers
from neuralcodes.runs import RunDir, require_model

log = logging.getLogger(__name__)
SUFFIXES = {"safetensors": ".safetensors", "onnx": ".onnx"}


@dataclass(frozen=True)
class ExportResult:
    """What was written: the file, its format, the outputs (ONNX) and its metadata."""

    path: Path
    format: str
    outputs: tuple[str, ...]
    metadata: dict[str, str]


def export_run(
    source: str | Path, export: ExportConfig, out: str | Path | None = None
) -> ExportResult:
    """Export the model of the run folder (or ``model.pt`` file) ``source``.

    ``out`` defaults to ``model.safetensors`` / ``model.onnx`` beside ``model.pt``; a folder
    gets that name inside it. The layers are checked against the model before any work.
    """
    require_export_extra(export.format)
    model_path = _model_file(Path(source))
    loaded = load_model(model_path)
    check_layers(export.layers, feature_model(loaded.model).layer_names)
    names = _class_names(model_path, loaded.extra.get("class_names"), loaded.config)
    target = _target(model_path, export.format, out)
    return export_model(target, loaded.model, loaded.config, export, class_names=names,
                        source_run=model_path.parent.name,
                        source_model_hash=loaded.header.get("model_hash"))


def export_model(
    path: str | Path, model: nn.Module, cfg: ModelConfig, export: ExportConfig, *,
    class_names: tuple[str, ...] | None = None, **provenance: object,
) -> ExportResult:
    """Write ``model`` (built from ``cfg``) to ``path`` in ``export.format``; the model is
    exported from the CPU in eval mode, and given back on its device in its mode."""
    require_export_extra(export.format)
    device = next(model.parameters()).device
    training = model.training
    fields = {"torch_version": torch.__version__, **provenance}
    try:
        model.cpu().eval()
        if export.format == "onnx":
            return _onnx(Path(path), model, cfg, export, class_names, fields)
        meta = build_metadata(model, cfg, export, class_names=class_names,
                              extra={"format": "pt"}, **fields)  # as Hugging Face tools expect
        save_safetensors(path, model, meta)
        return ExportResult(Path(path), export.format, (), meta)
    finally:
        model.to(device).train(training)


def _onnx(
    path: Path, model: nn.Module, cfg: ModelConfig, export: ExportConfig,
    class_names: tuple[str, ...] | None, fields: dict[str, object],
) -> ExportResult:
    from neuralcodes.export.onnx_export import (
        check_with_onnxruntime,
        save_onnx,
        serialise,
        to_onnx,
    )

    proto = to_onnx(model, cfg.image_size, export)
    diff = check_with_onnxruntime(serialise(proto), model, cfg.image_size, export)
    meta = build_metadata(model, cfg, export, class_names=class_names,
                          extra={"outputs": _describe_outputs(export)},
                          exporter="torch.onnx.export(dynamo=True)", opset=export.opset,
                          onnxruntime_max_abs_diff=diff, **fields)
    save_onnx(path, proto, meta)
    return ExportResult(path, export.format, export.output_names, meta)


def _describe_outputs(export: ExportConfig) -> str:
    """What each ONNX output is, as JSON."""
    raw = {name: "raw activations (batch, D), as forward_codes gives them" for name in
           export.layers}
    normed = {f"{name}{NORM_SUFFIX}": f"{name} divided by its L2 norm: the codes neuralcodes "
              "indexes and searches" for name in export.layers}
    logits = {"logits": "class scores (batch, num_classes), before softmax"}
    return json.dumps({**raw, **normed, **logits}, separators=(",", ":"))


def _model_file(source: Path) -> Path:
    """``source`` itself if it is a file, else the run folder's ``model.pt``."""
    if source.is_file():
        return source
    if not source.is_dir():
        raise DataError(source, "no such run folder or model file")
    return require_model(source)


def _class_names(
    model_path: Path, saved: object, cfg: ModelConfig
) -> tuple[str, ...] | None:
    """The names of the logits: the model's own, else the run's first ``num_classes`` (the
    in-domain classes come first); None when unknown."""
    names = saved
    split = RunDir(model_path.parent).split
    if names is None and split.is_file():
        names = read_json(split).get("class_names")
    if not isinstance(names, list) or len(names) < cfg.num_classes:
        return None
    return tuple(str(n) for n in names[: cfg.num_classes])


def _target(model_path: Path, fmt: str, out: str | Path | None) -> Path:
    default = model_path.with_suffix(SUFFIXES[fmt])
    if out is None:
        return default
    out = Path(out)
    return out / default.name if out.is_dir() else out
