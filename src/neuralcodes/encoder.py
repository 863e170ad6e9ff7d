"""The image encoder: any network named by a SPEC, one layer, L2-normalised codes.

    enc = open_encoder("hf:facebook/dinov2-small")           # or a run folder, "alexnet", ...
    enc.layer, enc.layers, enc.dim, enc.image_size
    pixels = enc.load("photo.jpg")                            # (S, S, 3) uint8, the net's policy
    codes = enc.encode(np.stack([pixels]))                    # (N, D) float32, rows L2-normalised
    result = enc.encode_images(paths)                         # decode in threads + encode
    check_fingerprint(index_manifest, enc)                    # refuses another network

An index records the encoder's fingerprint (``neuralcodes.models.fingerprint``) and the SPEC that
reopens its network (``spec_of``; an index written before SPECs records only its ``run_dir``,
which stays its SPEC): ``open_index_encoder`` reopens it, or another SPEC, at the recorded layer.

An ``Encoder`` is described entirely by its settings (SPEC, layer, device, batch size,
precision); the network is loaded on first use and dropped when pickled, so an encoder can be
sent to worker processes and rebuilt there. A run folder's encoder behaves as before SPECs
existed: the same codes (fp32, no channels-last) and the same fingerprint keys.

Encoding is as fast for one image (a query) as the network allows: the network is loaded once,
in eval mode, and in bf16 / fp16 its convolution and linear weights are cast once
(``codes.autocast_copy``) instead of by autocast at every call (same codes, bit for bit).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralcodes.allocator import tune_once
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images.pool import usable_cores
from neuralcodes.models.fingerprint import check_fingerprint  # noqa: F401  (docs/models.md)
from neuralcodes.models.spec import ModelSpec, Spec, parse_spec, recorded_spec
from neuralcodes.progress import Progress, ensure
from neuralcodes.runs import RunDir, best_layer, latest_run

if TYPE_CHECKING:
    from torch import nn

    from neuralcodes.images import ImagePolicy
    from neuralcodes.models.backbone import Backbone
    from neuralcodes.models.preprocess import Preprocess

log = logging.getLogger(__name__)

DEFAULT_BATCH = {"run": 256, "alexnet": 64, "hf": 32}


@dataclass(frozen=True)
class Encoded:
    """The codes of the readable images among N sources, and why the others were skipped."""

    codes: np.ndarray  # (M, D) float32, rows L2-normalised, in source order
    ok: np.ndarray  # (N,) bool: which sources the M rows are
    errors: tuple[DataError, ...] = ()  # one per unreadable source, naming it


@dataclass
class Encoder:
    """Images (N, S, S, 3) uint8 -> neural codes (N, D) float32 of one layer of one network."""

    spec: ModelSpec
    layer: str
    device: str = "auto"
    batch_size: int = 256
    precision: str = "fp32"
    channels_last: bool = False
    workers: int = 0  # decoding threads of encode_images (0: one per available core)
    _backbone: Backbone | None = field(default=None, repr=False, compare=False)
    _lower: tuple[str, nn.Module] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.spec, ModelSpec):  # a run folder path, or a SPEC string
            self.spec = parse_spec(self.spec)

    @classmethod
    def from_run(cls, run_dir: str | Path | None = None, *, layer: str | None = None,
                 device: str = "auto", batch_size: int = 256, precision: str = "fp32") -> Encoder:
        """The encoder of a run folder (default: the newest run), as before SPECs."""
        run = Path(run_dir) if run_dir is not None else latest_run()
        return open_encoder(ModelSpec("run", run), layer=layer, device=device,
                            batch_size=batch_size, precision=precision)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_backbone"] = None  # rebuilt from the spec in the receiving process
        state["_lower"] = None
        return state

    @property
    def backbone(self) -> Backbone:
        """The network (loaded once, in eval mode, on the chosen device)."""
        if self._backbone is None:
            from neuralcodes.device import pick_device
            from neuralcodes.models.backbone import open_backbone

            self._backbone = open_backbone(self.spec, pick_device(self.device))
        return self._backbone

    @property
    def run_dir(self) -> Path | None:
        """The run folder of a run folder's encoder; None for other networks."""
        return self.spec.path if self.spec.kind == "run" else None

    @property
    def image_size(self) -> int:
        return self.backbone.image_size

    @property
    def layers(self) -> tuple[str, ...]:
        """The names ``layer`` can take for this network."""
        return self.backbone.layers

    @property
    def preprocess(self) -> Preprocess | None:
        """The network's image preprocessing (None: a run folder's centre square + Lanczos)."""
        return self.backbone.preprocess

    @property
    def image_policy(self) -> ImagePolicy:
        """How ``load`` brings an image to the network's input (``neuralcodes.images``)."""
        return self.backbone.image_policy

    @property
    def dim(self) -> int:
        """The length D of one code."""
        model: Any = self.backbone.model
        return int(model.code_dims(self.layer))

    def load(self, src: Any) -> np.ndarray:
        """Any image (path, bytes, binary file, PIL image, array) -> (S, S, 3) ``uint8``."""
        return self.backbone.load(src)

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> (N, D) float32, each row L2-normalised."""
        from neuralcodes.codes import extract_codes
        from neuralcodes.device import pick_device, resolve_precision

        s = self.image_size
        if images.ndim != 4 or images.shape[1:] != (s, s, 3) or images.dtype != np.uint8:
            raise ConfigError(f"expected uint8 images (N, {s}, {s}, 3), got "
                              f"{images.dtype} {images.shape}")
        if len(images) == 0:
            return np.zeros((0, self.dim), np.float32)
        device = pick_device(self.device)
        precision = resolve_precision(self.precision, device)
        codes = extract_codes(
            self.network(precision), images, [self.layer], batch_size=self.batch_size,
            device=device, precision=precision, normalize=True, channels_last=self.channels_last,
        )[self.layer]
        return np.ascontiguousarray(codes, dtype=np.float32).reshape(len(images), -1)

    def network(self, precision: str) -> nn.Module:
        """The network ``encode`` runs in a resolved ``precision``: the backbone's model for
        fp32; for bf16 / fp16 its copy with the weights autocast would cast, cast once."""
        if precision == "fp32":
            return self.backbone.model
        if self._lower is None or self._lower[0] != precision:
            from neuralcodes.codes import autocast_copy

            self._lower = (precision, autocast_copy(self.backbone.model, precision))
        return self._lower[1]

    def encode_images(self, srcs: Sequence[Any], *, progress: Progress | None = None) -> Encoded:
        """``batch_encode`` of ``srcs`` by this network: unreadable sources skipped. Bulk work:
        the process's allocator is tuned first (``neuralcodes.allocator.tune_once``)."""
        tune_once()
        self.backbone  # noqa: B018  # loaded here, not by several decoding threads at once
        return batch_encode(srcs, self.load, self.encode, self.dim, batch_size=self.batch_size,
                            workers=self.workers or usable_cores(), progress=progress)

    def fingerprint(self) -> dict[str, Any]:
        """What an index built with this encoder must record and match."""
        fp = {**self.backbone.identity, "layer": self.layer, "image_size": self.image_size,
              "code_dim": self.dim}
        if self.preprocess is not None:
            fp["preprocess"] = self.preprocess.to_dict()
        return fp


