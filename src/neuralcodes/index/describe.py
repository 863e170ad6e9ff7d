"""``describe_index``: what an index holds and what built it, for ``neuralcodes index info``.

Reads the manifest and the current generation without loading the vectors; also says whether
the run folder that built the index still holds the same model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neuralcodes.errors import NeuralCodesError
from neuralcodes.index.store import generation_dir, read_manifest
from neuralcodes.runs import RunDir


def describe_index(index_dir: str | Path) -> dict[str, Any]:
    """A flat, JSON-ready summary of an index."""
    root = Path(index_dir).resolve()
    m = read_manifest(root)
    gen = generation_dir(root, m)
    size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
    return {
        "index": str(root),
        "images": m.get("counts", {}).get("entries"),
        "skipped files": len(m.get("skipped", [])),
        "removed by hand (excluded)": len(m.get("excluded", [])),
        "photos folder": m.get("photos_root"),
        "run folder": m.get("run_dir"),
        "model": f"{m.get('model_name')} {m.get('model_hash')} ({_model_status(m)})",
        "layer": m.get("layer"),
        "image size": m.get("image_size"),
        "code dims": m.get("code_dim"),
        "stored dims": m.get("dim"),
        "pca": m.get("pca") or "none",
        "backend": m.get("backend"),
        "generation": f"{m.get('generation')} ({size / 1e6:.1f} MB)",
        "created": m.get("created"),
        "updated": m.get("updated"),
        "neuralcodes version": m.get("neuralcodes_version"),
    }


def _model_status(manifest: dict[str, Any]) -> str:
    """Whether RUN_DIR/model.pt is still the model that built the index."""
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
