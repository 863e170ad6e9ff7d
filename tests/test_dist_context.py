"""The single-process context: rank 0 of 1, every row, the batch-mean loss, sums untouched."""

from __future__ import annotations

import torch

from neuralcodes.dist_context import SINGLE, DistContext


def test_the_single_process_context_changes_nothing() -> None:
    assert isinstance(SINGLE, DistContext)
    assert (SINGLE.rank, SINGLE.world_size, SINGLE.is_main) == (0, 1, True)
    assert SINGLE.device(torch.device("cpu")) == torch.device("cpu")
    rows = torch.arange(7)
    assert SINGLE.rows(7) == slice(0, 7) and rows[SINGLE.rows(7)].tolist() == list(range(7))
    assert SINGLE.loss_scale(7) is None  # the loss stays the batch mean
    model = torch.nn.Linear(2, 2)
    with SINGLE.wrap(model) as net:
        assert net is model
    sums = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    assert SINGLE.sum(sums) is sums
    SINGLE.begin_batch(7)
    SINGLE.barrier()
