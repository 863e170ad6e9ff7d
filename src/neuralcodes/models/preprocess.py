"""A pretrained network's image preprocessing: resize, centre crop, resampling filter, mean/std.

``Preprocess`` records the policy (what an index manifest keeps and checks): its geometry is an
``ImagePolicy`` of ``neuralcodes.images`` (``image_policy``), applied there by the one image
pipeline (``load_image(src, pre.image_policy)``); the mean/std normalisation is part of the
network input, applied on the device by the network wrapper.

Geometry, as Hugging Face image processors and torchvision do it: resize the shorter side to R
(the longer one to ``int(R * long / short)``) or both sides to R x R, then cut the centred S x S
square, with Pillow and the processor's filter: the same pixels as the model's own processor
(``transformers``' Pillow image processors; torchvision's ``Resize`` + ``CenterCrop`` for AlexNet).

Speed (``reducing_gap``, Pillow's own parameter): a JPEG is decoded at the smallest DCT scale
(1/2, 1/4, 1/8) whose image still covers ``reducing_gap`` x R on both sides (Pillow's ``draft``,
as ``Image.thumbnail`` does), and the resize first reduces by an integer factor while the image
stays ``reducing_gap`` times larger than the target. ``None``: full decode and the plain filter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, get_args

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images.policy import CropOffset, Fit, ImagePolicy, network_policy
from neuralcodes.images.policy import Resample as Filter

ResizeMode = Literal["shorter", "exact", "none"]
PIL_CODES = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_REDUCING_GAP = 2.0


@dataclass(frozen=True)
class Preprocess:
    """How an image becomes the network's (S, S, 3) input, and the normalisation after it.

    Network input = (pixel * ``rescale`` - ``mean``) / ``std`` per channel, on the device.
    """

    size: int  # S: the centre crop, the network's input side
    resize: ResizeMode  # "shorter": shorter side to resize_to; "exact": R x R; "none"
    resize_to: int  # R
    resample: Filter
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    rescale: float = 1 / 255
    crop_offset: CropOffset = "floor"  # HF: (h - S) // 2; torchvision: round((h - S) / 2)
    reducing_gap: float | None = DEFAULT_REDUCING_GAP
    source: str = ""  # where the values come from (for people; not compared)

    def __post_init__(self) -> None:
        _choice("resize", self.resize, ResizeMode)
        _choice("resample", self.resample, Filter)
        _choice("crop_offset", self.crop_offset, CropOffset)
        if self.size < 1 or self.resize_to < 1:
            raise ConfigError(f"preprocessing sizes must be positive, got {self.size}, "
                              f"{self.resize_to}")
        if self.resize != "none" and self.resize_to < self.size:
            raise ConfigError(f"resize to {self.resize_to} is smaller than the {self.size} crop")
        if len(self.mean) != 3 or len(self.std) != 3 or min(self.std) <= 0:
            raise ConfigError(f"mean and std need 3 values, std > 0; got {self.mean}, {self.std}")
        if self.reducing_gap is not None and self.reducing_gap < 1:
            raise ConfigError(f"reducing_gap must be at least 1 or None, got {self.reducing_gap}")

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON values, without ``source`` (what a fingerprint compares)."""
        out = asdict(self)
        out.pop("source")
        out["mean"], out["std"] = list(self.mean), list(self.std)
        return out

    @functools.cached_property
    def image_policy(self) -> ImagePolicy:
        """The geometry as the image pipeline's policy (what decodes images for this network)."""
        fits: dict[str, Fit] = {"shorter": "shorter-side-crop", "exact": "stretch-crop",
                                "none": "centre-crop"}
        fit = fits[self.resize]
        if fit == "stretch-crop" and self.resize_to == self.size:
            fit = "stretch"
        resize = self.resize_to if fit in ("shorter-side-crop", "stretch-crop") else None
        return network_policy(self.source or "network", self.size, resize=resize,
                              resample=self.resample, fit=fit, crop_offset=self.crop_offset,
                              reducing_gap=self.reducing_gap)


def _choice(name: str, value: str, kind: Any) -> None:
    if value not in get_args(kind):
        raise ConfigError(f"unknown {name} {value!r}; choose one of {list(get_args(kind))}")


def alexnet_preprocess() -> Preprocess:
    """torchvision's ImageNet convention: shorter side 256, centre crop 224, bilinear."""
    return Preprocess(224, "shorter", 256, "bilinear", IMAGENET_MEAN, IMAGENET_STD,
                      crop_offset="round", source="torchvision ImageNet evaluation transform")


