"""Images -> codes for a benchmark: what a benchmark needs of a network, and batched encoding.

Any object with the members of ``ImageEncoder`` can be benchmarked: a run folder's network,
ImageNet AlexNet, a Hugging Face model. Nothing here depends on how the codes are made; the
benchmark only loads images through the encoder (so that each network applies its own
preprocessing) and encodes them in batches.

Decoding (Pillow, which releases the GIL) runs in ``workers`` threads while the previous batch
is encoded. A query crop is cut from the image as stored, in the ground truth's pixel
coordinates (Pillow's ``crop``, which rounds the box and fills any part outside the image with
black, as the official revisitop code does), and only then handed to the encoder, which applies
the network's own preprocessing (EXIF orientation, resizing) to the crop. A query that is a
database image, uncropped, reuses that image's code (``encode_dataset``).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image

from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import BBox, Dataset
from neuralcodes.encoder import batch_encode
from neuralcodes.errors import DataError
from neuralcodes.images import image_errors, open_image
from neuralcodes.images.readfile import default_workers
from neuralcodes.progress import Progress

Source = tuple[Path, BBox | None]  # an image file and the box to crop it to (None: whole)


@dataclass(frozen=True)
class Codes:
    """A benchmark's codes as scored: the database's and the queries', after PCA if asked."""

    database: np.ndarray  # (N, D) float32
    queries: np.ndarray  # (Q, D) float32
    valid: np.ndarray  # (N,) bool: readable database images
    skipped: list[str]  # names of the unreadable ones
    pca: dict[str, Any] | None = None


@runtime_checkable
class ImageEncoder(Protocol):
    """Images -> L2-normalised neural codes of one layer."""

    @property
    def layer(self) -> str:
        """The name of the code (e.g. ``"L6"``)."""
        ...

    @property
    def dim(self) -> int:
        """The length D of one code."""
        ...

    def load(self, src: str | Path | Image.Image) -> np.ndarray:
        """An image file or a PIL image (e.g. a query crop) -> (S, S, 3) uint8 network input."""
        ...

    def encode(self, images: np.ndarray) -> np.ndarray:
        """(N, S, S, 3) uint8 -> (N, D) float32, each row L2-normalised."""
        ...

    def fingerprint(self) -> dict[str, Any]:
        """What made the codes (recorded in every result, so that results can be compared)."""
        ...


def crop(file: Path, bbox: BBox) -> Image.Image:
    """The box ``bbox`` (x1, y1, x2, y2) of the image ``file`` as stored (no EXIF rotation)."""
    img = open_image(file)
    with image_errors(file):
        return img.crop(bbox)


def load(encoder: ImageEncoder, source: Source) -> np.ndarray:
    """One source -> (S, S, 3) uint8 network input."""
    file, bbox = source
    try:
        return encoder.load(file if bbox is None else crop(file, bbox))
    except OSError as e:  # an encoder's load may raise it instead of a DataError
        raise DataError(file, str(e)) from e


def encode_sources(
    encoder: ImageEncoder,
    sources: Sequence[Source],
    config: BenchmarkConfig,
    *,
    what: str,
    progress: Progress | None = None,
) -> tuple[np.ndarray, dict[int, str]]:
    """Codes (M, D) float32 of ``sources`` and ``{index: problem}`` of those that could not be
    read (their rows stay zero; the caller decides whether that is fatal), in batches of
    ``config.batch_size`` decoded by ``config.workers`` threads (``encoder.batch_encode``)."""
    found = batch_encode(sources, functools.partial(load, encoder), encoder.encode,
                         int(encoder.dim), batch_size=config.batch_size,
                         workers=config.workers or default_workers(), progress=progress,
                         desc=f"encode {what}")
    codes = np.zeros((len(sources), found.codes.shape[1]), np.float32)  # (M, D)
    codes[found.ok] = found.codes
    failed = np.flatnonzero(~found.ok).tolist()
    return codes, {i: e.problem for i, e in zip(failed, found.errors, strict=True)}


def encode_dataset(dataset: Dataset, encoder: ImageEncoder, config: BenchmarkConfig,
                   progress: Progress | None = None) -> Codes:
    """Codes of the database and of the queries; an unreadable query is fatal."""
    db, failed = encode_sources(encoder, [(f, None) for f in dataset.files], config,
                                what="database", progress=progress)  # (N, D)
    own = [i for i, q in enumerate(dataset.queries) if q.bbox is None and q.db_index is not None]
    reused = set(own)  # queries that are database images: their codes are reused
    other = [i for i in range(len(dataset.queries)) if i not in reused]
    queries = np.zeros((len(dataset.queries), db.shape[1]), np.float32)  # (Q, D)
    for i in own:
        index = dataset.queries[i].db_index
        assert index is not None
        if index in failed:
            raise DataError(dataset.files[index], f"a query image cannot be read: {failed[index]}")
        queries[i] = db[index]
    sources = [(dataset.queries[i].file, dataset.queries[i].bbox) for i in other]
    encoded, q_failed = encode_sources(encoder, sources, config, what="queries",
                                       progress=progress)
    if q_failed:
        first = min(q_failed)
        raise DataError(sources[first][0], f"a query image cannot be read: {q_failed[first]}")
    queries[other] = encoded
    valid = np.ones(len(dataset.files), dtype=bool)
    valid[list(failed)] = False
    return Codes(db, queries, valid, [dataset.names[i] for i in sorted(failed)])


def compress(codes: Codes, config: BenchmarkConfig, encoder: ImageEncoder, fit_files: list[Path],
             progress: Progress | None = None) -> Codes:
    """PCA (fitted on ``fit_files``, or on the database itself with ``self``) applied to both."""
    from neuralcodes.postprocess.pca import apply_pca, fit_pca  # (the package imports torch)

    assert config.pca is not None
    if config.pca_on_self:
        fit = codes.database[codes.valid]  # (N', D)
    else:
        x, failed = encode_sources(encoder, [(f, None) for f in fit_files], config,
                                   what="PCA fit set", progress=progress)
        fit = np.delete(x, list(failed), axis=0)  # (n_fit, D)
    fitted_on = "self" if config.pca_on_self else str(config.pca_fit_on)
    pca = fit_pca(fit, config.pca, whiten=config.whiten,
                  fitted_on={"benchmark": config.name, "on": fitted_on, "n": len(fit)})
    info = {"dims": config.pca, "whiten": config.whiten, "fitted_on": fitted_on,
            "on_database": config.pca_on_self, "n_fit": len(fit), "model": pca}
    return Codes(apply_pca(pca, codes.database), apply_pca(pca, codes.queries), codes.valid,
                 codes.skipped, info)
