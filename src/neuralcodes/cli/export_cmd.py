"""``neuralcodes export RUN_DIR --format safetensors|onnx``: the model for other tools."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuralcodes.cli.options import add_json_option, add_layer_option
from neuralcodes.cli.output import print_json
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
    add_json_option(p)
    p.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from neuralcodes.export import ExportConfig, export_run

    cfg = ExportConfig(format=args.format, layers=tuple(args.layer), opset=args.opset)
    result = export_run(args.run_dir, cfg, args.out)
    meta = result.metadata
    record = {"path": str(result.path), "format": result.format,
              "model_hash": meta["model_hash"], "input": json.loads(meta["input"])["shape"],
              "outputs": list(result.outputs), "code_dims": json.loads(meta["code_dims"])}
    if args.json:
        print_json(record)
        return 0
    print(f"wrote {record['path']} ({result.format}, model {record['model_hash']})")
    print(f"  input  {record['input']} float32 in [0, 1], RGB")
    if result.outputs:
        print(f"  outputs {', '.join(result.outputs)}")
    print(f"  code dims {record['code_dims']}")
    return 0