def from_processor_config(cfg: Mapping[str, Any], source: str) -> Preprocess:
    """The preprocessing of a Hugging Face ``preprocessor_config.json`` (as a dict).

    Understands the image processors of the supported families (ViT, BiT/DINOv2, CLIP, ConvNeXt
    and ResNet's ``crop_pct``), their legacy ``FeatureExtractor`` forms (``size: 224``) and the
    usual keys of others; a square input is required.
    """
    kind = _processor_kind(cfg)
    defaults = _TYPE_DEFAULTS.get(kind, _GENERIC)
    get = lambda key: cfg.get(key, defaults.get(key))  # noqa: E731
    size = _size_dict(cfg.get("size", defaults["size"]), bool(defaults["square"]), source)
    if not get("do_resize"):
        mode: ResizeMode = "none"
    elif "shortest_edge" in size:
        mode = "shorter"
    else:
        mode = "exact"
    resize_to = int(size.get("shortest_edge") or size["height"])
    crop = resize_to
    if kind == "ConvNextImageProcessor" and mode == "shorter":
        if resize_to < 384:  # ConvNeXt: resize to R / crop_pct, crop R; else warp to R x R
            crop, resize_to = resize_to, int(resize_to / float(get("crop_pct") or 0.875))
        else:
            mode = "exact"
    elif get("do_center_crop"):
        crop_size = _size_dict(cfg.get("crop_size", defaults.get("crop_size", 224)), True, source)
        crop = int(crop_size["height"])
    mean, std = _normalisation(cfg, defaults, source)
    rescale = float(get("rescale_factor") or 1 / 255) if get("do_rescale") else 1.0
    resample = PIL_CODES.get(int(get("resample")))
    if resample is None:
        raise DataError(source, f"unknown resample code {get('resample')!r}")
    return Preprocess(crop, mode, resize_to if mode != "none" else crop, resample,  # type: ignore[arg-type]
                      mean, std, rescale, "floor", source=f"{source} ({kind or 'no type'})")


def _processor_kind(cfg: Mapping[str, Any]) -> str:
    """``BitImageProcessor`` from ``BitImageProcessorFast``, ``ViTFeatureExtractor``..."""
    name = str(cfg.get("image_processor_type") or cfg.get("feature_extractor_type") or "")
    name = name.replace("FeatureExtractor", "ImageProcessor")
    for suffix in ("Fast", "Pil"):
        name = name.removesuffix(suffix)
    return name


def _size_dict(size: Any, square: bool, source: str) -> dict[str, int]:
    """HF's ``get_size_dict``: an int is a square, or the shorter side when not ``square``."""
    if isinstance(size, int | float):
        return {"height": int(size), "width": int(size)} if square else {"shortest_edge": int(size)}
    if isinstance(size, Mapping):
        if "shortest_edge" in size:
            return {"shortest_edge": int(size["shortest_edge"])}
        if "height" in size and "width" in size:
            if int(size["height"]) != int(size["width"]):
                raise DataError(source, f"non-square input size {dict(size)}: not supported")
            return {"height": int(size["height"]), "width": int(size["width"])}
    raise DataError(source, f"cannot read the image size {size!r}")


def _normalisation(cfg: Mapping[str, Any], defaults: Mapping[str, Any],
                   source: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    if not cfg.get("do_normalize", defaults.get("do_normalize")):
        return (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    mean, std = cfg.get("image_mean", defaults.get("mean")), cfg.get("image_std",
                                                                      defaults.get("std"))
    if mean is None or std is None:
        raise DataError(source, "normalisation asked for, but no image_mean/image_std given")
    mean = [float(mean)] * 3 if isinstance(mean, int | float) else [float(v) for v in mean]
    std = [float(std)] * 3 if isinstance(std, int | float) else [float(v) for v in std]
    if len(mean) != 3 or len(std) != 3:
        raise DataError(source, f"image_mean/image_std need 3 values, got {mean}, {std}")
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


_HALF = (0.5, 0.5, 0.5)
_OPENAI = ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
_COMMON = {"do_resize": True, "do_rescale": True, "do_normalize": True}
# the class defaults of the processors of the supported families (used for keys a file omits)
_TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "ViTImageProcessor": {**_COMMON, "square": True, "size": 224, "resample": 2,
                          "do_center_crop": False, "mean": _HALF, "std": _HALF},
    "BitImageProcessor": {**_COMMON, "square": False, "size": 224, "resample": 3,
                          "do_center_crop": True, "mean": _OPENAI[0], "std": _OPENAI[1]},
    "CLIPImageProcessor": {**_COMMON, "square": False, "size": 224, "resample": 3,
                           "do_center_crop": True, "mean": _OPENAI[0], "std": _OPENAI[1]},
    "ConvNextImageProcessor": {**_COMMON, "square": False, "size": 384, "resample": 3,
                               "crop_pct": 224 / 256, "mean": _HALF, "std": _HALF},
}
_GENERIC: dict[str, Any] = {**_COMMON, "square": True, "size": 224, "resample": 2,
                            "do_center_crop": False}
