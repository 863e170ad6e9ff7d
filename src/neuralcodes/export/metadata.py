"""What an exported model says about itself: the export settings and the string metadata.

Both formats carry the same metadata (safetensors header, ONNX ``metadata_props``): the
``ModelConfig`` as JSON, the model hash, the layer names and code dimensions, the input
convention, the provenance and the package version, plus a digest of all of it, so that a
loader can rebuild the network from the file alone and refuse a file that was edited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from torch import nn

from neuralcodes import __version__
from neuralcodes.artifacts import provenance, sha256_bytes
from neuralcodes.config import ModelConfig, from_dict, to_dict
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.model import feature_model, model_hash

Format = Literal["safetensors", "onnx"]
FORMATS: tuple[str, ...] = get_args(Format)
EXPORT_FORMAT = 1  # bump when the metadata layout changes; loaders refuse other versions
DEFAULT_LAYERS = ("L5", "L6", "L7")
MIN_OPSET = 18  # torch's ONNX exporter writes opset 18 and later only
DEFAULT_OPSET = 18  # the oldest it writes: the widest choice of runtimes
INPUT_NAME = "images"
NORM_SUFFIX = "_norm"  # the ONNX output of a layer's L2-normalised code: "L6_norm"
DIGEST_KEY = "metadata_sha256"
_JSON_KEYS = ("provenance", "model_config", "layer_names", "code_dims", "input")


@dataclass(frozen=True)
class ExportConfig:
    """What to export: the format, the code layers (ONNX outputs) and the ONNX opset."""

    format: Format
    layers: tuple[str, ...] = DEFAULT_LAYERS
    opset: int = DEFAULT_OPSET

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"unknown export format {self.format!r}; choose one of {FORMATS}")
        if not self.layers or len(set(self.layers)) != len(self.layers):
            raise ConfigError(f"layers must be distinct and at least one, got {list(self.layers)}")
        if "logits" in self.layers:
            raise ConfigError("'logits' is always exported; list only code layers (L5 L6 L7...)")
        if self.opset < MIN_OPSET:
            raise ConfigError(f"opset {self.opset} is too old: PyTorch's ONNX exporter writes "
                              f"opset {MIN_OPSET} or later")

    @property
    def output_names(self) -> tuple[str, ...]:
        """The ONNX outputs: raw codes, L2-normalised codes, logits."""
        return (*self.layers, *(f"{name}{NORM_SUFFIX}" for name in self.layers), "logits")


@dataclass(frozen=True)
class ExportInfo:
    """The parsed, checked metadata of an exported model."""

    config: ModelConfig
    model_hash: str
    layer_names: tuple[str, ...]
    code_dims: dict[str, int]
    input: dict[str, Any]
    provenance: dict[str, Any]
    class_names: tuple[str, ...] | None
    raw: dict[str, str]


def input_convention(image_size: int) -> dict[str, Any]:
    """How images become the network's input (the ``photo`` policy of ``neuralcodes.images``)."""
    return {
        "name": INPUT_NAME, "dtype": "float32", "layout": "NCHW",
        "shape": ["batch", 3, image_size, image_size], "channels": "RGB", "range": [0.0, 1.0],
        "from_uint8": "pixels / 255", "image_size": image_size, "resize_policy": "photo",
        "resize": "EXIF orientation applied, converted to 8-bit RGB, the largest centred "
                  f"square cropped and resized to {image_size} x {image_size} with Lanczos",
        "normalisation": "none outside the network: it takes the [0, 1] values as they are",
    }  # fmt: skip


def build_metadata(
    model: nn.Module, cfg: ModelConfig, export: ExportConfig, *,
    class_names: tuple[str, ...] | None = None, extra: Mapping[str, str] | None = None,
    **fields: Any,
) -> dict[str, str]:
    """The string metadata of an export of ``model``; ``fields`` go into the provenance."""
    net = feature_model(model)
    meta = {
        "neuralcodes_export": str(EXPORT_FORMAT),
        "neuralcodes_version": __version__,
        "provenance": _dumps(provenance("model-export", format=export.format,
                                        export_format=EXPORT_FORMAT, **fields)),
        "model_config": _dumps(to_dict(cfg)),
        "model_hash": model_hash(model),
        "layer_names": _dumps(list(net.layer_names)),
        "code_dims": _dumps({name: net.code_dims(name) for name in export.layers}),
        "input": _dumps(input_convention(cfg.image_size)),
        **({"class_names": _dumps(list(class_names))} if class_names else {}),
        **(extra or {}),
    }
    return {**meta, DIGEST_KEY: metadata_digest(meta)}


def metadata_digest(meta: Mapping[str, str]) -> str:
    """SHA-256 (16 hex digits) of every entry but the digest itself, in key order."""
    items = sorted((k, v) for k, v in meta.items() if k != DIGEST_KEY)
    return sha256_bytes(json.dumps(items).encode())[:16]


def parse_metadata(meta: Mapping[str, str] | None, where: str | Path) -> ExportInfo:
    """Check and parse the metadata of an exported file; a clear error when it does not match."""
    meta = dict(meta or {})
    if "neuralcodes_export" not in meta:
        raise DataError(where, "not a neuralcodes export (no neuralcodes metadata)")
    if meta["neuralcodes_export"] != str(EXPORT_FORMAT):
        raise ArtifactMismatchError(
            f"{where}: export format {meta['neuralcodes_export']!r} written by neuralcodes "
            f"{meta.get('neuralcodes_version')}; this version reads format {EXPORT_FORMAT}")
    missing = [k for k in (*_JSON_KEYS, "model_hash", DIGEST_KEY) if k not in meta]
    if missing:
        raise DataError(where, f"incomplete neuralcodes metadata: missing {missing}")
    if metadata_digest(meta) != meta[DIGEST_KEY]:
        raise ArtifactMismatchError(
            f"{where}: the metadata was changed after export (its digest is "
            f"{metadata_digest(meta)}, the file records {meta[DIGEST_KEY]})")
    parsed = {key: _loads(meta[key], key, where) for key in _JSON_KEYS}
    names = _loads(meta["class_names"], "class_names", where) if "class_names" in meta else None
    try:
        cfg = from_dict(ModelConfig, parsed["model_config"])
    except ConfigError as e:
        raise DataError(where, f"bad model configuration in the metadata ({e})") from None
    return ExportInfo(cfg, meta["model_hash"], tuple(parsed["layer_names"]),
                      {str(k): int(v) for k, v in parsed["code_dims"].items()}, parsed["input"],
                      parsed["provenance"], tuple(names) if names else None, meta)


def check_model_matches(model: nn.Module, info: ExportInfo, where: str | Path) -> None:
    """Refuse weights or layers that differ from what the metadata records."""
    digest = model_hash(model)
    if digest != info.model_hash:
        raise ArtifactMismatchError(
            f"{where}: the weights do not match the recorded model hash "
            f"(the file records {info.model_hash}, the weights hash to {digest})")
    net = feature_model(model)
    dims = {name: net.code_dims(name) for name in info.code_dims}
    if tuple(net.layer_names) != info.layer_names or dims != info.code_dims:
        raise ArtifactMismatchError(
            f"{where}: the rebuilt network has layers {list(net.layer_names)} with code "
            f"dimensions {dims}; the file records {list(info.layer_names)}, {info.code_dims}")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _loads(text: str, key: str, where: str | Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(where, f"metadata {key!r} is not valid JSON ({e})") from None
