"""Images -> codes for a benchmark: decoding in a thread pool, encoding in batches.

Decoding (Pillow, which releases the GIL) runs in ``workers`` threads while the previous batch
is encoded. A query crop is cut from the image as stored, in the ground truth's pixel
coordinates (Pillow's ``crop``, which rounds the box and fills any part outside the image with
black, as the official revisitop code does), and only then handed to the encoder, which applies
the network's own preprocessing (EXIF orientation, resizing) to the crop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from neuralcodes.benchmarks.config import BenchmarkConfig
from neuralcodes.benchmarks.dataset import BBox
from neuralcodes.benchmarks.encoder import ImageEncoder
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.images import image_errors, open_image
from neuralcodes.images.readfile import default_workers
from neuralcodes.progress import Progress, ensure

logger = logging.getLogger(__name__)

Source = tuple[Path, BBox | None]  # an image file and the box to crop it to (None: whole)


def crop(file: Path, bbox: BBox) -> Image.Image:
    """The box ``bbox`` (x1, y1, x2, y2) of the image ``file`` as stored (no EXIF rotation)."""
    img = open_image(file)
    with image_errors(file):
        return img.crop(bbox)


def load(encoder: ImageEncoder, source: Source) -> np.ndarray:
    """One source -> (S, S, 3) uint8 network input."""
    file, bbox = source
    return encoder.load(file if bbox is None else crop(file, bbox))


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
    ``config.batch_size`` decoded by ``config.workers`` threads."""
    n, dim, batch_size = len(sources), int(encoder.dim), config.batch_size
    codes = np.zeros((n, dim), np.float32)  # (M, D)
    failed: dict[int, str] = {}
    starts = list(range(0, n, batch_size))
    with ThreadPoolExecutor(max_workers=config.workers or default_workers()) as pool:

        def submit(start: int) -> list[tuple[int, Future[np.ndarray]]]:
            stop = min(start + batch_size, n)
            return [(i, pool.submit(load, encoder, sources[i])) for i in range(start, stop)]

        pending = submit(0) if starts else []
        for b, _ in enumerate(ensure(progress).track(starts, len(starts), f"encode {what}")):
            batch, pending = pending, (submit(starts[b + 1]) if b + 1 < len(starts) else [])
            rows, images = [], []
            for i, future in batch:
                try:
                    images.append(future.result())
                    rows.append(i)
                except (DataError, OSError) as e:  # an encoder's load may raise either
                    failed[i] = e.problem if isinstance(e, DataError) else str(e)
                    logger.warning("cannot read %s: %s", sources[i][0], failed[i])
            if images:
                codes[rows] = _encode(encoder, np.stack(images), dim)  # (b, D)
    return codes, failed


def _encode(encoder: ImageEncoder, images: np.ndarray, dim: int) -> np.ndarray:
    out = np.asarray(encoder.encode(images), dtype=np.float32)
    if out.shape != (len(images), dim):
        raise ConfigError(f"the encoder returned codes of shape {out.shape} for {len(images)} "
                          f"images; its dim says {dim}")
    return out
