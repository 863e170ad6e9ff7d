"""The network of an index: which SPEC made its codes, reopening it, and checking it.

The encoder itself is ``neuralcodes.encoder.Encoder`` (any SPEC: a run folder, AlexNet, a
Hugging Face model). An index records the encoder's fingerprint (what made the codes) and the
SPEC that reopens the network (``model``; an index written before SPECs records only its
``run_dir``, which stays its SPEC). Opening or updating an index takes that SPEC unless another
one is named, at the recorded layer, and refuses a network whose fingerprint differs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neuralcodes.artifacts import check_provenance
from neuralcodes.encoder import Encoder, check_fingerprint, describe, open_encoder
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.models.spec import ModelSpec, parse_spec
from neuralcodes.runs import RunDir

__all__ = ["Encoder", "check_model", "model_argument", "open_index_encoder", "recorded_spec",
           "spec_of"]

Spec = str | os.PathLike[str] | ModelSpec
FINGERPRINT_KEYS = ("kind", "model_name", "model_hash", "hub_id", "revision", "weights_sha256",
                    "layer", "image_size", "code_dim", "preprocess")


def model_argument(model: Spec | None, run_dir: Spec | None) -> Spec | None:
    """``model``, or ``run_dir`` (its older name, kept as an alias); not both."""
    if model is not None and run_dir is not None:
        raise ConfigError("give the network once: model=SPEC (run_dir= is its older name)")
    return model if model is not None else run_dir


def spec_of(encoder: Encoder) -> str:
    """The SPEC that reopens ``encoder``'s network from anywhere: absolute paths, and a hub
    model pinned to the exact revision (commit) that made the codes."""
    spec = encoder.spec
    if spec.hub_id is not None:
        revision = encoder.fingerprint().get("revision") or spec.revision
        return str(ModelSpec("hf", hub_id=spec.hub_id, revision=revision))
    assert spec.path is not None
    return str(ModelSpec(spec.kind, spec.path.expanduser().resolve()))


def recorded_spec(manifest: Mapping[str, Any]) -> str:
    """The SPEC an index (or an unfinished build's settings) records for its network."""
    spec = manifest.get("model") or manifest.get("run_dir")
    if not isinstance(spec, str) or not spec:
        raise DataError("manifest.json", "records no model (rebuild the index)")
    return spec


def recorded_fingerprint(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The encoder fingerprint kept in an index manifest (its keys are the manifest's own)."""
    return {k: manifest[k] for k in FINGERPRINT_KEYS if k in manifest}


def open_index_encoder(manifest: Mapping[str, Any], model: Spec | None = None, *,
                       device: str = "auto", batch_size: int | None = None) -> Encoder:
    """The encoder of an index: ``model`` (a SPEC) or the recorded one, at the recorded layer
    (not yet checked against the index: ``check_model``)."""
    spec = parse_spec(model if model is not None else recorded_spec(manifest))
    if spec.kind == "run" and spec.path is not None and not RunDir(spec.path).model.is_file():
        raise DataError(spec.path, "no model.pt: the run folder that built this index is gone "
                        "or has no model; name the same model with --model RUN_DIR (or "
                        "--model SPEC), or rebuild the index")
    try:
        encoder = open_encoder(spec, device=device, batch_size=batch_size)
    except DataError as e:
        if model is not None:
            raise
        raise DataError(e.path, f"{e.problem} (the network that built this index, {spec}: "
                        "name it with --model SPEC where it is now)") from None
    if manifest["layer"] in encoder.layers:  # else another network: check_model names it
        encoder.layer = str(manifest["layer"])
    return encoder


def check_model(manifest: Mapping[str, Any], encoder: Encoder, index_dir: Path) -> None:
    """Refuse an encoder whose network, revision, layer or preprocessing differs from the one
    that made the index's codes, naming every difference."""
    recorded = recorded_fingerprint(manifest)
    where = f"index {index_dir} (built with {describe(recorded)})"
    hint = ("; this is not the network that built the index: name that one with --model SPEC, "
            "or rebuild the index with `neuralcodes index build`")
    fp = encoder.fingerprint()
    try:
        if recorded.get("kind", "run") != fp.get("kind", "run"):
            check_fingerprint(recorded, fp, where=f"index {index_dir}")
        check_provenance(_flat(recorded), _flat(fp), where=where)
    except ArtifactMismatchError as e:
        raise ArtifactMismatchError(f"{e}{hint}") from None


def _flat(fp: Mapping[str, Any]) -> dict[str, Any]:
    """A fingerprint with its nested records as ``key.field`` (each difference named alone)."""
    out: dict[str, Any] = {}
    for key, value in fp.items():
        if isinstance(value, Mapping):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out