def batch_encode(srcs: Sequence[Any], load: Callable[[Any], np.ndarray],
                 encode: Callable[[np.ndarray], np.ndarray], dim: int, *, batch_size: int,
                 workers: int, progress: Progress | None = None, desc: str = "encode") -> Encoded:
    """The codes of ``srcs``: each loaded (``load``: one source -> (S, S, 3) uint8) by one of
    ``workers`` threads, the next batch while this one is encoded (``encode``: (B, S, S, 3) ->
    (B, ``dim``)). A source whose ``load`` raises ``DataError`` is logged, reported in
    ``errors`` and skipped."""

    def attempt(src: Any) -> np.ndarray | DataError:
        try:
            return load(src)
        except DataError as e:
            log.warning("skipped %s", e)
            return e

    ok = np.zeros(len(srcs), dtype=bool)
    rows: list[np.ndarray] = []
    errors: list[DataError] = []
    with ThreadPoolExecutor(workers) as pool:
        batches = _prefetched(pool, attempt, srcs, batch_size)
        for start, loaded in ensure(progress).track(batches, -(-len(srcs) // batch_size), desc):
            good = [(i, a) for i, a in enumerate(loaded, start) if not isinstance(a, DataError)]
            errors += [e for e in loaded if isinstance(e, DataError)]
            if good:
                ok[[i for i, _ in good]] = True
                rows.append(_checked(encode(np.stack([a for _, a in good])), len(good), dim))
    codes = np.concatenate(rows) if rows else np.zeros((0, dim), np.float32)
    return Encoded(codes, ok, tuple(errors))


def _prefetched(pool: ThreadPoolExecutor, load: Callable[[Any], Any], srcs: Sequence[Any],
                batch: int) -> Iterator[tuple[int, list[Any]]]:
    """(start, loaded items) per batch; the next batch is being loaded while one is yielded."""
    pending: tuple[int, list[Future[Any]]] | None = None
    for start in [*range(0, len(srcs), batch), len(srcs)]:
        current = (start, [pool.submit(load, s) for s in srcs[start : start + batch]])
        if pending is not None:
            yield pending[0], [f.result() for f in pending[1]]
        pending = current


def _checked(codes: Any, n: int, dim: int) -> np.ndarray:
    """An encoder's output for ``n`` images as (n, ``dim``) float32; refused in another shape."""
    out = np.asarray(codes, dtype=np.float32)
    if out.shape != (n, dim):
        raise ConfigError(f"the encoder returned codes of shape {out.shape} for {n} images; "
                          f"its dim says {dim}")
    return out


def open_encoder(
    spec: Spec | None = None,
    *,
    layer: str | None = None,
    device: str = "auto",
    precision: str | None = None,
    batch_size: int | None = None,
    channels_last: bool | None = None,
    workers: int = 0,
) -> Encoder:
    """The encoder of a SPEC (default: the newest run folder), its network loaded.

    ``layer`` defaults to the network's default code (a run folder: its best layer by
    out-of-domain mAP, else L6; AlexNet: L6; a Hugging Face model: its family's default).
    ``precision`` defaults to fp32 for a run folder (today's codes, bit for bit) and to "auto"
    (bf16 where the CPU or GPU has it) for pretrained networks; ``channels_last`` to True for
    pretrained conv nets.
    """
    parsed = parse_spec(spec) if spec is not None else ModelSpec("run", latest_run())
    if parsed.kind == "run":
        assert parsed.path is not None
        parsed = ModelSpec("run", parsed.path.resolve())  # a missing model.pt: open_backbone
    run = parsed.kind == "run"
    batch, prec = _settings(parsed, batch_size, precision)
    enc = Encoder(parsed, layer or "", device, batch, prec, bool(channels_last), workers)
    names = enc.layers
    if layer is None and parsed.path is not None and run:
        layer = best_layer(RunDir(parsed.path), names)
    layer = layer or enc.backbone.default_layer
    if layer not in names:
        raise ConfigError(f"unknown layer {layer!r} for {parsed}; it has {list(names)}")
    enc.layer = layer
    enc.channels_last = enc.backbone.conv and not run if channels_last is None else channels_last
    return enc


def _settings(spec: ModelSpec, batch_size: int | None, precision: str | None) -> tuple[int, str]:
    """The batch size and precision, defaulted by kind and checked."""
    from neuralcodes.device import PRECISIONS  # (it imports torch)

    batch = batch_size if batch_size is not None else DEFAULT_BATCH[spec.kind]
    prec = precision if precision is not None else ("fp32" if spec.kind == "run" else "auto")
    if batch < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch}")
    if prec not in PRECISIONS:
        raise ConfigError(f"unknown precision {prec!r}; choose one of {list(PRECISIONS)}")
    return batch, prec


def spec_of(encoder: Encoder) -> str:
    """The SPEC that reopens ``encoder``'s network from anywhere: absolute paths, and a hub
    model pinned to the exact revision (commit) that made the codes."""
    spec = encoder.spec
    if spec.hub_id is not None:
        revision = encoder.fingerprint().get("revision") or spec.revision
        return str(ModelSpec("hf", hub_id=spec.hub_id, revision=revision))
    assert spec.path is not None
    return str(ModelSpec(spec.kind, spec.path.expanduser().resolve()))


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
