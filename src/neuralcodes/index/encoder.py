"""The image encoder of an index: a trained run's network, one layer, L2-normalised codes.

An ``Encoder`` is described entirely by its settings (run folder, layer, device, batch size,
precision); the network is loaded on first use and dropped when pickled, so an encoder can be
sent to worker processes and rebuilt there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neuralcodes.errors import ConfigError
from neuralcodes.runs import RunDir, best_layer, latest_run, require_model

if TYPE_CHECKING:
    from neuralcodes.model import LoadedModel

@dataclass
class Encoder:
    """Images (N, S, S, 3) uint8 -> neural codes (N, D) float32 of one layer of a trained run."""

    run_dir: Path
    layer: str
    device: str = "auto"
    batch_size: int = 256
    precision: str = "fp32"
    _loaded: LoadedModel | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_run(
        cls,
        run_dir: str | Path | None = None,
        *,
        layer: str | None = None,
        device: str = "auto",
        batch_size: int = 256,
        precision: str = "fp32",
    ) -> Encoder:
        """The encoder of ``run_dir`` (default: the newest run); ``layer`` defaults to the
        layer with the best out-of-domain mAP in the run's metrics.json, else L6."""
        run = Path(run_dir) if run_dir is not None else latest_run()
        require_model(run)
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        enc = cls(run.resolve(), layer or "", device, batch_size, precision)
        names: tuple[str, ...] = tuple(getattr(enc.loaded.model, "layer_names", ()))
        enc.layer = layer or best_layer(RunDir(run), names)
        if enc.layer not in names:
            raise ConfigError(f"unknown layer {enc.layer!r}; the model has layers {list(names)}")
        return enc

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_loaded"] = None  # rebuilt from run_dir in the receiving process
        return state

    @property
    def loaded(self) -> LoadedModel:
        """The network (loaded once, in eval mode, on the chosen device)."""
        if self._loaded is None:
            from neuralcodes.device import pick_device
            from neuralcodes.model import load_model

            loaded = load_model(RunDir(self.run_dir).model, map_location=pick_device(self.device))
            loaded.model.eval()
            self._loaded = loaded
        return self._loaded

    @property
    def image_size(self) -> int:
        return int(self.loaded.config.image_size)

    @property
    def dim(self) -> int:
        """The length D of one code."""
        model: Any = self.loaded.model
        return int(model.code_dims(self.layer))

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
        codes = extract_codes(
            self.loaded.model, images, [self.layer], batch_size=self.batch_size, device=device,
            precision=resolve_precision(self.precision, device), normalize=True,
        )[self.layer]
        return np.ascontiguousarray(codes, dtype=np.float32).reshape(len(images), -1)

    def fingerprint(self) -> dict[str, Any]:
        """What an index built with this encoder must record and match."""
        header = self.loaded.header
        return {
            "model_hash": header["model_hash"],
            "model_name": header.get("model_name", self.loaded.config.name),
            "layer": self.layer,
            "image_size": self.image_size,
            "code_dim": self.dim,
        }
