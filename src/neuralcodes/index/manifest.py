"""The index manifest (``INDEX_DIR/manifest.json``): its one constructor and its validation.

``new_manifest`` is the only place a manifest is made (the single-process build and the Ray build
both call it); ``validate_manifest`` runs on every read of a manifest and ``check_codes`` on every
load of a generation's ``codes.npy``, so a damaged index is refused with one ``DataError`` that
names the file and the problem, never a traceback, never accepted. ``docs/index-format.md``
describes every field.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.artifacts import provenance
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import MAX_PIXELS, ImagePolicy
from neuralcodes.index.backends import BACKENDS

ARTIFACT = "index"
FORMAT = 1  # bump when the layout changes; older indexes are refused
IMAGE_POLICY = "centre square crop, Lanczos resize, EXIF orientation, RGB"
GENERATION_NAME = re.compile(r"gen-\d{6}")
MAX_ID = 2**62  # ids are int64 in searches: far below its limit

# key -> the JSON type it must have (every index of this format has them all)
REQUIRED: dict[str, type | tuple[type, ...]] = {
    "generation": str, "photos_root": str, "layer": str, "model_hash": str,
    "model_name": str, "image_size": int, "code_dim": int, "dim": int, "backend": dict,
    "next_id": int, "skipped": list, "excluded": list, "pca": (dict, type(None)),
}
_STR_OR_NULL = (str, type(None))
OPTIONAL: dict[str, type | tuple[type, ...]] = {
    "counts": dict, "image": dict, "normalized": bool, "created": str, "updated": str,
    "neuralcodes_version": str, "distributed": dict,
    # the network: its SPEC, and the fingerprint keys of networks other than run folders
    "model": str, "run_dir": str, "kind": str, "hub_id": _STR_OR_NULL, "revision": _STR_OR_NULL,
    "weights_sha256": _STR_OR_NULL, "preprocess": dict,
}


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def new_manifest(
    fingerprint: Mapping[str, Any],
    *,
    photos_root: str | Path,
    run_dir: str | Path | None = None,
    model: str | None = None,
    image_policy: ImagePolicy | None = None,
    pca: dict[str, Any] | None,
    backend: str,
    requested: Mapping[str, Any],
    skipped: Iterable[Iterable[Any]] = (),
    next_id: int = 0,
    distributed: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest of a new index (``commit`` adds counts, dim, generation and times).

    ``fingerprint``: the encoder's (``Encoder.fingerprint()``: model_hash, model_name, layer,
    image_size, code_dim; for other networks than run folders also kind, hub_id, revision,
    weights_sha256, preprocess); ``model``: the SPEC that reopens the network; ``run_dir``: the
    run folder, for a run folder's network; ``image_policy``: how images were read (default: the
    photo policy); ``requested``: the backend's knobs asked for (``AnnParams.to_manifest()``);
    ``skipped``: ``[path, problem, size, mtime_ns]`` of the files that could not be read."""
    if model is None and run_dir is None:
        raise ConfigError("an index manifest needs the model SPEC or the run folder")
    network = {**({"model": model} if model is not None else {}),
               **({"run_dir": str(run_dir)} if run_dir is not None else {})}
    manifest = {
        **provenance(ARTIFACT, format=FORMAT), **fingerprint,
        "photos_root": str(photos_root), **network, "pca": pca,
        "normalized": True,
        "backend": {"kind": backend, **({"requested": dict(requested)} if requested else {})},
        "image": {"size": fingerprint["image_size"], "max_pixels": MAX_PIXELS,
                  "policy": policy_text(image_policy)},
        "created": now(), "next_id": int(next_id), "excluded": [],
        "skipped": [list(s) for s in skipped],
    }
    if distributed is not None:
        manifest["distributed"] = distributed
    return manifest


def policy_text(policy: ImagePolicy | None) -> str:
    """How images are brought to the network's input, in words (None: the photo policy)."""
    if policy is None or policy.fit == "centre-square":
        return IMAGE_POLICY
    geometry = {
        "stretch": f"resized to {policy.size} x {policy.size}",
        "shorter-side-crop": f"shorter side resized to {policy.resize}, centre crop "
                             f"{policy.size} x {policy.size}",
        "stretch-crop": f"resized to {policy.resize} x {policy.resize}, centre crop "
                        f"{policy.size} x {policy.size}",
        "centre-crop": f"centre crop {policy.size} x {policy.size}",
    }[policy.fit]
    return f"{geometry} ({policy.resample}), EXIF orientation, RGB"


