"""DistributedDataParallel training: the torchrun environment, the process group, and
``DDPContext``, the ``DistContext`` under which ``neuralcodes.train.train`` (the one training loop)
runs as one rank of a DDP job. ``neuralcodes train-ddp`` is ``pipeline.training_steps.train_step``
with this context.

Equivalence with single-process training (same global batch, same seed) rests on three rules:

1. Every rank draws the same shuffle (``TrainConfig.seed``) and so the same global batches; rank
   ``r`` takes the contiguous rows ``rank_slice(len(batch), r, world)`` of each one.
2. Each rank's loss is its *sum* of cross-entropies times ``world / global_batch``; DDP averages
   gradients over ranks, so the update is the gradient of the global batch's mean loss even when
   the last batch does not split evenly.
3. Dropout: ``GlobalBatchDropout`` draws the mask of the *whole* global batch from the (identically
   seeded) torch generator on every rank and keeps this rank's rows, so every image gets the mask
   it gets in a single-process run and the generators stay in step. On the CPU this reproduces
   ``F.dropout`` bit for bit; CUDA's fused dropout kernel draws differently, so on GPUs the curves
   agree in distribution, not bitwise.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from neuralcodes.device import model_device, pick_device
from neuralcodes.dist_context import DistContext
from neuralcodes.errors import ConfigError

TORCHRUN_VARS = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "torchrun --nproc-per-node N -m neuralcodes train-ddp RUN_DIR"


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands in the job: global rank, number of processes, rank on its node."""

    rank: int
    world_size: int
    local_rank: int


def env_from_torchrun() -> DistEnv:
    """The ``DistEnv`` of a process started by ``torchrun`` (read from its environment)."""
    missing = [name for name in TORCHRUN_VARS if name not in os.environ]
    if missing:
        raise ConfigError(f"not started by torchrun ({', '.join(missing)} unset); launch with: "
                          f"{LAUNCH_HINT}")
    env = DistEnv(int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]),
                  int(os.environ["LOCAL_RANK"]))
    if not 0 <= env.rank < env.world_size:
        raise ConfigError(f"RANK {env.rank} is outside 0..WORLD_SIZE-1 ({env.world_size})")
    return env


def rank_device(device: torch.device, env: DistEnv) -> torch.device:
    """The device of this rank: ``cuda:LOCAL_RANK`` for CUDA (one GPU per process), else as is."""
    if device.type == "cuda":
        torch.cuda.set_device(env.local_rank)
        return torch.device("cuda", env.local_rank)
    return device


@contextlib.contextmanager
def process_group(
    env: DistEnv, device: torch.device, *, init_method: str = "env://"
) -> Iterator[None]:
    """Join the job's process group (NCCL on CUDA, gloo elsewhere) and leave it afterwards."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    dist.init_process_group(backend, init_method=init_method, rank=env.rank,
                            world_size=env.world_size)
    try:
        yield
    finally:
        dist.destroy_process_group()


def rank_slice(n: int, rank: int, world_size: int) -> slice:
    """Rank ``rank``'s contiguous part of ``n`` rows (``np.array_split`` boundaries).

    The first ``n % world_size`` ranks get one row more; a rank may get none when ``n`` is
    smaller than the number of ranks.
    """
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return slice(start, start + base + (1 if rank < extra else 0))


class GlobalBatchDropout(nn.Module):
    """Dropout whose mask is drawn for the whole global batch; this rank keeps its own rows.

    ``set_rows(global_batch, rows)`` before each training forward pass; without it (or in eval
    mode) it behaves like ``nn.Dropout``.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.global_batch: int | None = None
        self.rows = slice(None)

    def set_rows(self, global_batch: int, rows: slice) -> None:
        self.global_batch, self.rows = global_batch, rows

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B_local, ...) -> (B_local, ...), zeroed with probability p and scaled by 1/(1-p)."""
        if not self.training or self.p == 0.0:
            return x
        if self.global_batch is None:
            return nn.functional.dropout(x, self.p, True)
        shape = (self.global_batch, *x.shape[1:])  # the single-process run's mask shape
        keep = 1.0 - self.p
        mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(keep).div_(keep)
        return x * mask[self.rows]


@contextlib.contextmanager
def global_dropout(model: nn.Module) -> Iterator[list[GlobalBatchDropout]]:
    """Swap every ``nn.Dropout`` of ``model`` for a ``GlobalBatchDropout``; restore on exit."""
    swapped: list[tuple[nn.Module, str, nn.Module]] = []
    created: list[GlobalBatchDropout] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                replacement = GlobalBatchDropout(child.p)
                setattr(parent, name, replacement)
                swapped.append((parent, name, child))
                created.append(replacement)
    try:
        yield created
    finally:
        for parent, name, child in swapped:
            setattr(parent, name, child)


class DDPContext(DistContext):
    """This rank of a DDP job, for ``train(..., dist=DDPContext(env))``: contiguous rows of every
    global batch, the scaled summed loss, all-reduced metrics, rank 0 writes. Build it inside
    ``process_group`` (or use ``joined``)."""

    def __init__(self, env: DistEnv) -> None:
        self.env = env
        self.rank, self.world_size = env.rank, env.world_size
        self._drops: list[GlobalBatchDropout] = []

    def device(self, device: torch.device) -> torch.device:
        return rank_device(device, self.env)

    def rows(self, n: int) -> slice:
        return rank_slice(n, self.rank, self.world_size)

    def loss_scale(self, global_batch: int) -> float | None:
        return self.world_size / global_batch

    @contextlib.contextmanager
    def wrap(self, model: nn.Module) -> Iterator[nn.Module]:
        """``model`` with global-batch dropout, wrapped in ``DistributedDataParallel``."""
        device = model_device(model)
        with global_dropout(model) as drops:
            self._drops = drops
            try:
                yield DistributedDataParallel(
                    model, device_ids=[device] if device.type == "cuda" else None)
            finally:
                self._drops = []

    def begin_batch(self, global_batch: int) -> None:
        rows = self.rows(global_batch)
        for drop in self._drops:
            drop.set_rows(global_batch, rows)

    def sum(self, sums: torch.Tensor) -> torch.Tensor:
        """All-reduced in place, then rank 0's copy everywhere (early stopping decides alike)."""
        dist.all_reduce(sums)
        dist.broadcast(sums, src=0)
        return sums

    def barrier(self) -> None:
        dist.barrier()


@contextlib.contextmanager
def joined(
    env: DistEnv, device: str | torch.device = "auto", *, init_method: str = "env://"
) -> Iterator[DDPContext]:
    """Join the job's process group for training on ``device``; yield this rank's context."""
    with process_group(env, rank_device(pick_device(device), env), init_method=init_method):
        yield DDPContext(env)
