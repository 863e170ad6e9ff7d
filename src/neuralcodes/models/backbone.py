"""A SPEC made into a network: the model (feature contract), its input policy and its identity.

Every kind ends as the same thing, a ``Backbone``: a module with ``forward_codes`` /
``code_dims`` / ``layer_names`` taking (B, 3, S, S) pixels in [0, 1], the image size S, how an
image becomes its (S, S, 3) input (``load``), and an identity record (what an index keeps and
checks). A run folder keeps today's photo policy (centre square, Lanczos to S) and its identity
(``model_hash``, ``model_name``); AlexNet and Hugging Face models take a ``Preprocess``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from neuralcodes.artifacts import sha256_bytes, sha256_file
from neuralcodes.errors import DataError
from neuralcodes.images import ImagePolicy, load_image, photo_policy
from neuralcodes.models.hub import ModelFolder
from neuralcodes.models.preprocess import Preprocess, alexnet_preprocess
from neuralcodes.models.spec import ModelSpec

ALEXNET_DEFAULT_LAYER = "L6"  # fc6 after ReLU


@dataclass(frozen=True, eq=False)
class Backbone:
    """A network ready to encode: ``model`` is in eval mode on the device it was opened on."""

    spec: ModelSpec
    model: nn.Module  # the feature contract (neuralcodes.model.FeatureModel)
    image_size: int
    default_layer: str
    preprocess: Preprocess | None  # None: a run folder's photo policy
    model_name: str  # "notebook", "alexnet", "dinov2"...
    conv: bool = False  # a conv net: channels-last input helps
    run_header: dict[str, Any] | None = field(default=None, repr=False)  # model.pt's header
    files: ModelFolder | None = None  # a Hugging Face model's folder (and hub id, commit)

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(getattr(self.model, "layer_names", ()))

    @property
    def image_policy(self) -> ImagePolicy:
        """How an image becomes this network's input: the photo policy for a run folder, the
        network's own preprocessing (its geometry) otherwise."""
        if self.preprocess is None:
            return photo_policy(self.image_size)
        return self.preprocess.image_policy

    def load(self, src: Any) -> np.ndarray:
        """Any image -> (S, S, 3) ``uint8`` by this network's policy."""
        return load_image(src, self.image_policy)

    @functools.cached_property
    def identity(self) -> dict[str, Any]:
        """What tells this network apart (a weights file is hashed once, on first use)."""
        if self.run_header is not None:
            return {"model_hash": self.run_header["model_hash"], "model_name": self.model_name}
        record = {"kind": self.spec.kind, "model_name": self.model_name}
        if self.files is not None and self.files.hub_id is not None:
            key = f"{self.files.hub_id}@{self.files.revision}".encode()
            return {**record, "model_hash": sha256_bytes(key)[:16], "hub_id": self.files.hub_id,
                    "revision": self.files.revision, "weights_sha256": None}
        if self.files is not None:
            digest = self.files.weights_sha256()
        else:
            assert self.spec.path is not None
            digest = sha256_file(self.spec.path)
        return {**record, "model_hash": digest[:16], "hub_id": None, "revision": None,
                "weights_sha256": digest}


def open_backbone(spec: ModelSpec, device: torch.device) -> Backbone:
    """Load the network of ``spec`` (eval mode) onto ``device``."""
    if spec.kind == "run":
        return _run_backbone(spec, device)
    if spec.kind == "alexnet":
        return _alexnet_backbone(spec, device)
    return _hf_backbone(spec, device)


def _run_backbone(spec: ModelSpec, device: torch.device) -> Backbone:
    from neuralcodes.model import load_model

    assert spec.path is not None
    if not (spec.path / "model.pt").is_file():
        raise DataError(spec.path, "no model.pt in this run folder; train it first")
    loaded = load_model(spec.path / "model.pt", map_location=device)
    header = loaded.header
    return Backbone(spec, loaded.model.eval(), int(loaded.config.image_size), "L6", None,
                    str(header.get("model_name", loaded.config.name)), run_header=header)


def _alexnet_backbone(spec: ModelSpec, device: torch.device) -> Backbone:
    from neuralcodes.config import ModelConfig
    from neuralcodes.models.alexnet import INPUT_SIZE, load_alexnet_weights

    assert spec.path is not None
    if not spec.path.is_file():
        raise DataError(spec.path, "AlexNet weights file not found; fetch it with `neuralcodes "
                        "weights alexnet`, or name a file with --model alexnet:PATH.pth")
    model = load_alexnet_weights(spec.path)  # DataError naming the file and what differs
    n_classes = int(model.state_dict()["classifier.6.weight"].shape[0])
    model.config = ModelConfig(name="alexnet", num_classes=n_classes,  # type: ignore[assignment]
                               image_size=INPUT_SIZE)  # as create_model would build it
    model.to(device)
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return Backbone(spec, model, INPUT_SIZE, ALEXNET_DEFAULT_LAYER, alexnet_preprocess(),
                    "alexnet", conv=True)


def _hf_backbone(spec: ModelSpec, device: torch.device) -> Backbone:
    from neuralcodes.models.hf import load_folder
    from neuralcodes.models.hub import local_folder, resolve_hub

    if spec.hub_id is not None:
        files = resolve_hub(spec.hub_id, spec.revision)
    else:
        assert spec.path is not None
        files = local_folder(spec.path)
    net = load_folder(files)
    net.to(device)
    return Backbone(spec, net, net.preprocess.size, net.layer_names[0], net.preprocess,
                    net.model_type, conv=net.family.conv, files=files)
