"""An encoder's fingerprint: what made a set of codes, and refusing codes of another network.

A fingerprint is the network's identity (``Backbone.identity``: kind, name, weights hash, hub id
and revision) with the layer, the input size, the code length and the preprocessing
(``Encoder.fingerprint``). An index keeps it in its manifest; ``check_model`` refuses an encoder
whose fingerprint differs from the recorded one, naming every difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from neuralcodes.artifacts import check_provenance
from neuralcodes.errors import ArtifactMismatchError

FINGERPRINT_KEYS = ("kind", "model_name", "model_hash", "hub_id", "revision", "weights_sha256",
                    "layer", "image_size", "code_dim", "preprocess")


class Fingerprinted(Protocol):
    """An encoder (``neuralcodes.encoder.Encoder``), as far as the checks need one."""

    def fingerprint(self) -> dict[str, Any]: ...


def check_fingerprint(expected: Mapping[str, Any], encoder: Fingerprinted | Mapping[str, Any], *,
                      where: str = "the index") -> None:
    """Refuse an encoder whose network, revision, layer or preprocessing differs from
    ``expected`` (a recorded fingerprint), naming every difference."""
    actual = encoder if isinstance(encoder, Mapping) else encoder.fingerprint()
    diffs = fingerprint_differences(expected, actual)
    if diffs:
        raise ArtifactMismatchError(f"{where} was made with another network or input: "
                                    + "; ".join(diffs))


def fingerprint_differences(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """One line per difference: '<key>: <expected> there, <actual> here'."""
    if expected.get("kind", "run") != actual.get("kind", "run"):
        return [f"network: {describe(expected)} there, {describe(actual)} here"]
    diffs = []
    for key, value in actual.items():
        old = expected.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            diffs += [f"{key}.{k}: {old.get(k)!r} there, {value.get(k)!r} here"
                      for k in sorted(set(old) | set(value)) if old.get(k) != value.get(k)]
        elif old != value:
            diffs.append(f"{key}: {old!r} there, {value!r} here")
    return diffs


def describe(fp: Mapping[str, Any]) -> str:
    """A fingerprint's network in words."""
    kind = fp.get("kind", "run")
    if kind == "run":
        return f"a neuralcodes run's {fp.get('model_name')} model {fp.get('model_hash')}"
    if fp.get("hub_id"):
        return f"hf:{fp['hub_id']} at revision {fp.get('revision')}"
    what = "AlexNet weights" if kind == "alexnet" else f"a local {fp.get('model_name')} folder"
    return f"{what} (weights sha256 {str(fp.get('weights_sha256'))[:16]}...)"


def check_model(manifest: Mapping[str, Any], encoder: Fingerprinted, index_dir: Path) -> None:
    """Refuse an encoder whose network, revision, layer or preprocessing differs from the one
    that made the index's codes, naming every difference."""
    recorded = {k: manifest[k] for k in FINGERPRINT_KEYS if k in manifest}  # the manifest's keys
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
