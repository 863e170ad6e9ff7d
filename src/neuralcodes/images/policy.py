"""Named resize policies: how an image becomes the ``uint8 (S, S, 3)`` RGB array a network takes.

An ``ImagePolicy`` is a frozen dataclass, validated when built, that can be written to JSON
(``to_dict``) and read back (``from_dict``) and compared (the ``name`` is a label and takes no
part in comparisons). Three kinds:

- ``tiny_cache_policy(S)`` ("tiny-cache"): the Tiny ImageNet pixel cache of the protocol, byte for
  byte as before this package existed. JPEGs are decoded by simplejpeg (libjpeg-turbo) straight
  into their row; other formats by Pillow. An image that is already S x S is kept as it is; any
  other size is stretched to S x S, bilinear, and reported. No EXIF orientation (the dataset's
  files are used as stored, as by the notebook) and no reduced decoding (the dataset's images
  are S x S already; decoding others at full size keeps the cache identical to earlier releases).
- ``photo_policy(S)`` ("photo"): for networks trained here, on photos of any shape: EXIF
  orientation, the largest centred square (the shorter side kept whole), Lanczos to S x S. The
  network was trained on whole square images, so a photo is neither padded nor stretched.
- ``network_policy(...)``: the preprocessing of a pretrained network: the shorter side resized to
  R then the centred S x S crop (``fit="shorter-side-crop"``, torchvision's Resize + CenterCrop),
  both sides resized to S x S (``fit="stretch"``), both sides to R x R then the centred S x S
  crop (``"stretch-crop"``), or only the centred S x S crop (``"centre-crop"``), with the
  resampling filter named and the crop offset floored (Hugging Face's image processors) or rounded
  (torchvision). Mean/std normalisation belongs to the network's input, not to the image policy
  (``neuralcodes.models.preprocess.Preprocess`` records both and builds its policy here).

``crop_offset`` and ``reducing_gap`` are written by ``to_dict`` only when they differ from their
defaults, so the JSON of the photo and tiny-cache policies is what it always was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, get_args

from neuralcodes.errors import ConfigError

Fit = Literal["stretch", "centre-square", "shorter-side-crop", "stretch-crop", "centre-crop"]
Resample = Literal["nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"]
JpegDecoder = Literal["pillow", "simplejpeg"]
CropOffset = Literal["round", "floor"]
RESIZED_CROPS = ("shorter-side-crop", "stretch-crop")  # the fits that take R
REDUCING_GAP = 3.0  # Pillow's advice for ``reducing_gap``: "indistinguishable" from without it


@dataclass(frozen=True)
class ImagePolicy:
    """How an image of any size becomes ``uint8 (size, size, 3)`` RGB."""

    name: str = field(compare=False)  # a label: "tiny-cache", "photo", a network's name
    size: int  # S: the output is (S, S, 3)
    fit: Fit
    resample: Resample
    resize: int | None = None  # R (>= S) of "shorter-side-crop" (shorter side), "stretch-crop"
    orient: bool = True  # apply the EXIF orientation
    reduced_decoding: bool = True  # decode large images at a reduced size (JPEG draft, reduce)
    jpeg_decoder: JpegDecoder = "pillow"
    crop_offset: CropOffset = "round"  # (R - S) / 2 rounded (torchvision) or floored (HF)
    reducing_gap: float = REDUCING_GAP  # reduced decoding keeps this many times R (or S)

    def __post_init__(self) -> None:
        _check_choice("fit", self.fit, Fit)
        _check_choice("resample", self.resample, Resample)
        _check_choice("jpeg_decoder", self.jpeg_decoder, JpegDecoder)
        _check_choice("crop_offset", self.crop_offset, CropOffset)
        if not isinstance(self.size, int) or isinstance(self.size, bool) or self.size < 1:
            raise ConfigError(f"image policy {self.name!r}: size must be a positive integer, "
                              f"got {self.size!r}")
        if (self.fit in RESIZED_CROPS) != (self.resize is not None):
            raise ConfigError(f"image policy {self.name!r}: resize (R) is needed by, and only "
                              f"by, fit='shorter-side-crop' or 'stretch-crop' (fit={self.fit!r}, "
                              f"resize={self.resize!r})")
        if self.resize is not None and (
            not isinstance(self.resize, int) or self.resize < self.size
        ):
            raise ConfigError(f"image policy {self.name!r}: resize must be an integer >= size "
                              f"{self.size}, got {self.resize!r}")
        if self.jpeg_decoder == "simplejpeg" and (self.fit != "stretch" or self.orient):
            raise ConfigError(f"image policy {self.name!r}: the simplejpeg decoder goes only "
                              "with fit='stretch' and orient=False")
        if not isinstance(self.reducing_gap, int | float) or self.reducing_gap < 1:
            raise ConfigError(f"image policy {self.name!r}: reducing_gap must be a number >= 1, "
                              f"got {self.reducing_gap!r}")

    @property
    def target(self) -> int:
        """The shorter side the image needs before its final crop or resize (R, else S)."""
        return self.resize if self.resize is not None else self.size

    def to_dict(self) -> dict[str, Any]:
        """The policy as JSON-ready fields (``from_dict`` reads them back); ``crop_offset`` and
        ``reducing_gap`` only when they are not the defaults."""
        out = asdict(self)
        for name in ("crop_offset", "reducing_gap"):
            if out[name] == _DEFAULTS[name]:
                del out[name]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImagePolicy:
        """Read a policy written by ``to_dict``; unknown or missing fields are a ``ConfigError``."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"image policy: unknown field(s) {unknown}; known: {sorted(known)}")
        try:
            return cls(**d)
        except TypeError as e:
            raise ConfigError(f"image policy: {e}") from None


def tiny_cache_policy(size: int = 64) -> ImagePolicy:
    """The Tiny ImageNet pixel cache's policy (the protocol's; see the module docstring)."""
    return ImagePolicy("tiny-cache", size, "stretch", "bilinear", orient=False,
                       reduced_decoding=False, jpeg_decoder="simplejpeg")


def photo_policy(size: int = 64) -> ImagePolicy:
    """Photos for networks trained here: upright, centred square, Lanczos to ``size``."""
    return ImagePolicy("photo", size, "centre-square", "lanczos")


def network_policy(name: str, size: int, *, resize: int | None = None,
                   resample: Resample = "bicubic", fit: Fit | None = None,
                   crop_offset: CropOffset = "round", reducing_gap: float | None = REDUCING_GAP
                   ) -> ImagePolicy:
    """A pretrained network's preprocessing: with ``resize`` R, the shorter side to R then the
    centred ``size`` crop; without, both sides stretched to ``size``. ``fit`` names another
    geometry ("stretch-crop": R x R then the crop; "centre-crop": the crop alone);
    ``reducing_gap`` None decodes at full size with the plain filter."""
    if fit is None:
        fit = "stretch" if resize is None else "shorter-side-crop"
    return ImagePolicy(name, size, fit, resample, resize=resize,
                       reduced_decoding=reducing_gap is not None and fit != "centre-crop",
                       crop_offset=crop_offset, reducing_gap=reducing_gap or REDUCING_GAP)


_DEFAULTS = {f.name: f.default for f in fields(ImagePolicy)}


def as_policy(policy: ImagePolicy | int) -> ImagePolicy:
    """A policy, or an int S standing for ``photo_policy(S)``."""
    return photo_policy(policy) if isinstance(policy, int) else policy


def _check_choice(what: str, value: object, choices: Any) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ConfigError(f"image policy: {what} must be one of {allowed}, got {value!r}")
