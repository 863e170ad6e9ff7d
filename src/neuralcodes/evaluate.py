"""Cross-entropy, accuracy and top-5 accuracy of a classifier on ``uint8`` images.

The loss is Keras' sparse categorical cross-entropy of a softmax output (computed from the logits,
as Keras does inside ``fit``/``evaluate``), averaged over samples. Top-5 counts a sample as right
when its label is among the 5 largest logits (all of them when there are fewer than 5 classes).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neuralcodes.data.tensors import to_input
from neuralcodes.device import autocast, inference
from neuralcodes.progress import Progress, ensure


def batch_metrics(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(3,) float64 sums over the batch: cross-entropy, correct top-1, correct top-5.

    ``logits``: (B, K); ``labels``: (B,) int64. Sums (not means) so batches of any size add up.
    Stays on the device: no synchronisation per batch.
    """
    logits = logits.float()
    loss = F.cross_entropy(logits, labels, reduction="sum")
    top = logits.topk(min(5, logits.shape[1]), dim=1).indices  # (B, 5)
    hits = top == labels[:, None]  # (B, 5)
    top1 = (logits.argmax(dim=1) == labels).sum()  # first maximum on ties, as Keras' argmax
    top5 = hits.any(dim=1).sum()
    return torch.stack([loss.double(), top1.double(), top5.double()])


def evaluate(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
    progress: Progress | None = None,
) -> dict[str, float]:
    """``{"loss", "accuracy", "top5"}`` of ``model`` on (N, H, W, 3) ``uint8`` ``images``.

    Runs in eval mode (dropout off) under ``torch.inference_mode``; ``device=None`` uses the
    device the model is on. The model's train/eval mode is restored afterwards.
    ``channels_last`` feeds the network channels-last tensors (faster convolutions; results then
    depend on the batch size in the last bits).
    """
    if len(images) != len(labels) or len(images) == 0:
        raise ValueError(f"need as many labels as images (> 0), got {len(labels)}, {len(images)}")
    sums = metric_sums(model, images, labels, batch_size=batch_size, device=device,
                       precision=precision, channels_last=channels_last, progress=progress)
    loss, top1, top5 = (sums / len(images)).tolist()
    return {"loss": loss, "accuracy": top1, "top5": top5}


def metric_sums(
    model: nn.Module,
    images: np.ndarray,
    labels: np.ndarray,
    *,
    batch_size: int = 500,
    device: str | torch.device | None = None,
    precision: str = "fp32",
    channels_last: bool = False,
    progress: Progress | None = None,
) -> torch.Tensor:
    """``evaluate``'s (3,) float64 sums (``batch_metrics``) on the device; zeros for no images.

    Sums add up across shards of a set (distributed validation): divide by the set's size.
    """
    progress = ensure(progress)
    with inference(model, device, precision) as (dev, prec):
        sums = torch.zeros(3, dtype=torch.float64, device=dev)
        starts = range(0, len(images), batch_size)
        for start in progress.track(starts, len(starts), desc="evaluate"):
            x = to_input(images[start : start + batch_size], dev, channels_last=channels_last)
            y = torch.from_numpy(np.asarray(labels[start : start + batch_size], np.int64))
            with autocast(prec, dev):
                logits = model(x)  # (B, K)
            sums += batch_metrics(logits, y.to(dev))
    return sums.clone()  # an ordinary tensor: DDP sums it in place, outside inference mode
