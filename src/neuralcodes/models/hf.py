"""Hugging Face ``transformers`` vision models as sources of named neural codes.

Families, chosen by ``config.model_type``: DINOv2 (``Dinov2Model``), CLIP's vision tower
(``CLIPVisionModelWithProjection``, from a full CLIP checkpoint too), ViT (``ViTModel``), ResNet
(``ResNetModel``), ConvNeXt (``ConvNextModel``); any other through ``AutoModel``. Named codes:

- ``cls``: the CLS token after the final norm (CLIP: ``post_layernorm``, as its pooler output);
- ``pooled``: the model's pooler output (ResNet, ConvNeXt: the global pooled features; DINOv2:
  its CLS; ViT: dense + tanh on the CLS, only when the checkpoint has the pooler's weights);
- ``patch-mean``: the mean of the patch tokens of ``last_hidden_state`` (ViT, DINOv2, CLIP);
- ``embed``: CLIP's projected image embedding (``image_embeds``);
- ``block<N>``: the output of block N (``hidden_states[N]``, 1-based): its CLS token for a
  transformer, its global average for a conv net (where a block is a stage).

``HFCodes`` wraps the model in the feature contract of ``neuralcodes.model`` (``forward_codes``
on (B, 3, S, S) float pixels in [0, 1]; the processor's rescale and mean/std are applied there, on
the device), so ``neuralcodes.codes.extract_codes`` encodes with it like with any other network.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from neuralcodes.artifacts import read_json
from neuralcodes.errors import DataError
from neuralcodes.logs import silenced
from neuralcodes.models.hub import ModelFolder, check_files, require_transformers
from neuralcodes.models.preprocess import Preprocess, from_processor_config
from neuralcodes.models.stages import check_layers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Family:
    model_class: str  # the transformers class that loads it
    codes: tuple[str, ...]  # the named codes it offers (besides block<N>), default first
    conv: bool = False  # a conv net: channels-last helps, blocks are average-pooled maps


FAMILIES = {
    "dinov2": Family("Dinov2Model", ("cls", "pooled", "patch-mean")),
    "clip": Family("CLIPVisionModelWithProjection", ("embed", "cls", "patch-mean")),
    "clip_vision_model": Family("CLIPVisionModelWithProjection", ("embed", "cls", "patch-mean")),
    "vit": Family("ViTModel", ("cls", "pooled", "patch-mean")),
    "resnet": Family("ResNetModel", ("pooled",), conv=True),
    "convnext": Family("ConvNextModel", ("pooled",), conv=True),
}
GENERIC = Family("AutoModel", ("pooled", "cls"))
# missing weights that only take a code away (a classification checkpoint has no pooler)
OPTIONAL_WEIGHTS = {"pooler.": "pooled", "visual_projection.": "embed"}


class HFCodes(nn.Module):
    """A transformers vision model with the feature contract: named codes of [0, 1] pixels."""

    def __init__(self, model: nn.Module, model_type: str, family: Family, pre: Preprocess,
                 codes: Sequence[str]) -> None:
        super().__init__()
        self.model: Any = model
        self.model_type = model_type
        self.family = family
        self.preprocess = pre  # how images become its input (the normalisation is applied here)
        self.is_clip = family.model_class == "CLIPVisionModelWithProjection"
        self.layer_names: tuple[str, ...] = tuple(codes)
        mean, std = torch.tensor(pre.mean), torch.tensor(pre.std)
        # pixel in [0, 1] -> (pixel * 255 * rescale - mean) / std, one multiply-add
        self.register_buffer("scale", (255.0 * pre.rescale / std).view(1, 3, 1, 1), False)
        self.register_buffer("shift", (-mean / std).view(1, 3, 1, 1), False)
        self._dims: dict[str, int] = {}

    def pixel_values(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 3, S, S) in [0, 1] -> the model's normalised ``pixel_values``."""
        return x * self.get_buffer("scale") + self.get_buffer("shift")

    def outputs(self, pixels: torch.Tensor, hidden: bool) -> dict[str, Any]:
        """The model's outputs (``last_hidden_state``, ``pooler_output``, ``image_embeds``...)."""
        if self.is_clip:
            vision = self.model.vision_model(pixel_values=pixels, output_hidden_states=hidden)
            out = dict(vision)
            if "embed" in self.layer_names:
                out["image_embeds"] = self.model.visual_projection(vision.pooler_output)
            return out
        return dict(self.model(pixel_values=pixels, output_hidden_states=hidden))

    def forward_codes(self, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Raw (not normalised) (B, D) codes of the named layers, one forward pass."""
        check_layers(layers, self.layer_names)
        hidden = any(name.startswith("block") for name in layers)
        out = self.outputs(self.pixel_values(x), hidden)
        return {name: code(name, out, self.is_clip) for name in layers}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_codes(x, self.layer_names[:1])[self.layer_names[0]]

    def code_dims(self, layer: str) -> int:
        check_layers([layer], self.layer_names)
        return self._dims[layer]


def code(name: str, out: dict[str, Any], is_clip: bool) -> torch.Tensor:
    """The named code (B, D) from a model's outputs."""
    if name == "cls":
        return out["pooler_output"] if is_clip else out["last_hidden_state"][:, 0]
    if name == "pooled":
        return torch.flatten(out["pooler_output"], 1)  # ResNet: (B, C, 1, 1)
    if name == "patch-mean":
        return out["last_hidden_state"][:, 1:].mean(dim=1)  # (B, T, C) -> (B, C)
    if name == "embed":
        return out["image_embeds"]
    h = out["hidden_states"][int(name[5:])]  # "block3" -> hidden_states[3]
    return h[:, 0] if h.ndim == 3 else h.mean(dim=(2, 3))


def load_folder(files: ModelFolder) -> HFCodes:
    """A model folder (local or a hub snapshot) -> ``HFCodes`` in eval mode, on the CPU."""
    transformers = require_transformers()
    check_files(files)
    folder = files.folder
    preprocess = from_processor_config(read_json(folder / "preprocessor_config.json"),
                                       str(folder / "preprocessor_config.json"))
    with quiet(transformers):
        try:
            config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
        except Exception as e:  # unknown model_type, custom code, broken JSON...
            raise DataError(folder / "config.json", f"cannot read the model configuration "
                            f"({type(e).__name__}: {e})") from None
        family = FAMILIES.get(config.model_type, GENERIC)
        model, missing = _from_pretrained(transformers, family, config, files)
    codes = _available(family, missing, folder)
    wrapped = HFCodes(model.float().eval(), str(config.model_type), family, preprocess, codes)
    _probe(wrapped, preprocess.size)
    if family.conv:
        wrapped.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return wrapped


def _from_pretrained(transformers: Any, family: Family, config: Any,
                     files: ModelFolder) -> tuple[nn.Module, set[str]]:
    cls = getattr(transformers, family.model_class)
    kwargs: dict[str, Any] = {"local_files_only": True, "output_loading_info": True}
    if config.model_type == "clip":  # the vision tower of a full CLIP checkpoint
        vision = config.vision_config
        vision.projection_dim = config.projection_dim
        kwargs["config"] = vision
    try:
        model, info = cls.from_pretrained(files.folder, **kwargs)
    except Exception as e:  # transformers raises many kinds for broken or foreign weights
        raise DataError(files.folder, f"cannot load the model ({type(e).__name__}: {e})") from None
    return model, set(info.get("missing_keys", ()))


def _available(family: Family, missing: set[str], folder: Any) -> list[str]:
    """The family's codes less those whose weights the checkpoint lacks; refuses other gaps."""
    lost = {code for prefix, code in OPTIONAL_WEIGHTS.items()
            if any(k.startswith(prefix) for k in missing)}
    other = sorted(k for k in missing if not k.startswith(tuple(OPTIONAL_WEIGHTS)))
    if other:
        raise DataError(folder, f"the weights lack {len(other)} parameters of the network "
                        f"({', '.join(other[:5])}...): not a complete checkpoint of this model")
    if lost:
        log.info("%s: no weights for %s: those codes are not offered", folder, sorted(lost))
    return [c for c in family.codes if c not in lost]


def _probe(net: HFCodes, size: int) -> None:
    """One blank image through the network: which codes exist, their lengths, the blocks."""
    with torch.inference_mode():
        out = net.outputs(torch.zeros(1, 3, size, size), hidden=True)
        blocks = [f"block{i}" for i in range(1, len(out.get("hidden_states") or ()))]
        names = [c for c in net.layer_names if _has(c, out, net.is_clip)] + blocks
        net._dims = {n: int(code(n, out, net.is_clip).shape[1]) for n in names}
    if not names:
        raise DataError(net.model_type, "the model gives no output to take codes from")
    net.layer_names = tuple(names)


def _has(name: str, out: dict[str, Any], is_clip: bool) -> bool:
    key = {"pooled": "pooler_output", "embed": "image_embeds"}.get(name, "last_hidden_state")
    value = out.get("pooler_output" if (name == "cls" and is_clip) else key)
    return value is not None and (name != "cls" or is_clip or value.ndim == 3)


@contextlib.contextmanager
def quiet(transformers: Any) -> Iterator[None]:
    """transformers' loading reports and progress bars off for the block (the library logs)."""
    tlog = transformers.utils.logging
    bars = tlog.is_progress_bar_enabled()
    tlog.disable_progress_bar()
    try:
        with silenced("transformers", level=logging.ERROR):
            yield
    finally:
        if bars:
            tlog.enable_progress_bar()
