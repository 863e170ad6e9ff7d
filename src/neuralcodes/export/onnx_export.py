"""The network as an ONNX graph: ``images`` in; raw codes, L2-normalised codes and logits out.

Made with PyTorch's ``torch.export``-based exporter (``torch.onnx.export(dynamo=True)``, which
needs ``onnxscript``; the TorchScript exporter is deprecated), checked with
``onnx.checker``, and run once in onnxruntime against PyTorch before the file is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from neuralcodes.artifacts import atomic_write_bytes
from neuralcodes.errors import ArtifactMismatchError, ConfigError
from neuralcodes.export.extra import require_export_extra
from neuralcodes.export.metadata import INPUT_NAME, ExportConfig
from neuralcodes.logs import silenced
from neuralcodes.model import feature_model

log = logging.getLogger(__name__)
MAX_PROTO_BYTES = 2**31 - 1  # protobuf's limit for one message (no external data here)
CHECK_TOLERANCE = 1e-4  # onnxruntime vs PyTorch, relative to the largest activation


class CodesGraph(nn.Module):
    """What the ONNX file computes: (B, 3, S, S) float32 in [0, 1] -> the outputs of
    ``ExportConfig.output_names``: each layer's raw code (B, D), its L2-normalised form (as
    ``neuralcodes.codes.extract_codes`` gives it), and the logits (B, num_classes)."""

    def __init__(self, model: nn.Module, layers: Sequence[str]) -> None:
        super().__init__()
        self.model = model
        self.layers = tuple(layers)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        acts = feature_model(self.model).forward_codes(images, [*self.layers, "logits"])
        raw = [acts[name].flatten(1) for name in self.layers]  # (B, D) each
        normed = [r / r.norm(dim=1, keepdim=True).clamp_min(1e-12) for r in raw]  # (B, D)
        return (*raw, *normed, acts["logits"])


def to_onnx(model: nn.Module, image_size: int, export: ExportConfig) -> Any:
    """The ``onnx.ModelProto`` of ``CodesGraph(model)``, with a dynamic batch dimension."""
    graph = CodesGraph(model, export.layers).eval()
    example = torch.rand(2, 3, image_size, image_size)  # batch 2: 1 would be specialised
    # the exporter's chatter off while it runs (no torchvision, internal deprecations, the
    # version converter's tracebacks: a failed conversion is reported below)
    with silenced("torch.onnx", "onnxscript", ignore=(FutureWarning, DeprecationWarning)):
        program = torch.onnx.export(
            graph, (example,), None, dynamo=True, verbose=False, opset_version=export.opset,
            input_names=[INPUT_NAME], output_names=list(export.output_names),
            dynamic_shapes=({0: torch.export.Dim("batch")},), external_data=False,
        )
    assert program is not None
    proto = program.model_proto
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    if opset != export.opset:
        raise ConfigError(f"the exporter could not write opset {export.opset} (it wrote "
                          f"{opset}); use --opset {opset}")
    return proto


def check_with_onnxruntime(data: bytes, model: nn.Module, image_size: int,
                           export: ExportConfig) -> float:
    """Largest |onnxruntime - PyTorch| over every output, on three random images (a batch size
    other than the export's); refuses a graph off by more than ``CHECK_TOLERANCE``."""
    import onnxruntime as ort

    x = torch.rand(3, 3, image_size, image_size, generator=torch.Generator().manual_seed(0))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: x.numpy()})
    with torch.inference_mode():
        want = [t.numpy() for t in CodesGraph(model, export.layers).eval()(x)]
    diff = max(float(np.abs(g - w).max()) for g, w in zip(got, want, strict=True))
    scale = max(1.0, *(float(np.abs(w).max()) for w in want))
    if diff > CHECK_TOLERANCE * scale:
        raise ArtifactMismatchError(f"the ONNX graph differs from the network by {diff:.3g} "
                                    "in onnxruntime; nothing was written")
    return diff


def save_onnx(path: str | Path, proto: Any, metadata: dict[str, str]) -> None:
    """Attach ``metadata`` as ``metadata_props``, check the model, write it atomically."""
    import onnx

    del proto.metadata_props[:]
    for key, value in metadata.items():
        proto.metadata_props.add(key=key, value=value)
    proto.doc_string = "neuralcodes: neural codes (L5, L6, L7...) of images; see metadata_props"
    onnx.checker.check_model(proto, full_check=True)
    data = serialise(proto)
    atomic_write_bytes(path, data)
    log.info("wrote %s (%.1f MB)", path, len(data) / 1e6)


def serialise(proto: Any) -> bytes:
    """The bytes of ``proto``; refuses a graph over protobuf's 2 GiB limit."""
    size = proto.ByteSize()
    if size > MAX_PROTO_BYTES:
        raise ConfigError(f"the ONNX graph is {size / 2**30:.1f} GiB, over protobuf's 2 GiB "
                          "limit for one file")
    return bytes(proto.SerializeToString())


def read_onnx_metadata(path: str | Path) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (the weights are not loaded)."""
    require_export_extra("onnx")
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in proto.metadata_props}
