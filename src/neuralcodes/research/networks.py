"""The networks research tools take codes from: any model SPEC (``neuralcodes.encoder``).

A run folder, the paper's AlexNet (``alexnet[:WEIGHTS.pth]``, a state dict in PyTorch's
model-zoo layout, checked key by key by ``neuralcodes.models.alexnet.load_alexnet_weights``), a
Hugging Face model (``hf:ORG/NAME[@REV]``, ``hf:/folder``). A ``Network`` is the model with the
feature contract (``forward_codes``, ``layer_names``), how images are read for it (its image
policy: a run's photo policy, a pretrained network's own preprocessing) and its default code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from neuralcodes.encoder import Encoder, open_encoder
from neuralcodes.errors import ConfigError
from neuralcodes.images import ImagePolicy, photo_policy
from neuralcodes.models.spec import ModelSpec

PAPER_LAYERS = ("L5", "L6", "L7")


@dataclass(frozen=True, eq=False)
class Network:
    model: nn.Module
    image_size: int  # the size images are decoded at
    description: str  # for tables: "run runs/x (model 0123abcd...)" or "AlexNet weights w.pth"
    policy: ImagePolicy | None = None  # how images are read (None: the photo policy at S)
    default_layer: str = "L6"  # the code used when none is named
    is_run: bool = True  # a network trained by neuralcodes (a run folder's)

    @property
    def image_policy(self) -> ImagePolicy:
        return self.policy if self.policy is not None else photo_policy(self.image_size)

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(getattr(self.model, "layer_names", ()))

    def default_codes(self) -> list[str]:
        """The paper's L5, L6, L7 where the network has them, else its default code."""
        if all(name in self.layers for name in PAPER_LAYERS):
            return list(PAPER_LAYERS)
        return [self.default_layer]


def open_spec(spec: str | os.PathLike[str] | ModelSpec, *, device: str = "auto") -> Network:
    """The network of a model SPEC (eval mode, on ``device``), with its image policy and
    default code."""
    enc = open_encoder(spec, device=device)
    return Network(enc.backbone.model.eval(), enc.image_size, _description(enc),
                   enc.image_policy, enc.layer, enc.spec.kind == "run")


def _description(enc: Encoder) -> str:
    fp, spec = enc.fingerprint(), enc.spec
    if spec.kind == "run":
        return f"run {spec.path} (model {fp['model_hash']})"
    if spec.kind == "alexnet":
        return f"AlexNet weights {spec.path}"
    origin = f"revision {fp.get('revision')}" if fp.get("hub_id") else (
        f"weights sha256 {str(fp.get('weights_sha256'))[:16]}")
    return f"{spec} ({fp.get('model_name')}, {origin})"


def open_network(model: str | os.PathLike[str] | None,
                 alexnet: str | Path | None = None) -> Network:
    """Exactly one of a model SPEC and an AlexNet weights file (``--alexnet``, the older form
    of ``--model alexnet:WEIGHTS.pth``)."""
    if (model is None) == (alexnet is None):
        raise ConfigError("give exactly one network: --model SPEC (a run folder, "
                          "alexnet:WEIGHTS.pth, hf:ORG/NAME, hf:/folder) or AlexNet weights "
                          "(--alexnet WEIGHTS.pth)")
    return open_spec(model if model is not None else ModelSpec("alexnet", Path(alexnet or "")))