def validate_manifest(manifest: Any, path: str | Path) -> dict[str, Any]:
    """``manifest`` if it is a complete manifest of this format, else one DataError on ``path``
    that lists every problem."""
    if not isinstance(manifest, dict) or manifest.get("artifact") != ARTIFACT:
        raise DataError(path, "not a neuralcodes index manifest")
    if manifest.get("format") != FORMAT:
        raise DataError(path, f"index format {manifest.get('format')!r} written by neuralcodes "
                        f"{manifest.get('neuralcodes_version')}; this version reads format "
                        f"{FORMAT}: rebuild the index")
    problems = _type_problems(manifest) or _value_problems(manifest)
    if problems:
        raise DataError(path, "damaged index manifest: " + "; ".join(problems)
                        + " (rebuild the index)")
    return manifest


def _is(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # JSON true is not a number
    return isinstance(value, kinds)


def _type_problems(m: dict[str, Any]) -> list[str]:
    out = [f"missing {key!r}" for key in REQUIRED if key not in m]
    for key, kind in {**REQUIRED, **OPTIONAL}.items():
        if key in m and not _is(m[key], kind):
            names = " or ".join(_json_name(k) for k in (kind if isinstance(kind, tuple)
                                                         else (kind,)))
            out.append(f"{key!r} must be {names}, got {m[key]!r}")
    return out


def _json_name(kind: type) -> str:
    return {str: "a string", int: "an integer", dict: "an object", list: "a list",
            bool: "true or false", type(None): "null"}.get(kind, kind.__name__)


def _value_problems(m: dict[str, Any]) -> list[str]:
    out = []
    if not GENERATION_NAME.fullmatch(m["generation"]):
        out.append(f"'generation' must name a gen-NNNNNN folder, got {m['generation']!r}")
    kind = m["backend"].get("kind")
    if kind not in BACKENDS:
        out.append(f"'backend.kind' must be one of {list(BACKENDS)}, got {kind!r}")
    for key in ("params", "requested"):
        if not _is(m["backend"].get(key, {}), dict):
            out.append(f"'backend.{key}' must be an object")
    expected = m["pca"].get("dims") if m["pca"] is not None else m["code_dim"]
    if not _is(expected, int) or m["dim"] != expected or m["dim"] < 1:
        out.append(f"'dim' {m['dim']} does not match the "
                   f"{'PCA dims' if m['pca'] else 'code_dim'} {expected!r}")
    if any(not isinstance(s, list) or len(s) < 2 or not all(isinstance(x, str) for x in s[:2])
           for s in m["skipped"]):
        out.append("'skipped' must hold [path, problem, ...] lists")
    if m.get("kind", "run") == "run" and "run_dir" not in m:
        out.append("missing 'run_dir'")  # a run folder's index names its run folder
    elif "run_dir" not in m and "model" not in m:
        out.append("missing 'model'")
    if not all(isinstance(p, str) for p in m["excluded"]):
        out.append("'excluded' must hold paths")
    if not 0 <= m["next_id"] < MAX_ID:
        out.append(f"'next_id' must be in [0, 2**62), got {m['next_id']}")
    if not os.path.isabs(m["photos_root"]):
        out.append(f"'photos_root' must be an absolute path, got {m['photos_root']!r}")
    return out


def check_codes(vectors: np.ndarray, manifest: Mapping[str, Any], path: str | Path) -> None:
    """Refuse vectors whose width is not the manifest's ``dim`` (a wrong width would make
    distances meaningless, e.g. all 0)."""
    width = int(vectors.shape[1]) if vectors.ndim == 2 else None
    if width != manifest["dim"]:
        raise DataError(path, f"vectors of shape {vectors.shape}, but the manifest says "
                        f"{manifest['dim']} dimensions: damaged index (rebuild it)")
