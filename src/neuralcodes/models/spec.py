"""A model SPEC: which network makes the codes, as a user writes it on the command line.

    RUN_DIR               a neuralcodes run folder (holds model.pt)
    alexnet               the paper's AlexNet, weights at $NEURALCODES_HOME/weights/<file>
    alexnet:PATH.pth      AlexNet with the weights file PATH (PyTorch model-zoo layout)
    hf:ORG/NAME[@REV]     a Hugging Face hub model, at a branch, tag or commit (default main)
    hf:/path/to/folder    a Hugging Face model folder saved with ``save_pretrained``

``hf:`` followed by an existing folder, or by a path starting with ``/``, ``./``, ``../`` or
``~``, is a local folder; anything else after ``hf:`` is a hub id (as ``from_pretrained`` decides).
An index records the SPEC of its network (``recorded_spec``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.paths import weights_dir

SpecKind = Literal["run", "alexnet", "hf"]
ALEXNET_FILE = "alexnet-owt-7be5be79.pth"  # PyTorch's model-zoo name: sha256 prefix 7be5be79
SPEC_FORMS = (
    "a model SPEC is one of: RUN_DIR (a neuralcodes run folder holding model.pt); "
    f"'alexnet' (the paper's AlexNet, weights in $NEURALCODES_HOME/weights/{ALEXNET_FILE}, "
    "fetched by `neuralcodes weights alexnet`); 'alexnet:PATH.pth' (AlexNet weights file in "
    "PyTorch's model-zoo layout); 'hf:ORG/NAME[@REVISION]' (a Hugging Face hub model); "
    "'hf:/path/to/folder' (a model folder saved with save_pretrained)"
)
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
_REVISION = re.compile(r"^[\w.][\w./-]*$")
_SCHEME = re.compile(r"^([A-Za-z][\w+-]+):")  # two letters at least: "C:" is a Windows drive
_LOCAL_PREFIXES = ("/", "./", "../", "~", ".\\", "..\\")


@dataclass(frozen=True)
class ModelSpec:
    """A parsed SPEC: a run folder, an AlexNet weights file, a hub id or a local HF folder."""

    kind: SpecKind
    path: Path | None = None  # run folder, weights file or local model folder
    hub_id: str | None = None  # "facebook/dinov2-small"
    revision: str | None = None  # a branch, tag or commit of hub_id (None: the default branch)

    def __post_init__(self) -> None:
        if self.kind not in get_args(SpecKind):
            raise ConfigError(f"unknown model kind {self.kind!r}; {SPEC_FORMS}")
        if (self.path is None) == (self.hub_id is None) or (self.hub_id and self.kind != "hf"):
            raise ConfigError(f"a {self.kind} model needs exactly one of a path and a hub id")
        if self.revision is not None and self.hub_id is None:
            raise ConfigError("a revision is given with a hub id only (hf:ORG/NAME@REVISION)")

    def __str__(self) -> str:
        if self.kind == "run":
            return str(self.path)
        if self.hub_id is not None:
            return f"hf:{self.hub_id}" + (f"@{self.revision}" if self.revision else "")
        return f"{self.kind}:{self.path}"

    @property
    def is_hub(self) -> bool:
        return self.hub_id is not None


Spec = str | os.PathLike[str] | ModelSpec  # a SPEC string, a run folder path or a parsed SPEC


def parse_spec(spec: Spec) -> ModelSpec:
    """The ``ModelSpec`` of a SPEC string (or a run folder path); ``ConfigError`` if malformed."""
    if isinstance(spec, ModelSpec):
        return spec
    if not isinstance(spec, str):
        return ModelSpec("run", Path(spec))
    text = spec.strip()
    if not text:
        raise ConfigError(f"empty model SPEC; {SPEC_FORMS}")
    if text == "alexnet":
        return ModelSpec("alexnet", weights_dir() / ALEXNET_FILE)
    if text.startswith("alexnet:"):
        return ModelSpec("alexnet", _path(text, "alexnet:"))
    if text.startswith("hf:"):
        return _parse_hf(text)
    scheme = _SCHEME.match(text)
    if scheme and not Path(text).exists():
        raise ConfigError(f"unknown model SPEC prefix {scheme.group(1)!r} in {text!r}; "
                          f"{SPEC_FORMS}")
    return ModelSpec("run", Path(text).expanduser())


def _path(text: str, prefix: str) -> Path:
    rest = text[len(prefix):].strip()
    if not rest:
        raise ConfigError(f"{text!r} names no file or folder after {prefix!r}; {SPEC_FORMS}")
    return Path(rest).expanduser()


def _parse_hf(text: str) -> ModelSpec:
    rest = text[3:].strip()
    if not rest:
        raise ConfigError(f"{text!r} names no model after 'hf:'; {SPEC_FORMS}")
    if rest.startswith(_LOCAL_PREFIXES) or rest in (".", "..") or Path(rest).expanduser().is_dir():
        return ModelSpec("hf", _path(text, "hf:"))
    hub_id, _, revision = rest.partition("@")
    if not _HUB_ID.match(hub_id) or "--" in hub_id or ".." in hub_id:
        raise ConfigError(f"{text!r}: {hub_id!r} is neither a hub id (ORG/NAME) nor an "
                          f"existing folder; {SPEC_FORMS}")
    if "@" in rest and not _REVISION.match(revision):
        raise ConfigError(f"{text!r}: bad revision {revision!r} (a branch, tag or commit "
                          f"hash); {SPEC_FORMS}")
    return ModelSpec("hf", hub_id=hub_id, revision=revision or None)


def model_argument(model: Spec | None, run_dir: Spec | None) -> Spec | None:
    """``model``, or ``run_dir`` (its older name, kept as an alias); not both."""
    if model is not None and run_dir is not None:
        raise ConfigError("give the network once: model=SPEC (run_dir= is its older name)")
    return model if model is not None else run_dir


def recorded_spec(manifest: Mapping[str, Any]) -> str:
    """The SPEC an index (or an unfinished build's settings) records for its network."""
    spec = manifest.get("model") or manifest.get("run_dir")
    if not isinstance(spec, str) or not spec:
        raise DataError("manifest.json", "records no model (rebuild the index)")
    return spec
