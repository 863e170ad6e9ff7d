"""``uint8`` NHWC image batches to network input, and the augment recipe's crops and flips.

Pixels travel to the device as ``uint8`` (4x fewer bytes than float32) and are converted there.
An NHWC buffer viewed as NCHW *is* the channels-last layout: the channels-last path copies nothing.
``BatchFeeder`` keeps the model from waiting on data: the next batch is gathered while the model
works on this one, or, on a GPU with room for it, the whole ``uint8`` set lives on the device.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

DEVICE_DATA_FRACTION = 0.5  # keep the training images on a GPU if they take at most this much


def to_input(
    batch: np.ndarray | torch.Tensor,
    device: str | torch.device,
    *,
    channels_last: bool = False,
) -> torch.Tensor:
    """(B, H, W, 3) ``uint8`` pixels -> (B, 3, H, W) ``float32`` in [0, 1] on ``device``.

    The division by 255 matches the notebook's ``x / 255.0``. With ``channels_last`` the result
    is in ``torch.channels_last`` memory format (no copy beyond the float conversion).
    """
    import torch

    t = _from_numpy(batch) if isinstance(batch, np.ndarray) else batch
    if t.dtype != torch.uint8 or t.ndim != 4 or t.shape[-1] != 3:
        raise ValueError(f"expected uint8 (B, H, W, 3) images, got {t.dtype} {tuple(t.shape)}")
    t = t.to(device, non_blocking=True)  # (B, H, W, 3) uint8
    x = t.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)  # (B, 3, H, W), NHWC strides
    if channels_last:
        return x.contiguous(memory_format=torch.channels_last)  # already is: no copy
    return x.contiguous()


def _from_numpy(batch: np.ndarray) -> torch.Tensor:
    """A tensor sharing ``batch``'s memory; read-only memory maps are fine (never written to)."""
    import torch

    batch = np.ascontiguousarray(batch)
    if batch.flags.writeable:
        return torch.from_numpy(batch)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(batch)


def random_crop_flip(x: torch.Tensor, rng: np.random.Generator, *, pad: int = 4) -> torch.Tensor:
    """Random ``pad``-pixel shifted crops (reflect padding) and horizontal flips of a batch.

    ``x``: (B, C, H, W) float; each image gets its own offset and flip, drawn from ``rng`` so a
    seeded run (and a resumed one) sees the same augmentations. One gather on the device, no loop.
    """
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")  # (B, C, H+2p, W+2p)
    offsets = rng.integers(0, 2 * pad + 1, size=(2, b))  # (2, B): row and column shifts
    flips = rng.random(b) < 0.5  # (B,)
    dev = x.device
    rows = torch.from_numpy(offsets[0]).to(dev)[:, None] + torch.arange(h, device=dev)  # (B, H)
    cols = torch.arange(w, device=dev).expand(b, w).clone()  # (B, W)
    flip_t = torch.from_numpy(flips).to(dev)
    cols[flip_t] = cols[flip_t].flip(1)
    cols = cols + torch.from_numpy(offsets[1]).to(dev)[:, None]
    batch_idx = torch.arange(b, device=dev)[:, None, None]  # (B, 1, 1)
    out = padded[batch_idx, :, rows[:, :, None], cols[:, None, :]]  # (B, H, W, C)
    out = out.permute(0, 3, 1, 2)  # (B, C, H, W), channels-last strides
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return out.contiguous(memory_format=torch.channels_last)
    return out.contiguous()


def fits_on_device(nbytes: int, device: torch.device, free_bytes: int | None = None) -> bool:
    """Whether ``nbytes`` of images should live on ``device``: a CUDA GPU with room to spare.

    ``free_bytes`` defaults to the GPU's free memory; at most ``DEVICE_DATA_FRACTION`` of it is
    used, leaving the rest to the network's activations. Never on the CPU (nothing to gain).
    """
    import torch

    if device.type != "cuda":
        return False
    if free_bytes is None:
        free_bytes = torch.cuda.mem_get_info(device)[0]
    return nbytes <= DEVICE_DATA_FRACTION * free_bytes


class BatchFeeder:
    """Training batches ``(x (B, 3, H, W) float32, y (B,) int64)`` on ``device``, one ahead.

    Host mode: a background thread copies the next batch's rows out of the (memory-mapped)
    ``uint8`` arrays, into pinned memory on CUDA so that the upload overlaps the step. Device mode
    (``on_device``): the whole ``uint8`` set is uploaded once and batches are gathered on the
    device. ``wait`` adds up the seconds the consumer was blocked waiting for a batch.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        device: torch.device,
        *,
        channels_last: bool = True,
        on_device: bool = False,
    ) -> None:
        import torch

        self.images, self.labels = images, np.asarray(labels, dtype=np.int64)  # (N, H, W, 3), (N,)
        self.device, self.channels_last, self.on_device = device, channels_last, on_device
        self.wait = 0.0
        self._pin = device.type == "cuda"
        self._x_dev: torch.Tensor | None = None
        self._y_dev: torch.Tensor | None = None
        if on_device:
            self._x_dev = _from_numpy(np.asarray(images)).to(device)  # (N, H, W, 3) uint8
            self._y_dev = torch.from_numpy(self.labels).to(device)  # (N,)

    def epoch(
        self, batches: Sequence[np.ndarray]
    ) -> Generator[tuple[torch.Tensor, torch.Tensor], None, None]:
        """The batches of row indices ``batches`` (each sorted, for locality), in order."""
        if self.on_device:
            yield from self._device_batches(batches)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead: Future[tuple[torch.Tensor, torch.Tensor]] | None = None
            for i in range(len(batches)):
                if ahead is None:
                    ahead = pool.submit(self._gather, batches[i])
                t0 = time.perf_counter()
                xb, yb = ahead.result()  # (B, H, W, 3) uint8, (B,) int64, host
                self.wait += time.perf_counter() - t0
                ahead = pool.submit(self._gather, batches[i + 1]) if i + 1 < len(batches) else None
                yield self._upload(xb, yb)

    def _gather(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        x = _from_numpy(np.ascontiguousarray(self.images[idx]))  # (B, H, W, 3)
        y = torch.from_numpy(self.labels[idx])  # (B,)
        if self._pin:
            x, y = x.pin_memory(), y.pin_memory()
        return x, y

    def _upload(self, xb: torch.Tensor, yb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = to_input(xb, self.device, channels_last=self.channels_last)  # (B, 3, H, W)
        return x, yb.to(self.device, non_blocking=True)

    def _device_batches(
        self, batches: Sequence[np.ndarray]
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        import torch

        assert self._x_dev is not None and self._y_dev is not None
        for idx in batches:
            index = torch.from_numpy(np.asarray(idx, dtype=np.int64)).to(self.device)  # (B,)
            xb = self._x_dev.index_select(0, index)  # (B, H, W, 3) uint8, on the device
            yield to_input(xb, self.device, channels_last=self.channels_last), self._y_dev[index]
