"""``neuralcodes export RUN_DIR --format safetensors|onnx``: the model for other tools."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuralcodes.cli.options import add_layer_option
from neuralcodes.cli.output import print_result
from neuralcodes.export.metadata import DEFAULT_LAYERS, DEFAULT_OPSET, FORMATS


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a run's model as safetensors weights or an ONNX graph",
        description="Export the model of RUN_DIR for use outside neuralcodes: safetensors "
        "(weights + the model configuration, hash, layers and input convention as metadata; "
        "load it back with neuralcodes.export.load_safetensors) or ONNX (input `images`, "
        "float32 (batch, 3, S, S) in [0, 1]; outputs L5, L6, L7 raw, L5_norm... L2-normalised, "
        "and logits). Needs the export extra: pip install 'neuralcodes[export]'.",
        func=run_export, json=True,
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a trained run folder (or its model.pt)")
    p.add_argument("--format", required=True, choices=FORMATS, help="the file format to write")
    p.add_argument("--out", metavar="PATH", default=None,
                   help="the file to write, or a folder to write it in (default: "
                   "model.safetensors or model.onnx beside model.pt)")
    add_layer_option(p, many=True, default=list(DEFAULT_LAYERS),
                     default_text=f"{' '.join(DEFAULT_LAYERS)}; ONNX outputs, code dimensions "
                     "in the metadata; the logits are always exported")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                   help=f"ONNX operator set version, {DEFAULT_OPSET} or later "
                   f"(default {DEFAULT_OPSET}; ignored for safetensors)")


def run_export(args: argparse.Namespace) -> int:
    from neuralcodes.export import ExportConfig, export_run

    cfg = ExportConfig(format=args.format, layers=tuple(args.layer), opset=args.opset)
    result = export_run(args.run_dir, cfg, args.out)
    meta = result.metadata
    record = {"path": str(result.path), "format": result.format,
              "model_hash": meta["model_hash"], "input": json.loads(meta["input"])["shape"],
              "outputs": list(result.outputs), "code_dims": json.loads(meta["code_dims"])}
    outputs = f"\n  outputs {', '.join(result.outputs)}" if result.outputs else ""
    print_result(args.json, record, f"wrote {record['path']} ({result.format}, model "
                 f"{record['model_hash']})\n  input  {record['input']} float32 in [0, 1], RGB"
                 f"{outputs}\n  code dims {record['code_dims']}")
    return 0
