"""Decoding uploads with bounded memory: a few at a time, at reduced size, memory given back.

A 200 KB PNG can declare 64 megapixels: 192 MB once decoded, and every full-size copy made
after that (orientation, colour conversion, transparency) as much again. So an upload is

- decoded on a small pool of threads of its own (``DecodePool``): a queue of uploads waits there,
  never in front of a search by id, which needs no decoding;
- decoded at reduced size (``decode_reduced``): JPEG by DCT scaling (``draft``), any other format
  reduced by an integer factor right after decoding, before any full-size copy is made, keeping
  at least ``REDUCING_GAP`` times the network's input on the short side (what the final Lanczos
  resize of ``fit_square`` would reduce to anyway);
- followed by ``neuralcodes.allocator.release_memory`` after a large decode: glibc keeps freed
  blocks in its arenas (RSS stays up at several GB after many uploads) unless asked to give them
  back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from neuralcodes.images import ImagePolicy, image_errors, open_image
from neuralcodes.images.policy import as_policy
from neuralcodes.images.resize import prepare

if TYPE_CHECKING:
    from PIL import Image

T = TypeVar("T")
REDUCING_GAP = 3  # as fit_square's resize: reduce to >= 3 x the input size, then Lanczos
LARGE_PIXELS = 4_000_000  # after decoding more than this, give freed memory back


class DecodePool:
    """At most ``workers`` jobs at a time, on threads of their own, awaited from async code
    (the threads start with the first job, and again after ``shutdown``)."""

    def __init__(self, workers: int, name: str) -> None:
        self.workers, self.name = workers, name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers,
                                                thread_name_prefix=f"neuralcodes-{self.name}")
            future = self._pool.submit(fn, *args)
        return await asyncio.wrap_future(future)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def decode_reduced(data: bytes, policy: ImagePolicy | int, *, max_pixels: int) -> Image.Image:
    """The image in ``data``, decoded, upright, its short side reduced to no less than
    ``REDUCING_GAP`` times what the index's image policy needs (R before a crop, else S) where
    it was larger; ``DataError`` if it does not decode.

    Decoded by ``neuralcodes.images`` (the policy's reduced decoding: JPEG draft, EXIF
    orientation never fatal, "L", "RGB" or "RGBA"; any failure an ``ImageError``). An int S
    stands for the photo policy at S."""
    name = "<uploaded bytes>"
    policy = as_policy(policy)
    img = open_image(data, max_pixels=max_pixels, name=name)  # header only
    with image_errors(name, "damaged pixel data"):
        img = prepare(img, policy)
        if not policy.reduced_decoding or policy.fit == "centre-crop":
            return img  # pixel-exact policies: nothing reduced
        factor = min(img.size) // (REDUCING_GAP * policy.target)
        return img.reduce(factor) if factor >= 2 else img
