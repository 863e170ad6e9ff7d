"""``describe_index``: what an index holds and what built it, for ``neuralcodes index info``.

Reads the manifest and the current generation without loading the vectors or the network; says
which network made the codes (its SPEC and fingerprint: kind, hub id and revision or the weights'
hash, layer, preprocessing) and, for a run folder, whether it still holds the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralcodes.errors import NeuralCodesError
from neuralcodes.index.store import generation_dir, read_manifest
from neuralcodes.models.spec import parse_spec
from neuralcodes.runs import RunDir


def describe_index(index_dir: str | Path) -> dict[str, Any]:
    """A flat, JSON-ready summary of an index: plain keys (the manifest's names where there is
    one), plain values."""
    root = Path(index_dir).resolve()
    m = read_manifest(root)
    gen = generation_dir(root, m)
    backend = m["backend"]
    return {
        "index_dir": str(root),
        "images": m.get("counts", {}).get("entries"),
        "skipped": len(m["skipped"]),
        "excluded": len(m["excluded"]),
        "photos_root": m["photos_root"],
        "model": m.get("model") or m.get("run_dir"),
        "kind": m.get("kind", "run"),
        "run_dir": m.get("run_dir"),
        "model_name": m["model_name"],
        "model_hash": m["model_hash"],
        "hub_id": m.get("hub_id"),
        "revision": m.get("revision"),
        "weights_sha256": m.get("weights_sha256"),
        "model_status": _model_status(m),
        "layer": m["layer"],
        "image_size": m["image_size"],
        "code_dim": m["code_dim"],
        "preprocess": m.get("preprocess"),
        "image_policy": m.get("image", {}).get("policy"),
        "dim": m["dim"],
        "pca": m["pca"],
        "backend": backend["kind"],
        "structure": backend.get("structure", backend["kind"]),
        "backend_params": backend.get("params", {}),
        "recall_at_10": backend.get("recall_at_10"),
        "generation": m["generation"],
        "generation_bytes": sum(f.stat().st_size for f in gen.iterdir() if f.is_file()),
        "created": m.get("created"),
        "updated": m.get("updated"),
        "neuralcodes_version": m.get("neuralcodes_version"),
    }


def _model_status(manifest: dict[str, Any]) -> str:
    """Whether RUN_DIR/model.pt is still the model that built the index (for another network:
    whether its weights file or folder is still there; a hub model is checked when opened)."""
    if manifest.get("kind", "run") != "run":
        return _network_status(manifest)
    path = RunDir(Path(str(manifest.get("run_dir")))).model
    if not path.is_file():
        return f"{path} is missing"
    try:
        from neuralcodes.model import load_model

        current = load_model(path).header.get("model_hash")
    except NeuralCodesError as e:
        return f"unreadable: {e}"
    if current != manifest.get("model_hash"):
        return f"{path} has changed to {current}: rebuild the index"
    return "matches the run folder"


def _network_status(manifest: dict[str, Any]) -> str:
    if manifest.get("hub_id"):
        return "a hub model: its revision is checked when the index is opened"
    try:
        spec = parse_spec(str(manifest.get("model")))
    except NeuralCodesError as e:
        return f"unreadable model SPEC: {e}"
    if spec.path is None or not spec.path.exists():
        return f"{spec.path} is missing: give the network with --model SPEC"
    return "present (its weights are checked when the index is opened)"
