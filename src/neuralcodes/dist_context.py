"""Where a training process stands among the processes that train one model together.

The training loop (``neuralcodes.train``) asks a ``DistContext`` the few things that differ
between one process and several: its rank, which rows of a global batch it computes, how its
loss is scaled, how metric sums are combined, whether it writes files, and what module the
optimisation step runs. ``DistContext()`` is the single process: rank 0 of 1, every row, the
batch-mean loss, sums as they are, the model itself; it costs nothing. DistributedDataParallel
is a subclass (``neuralcodes.distributed.ddp.DDPContext``) over a torch.distributed group.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn


class DistContext:
    """One process training alone (the default); subclasses describe a job of several."""

    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes the checkpoint, the history and the model (rank 0)."""
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """This process's device for the configured ``device`` (DDP: ``cuda:LOCAL_RANK``)."""
        return device

    def rows(self, n: int) -> slice:
        """The rows of a global batch (or set) of ``n`` that this process computes."""
        return slice(0, n)

    def loss_scale(self, global_batch: int) -> float | None:
        """None: the loss is the batch mean. Else the batch *sum* times this factor, chosen so
        that the gradient averaged over ranks is the global batch's mean-loss gradient."""
        return None

    @contextlib.contextmanager
    def wrap(self, model: nn.Module) -> Iterator[nn.Module]:
        """The module the training steps run (DDP: the wrapper); ``model`` is restored after."""
        yield model

    def begin_batch(self, global_batch: int) -> None:
        """Called before each training forward pass with the size of the global batch."""

    def sum(self, sums: torch.Tensor) -> torch.Tensor:
        """(k,) per-process sums -> (k,) sums over every process, the same on every process."""
        return sums

    def barrier(self) -> None:
        """Wait until every process gets here."""


SINGLE = DistContext()
