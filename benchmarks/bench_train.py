"""Training-step throughput at batch 100 on the full-width model: neuralcodes against Keras.

Each measurement is a fresh process (``worker``) that trains for ``warmup + steps`` steps and
reports the median step time after the warm-up as images/s. neuralcodes is measured through its
real training loop (``neuralcodes.train.train``: data gathering, conversion, the step and its
bookkeeping), timed between the loop's steps by a ``Progress`` that stamps each one; Keras through
``model.fit`` as the notebook calls it, timed by a callback at each batch. Pixels are random (the
speed of dense convolutions does not depend on them).

neuralcodes runs with the allocator a new user gets (the tuned glibc malloc of
``neuralcodes.allocator``, applied in the worker as the command line applies it) and, for
reference, untuned glibc malloc; tcmalloc, jemalloc or mimalloc only where the library happens to
be installed. Each row also gives the minor page faults and kernel CPU seconds per step (medians
over the timed steps): the allocator's work, independent of the machine's load.

    python -m benchmarks.bench_train [--rounds 3] [--steps 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import numpy as np

from benchmarks.common import (
    DEFAULT_ALLOCATOR,
    Row,
    allocator_label,
    alternate,
    apply_allocator,
    check_allocator,
    emit,
    installed_allocators,
    mapped_allocators,
    run_worker,
    stderr_log,
    usage,
)

T = TypeVar("T")
BENCH = "training step, batch 100, full width"
BATCH = 100
NUM_CLASSES = 190


def random_batch_data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 64, 64, 3) uint8 random pixels and (n,) int64 labels in 0..189."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    return x, rng.integers(0, NUM_CLASSES, n).astype(np.int64)


class StepClock:
    """A ``Progress`` that stamps the start of every training step (``desc`` "epoch ..."): the
    time, and the process's page faults and CPU seconds (``usage``)."""

    def __init__(self) -> None:
        self.stamps: list[float] = []
        self.usages: list[dict[str, float]] = []

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        timed = desc.startswith("epoch")
        for item in items:
            if timed:
                self._stamp()
            yield item
        if timed:
            self._stamp()

    def _stamp(self) -> None:
        self.stamps.append(time.perf_counter())
        self.usages.append(usage())

    def per_step(self, key: str, warmup: int) -> float:
        """The median per-step increase of ``usage()[key]`` after the warm-up steps."""
        values = np.diff([u[key] for u in self.usages])[warmup:]
        return float(statistics.median(values))

    def update(self, **metrics: Any) -> None:
        pass

    def log(self, message: str) -> None:
        pass


def torch_worker(precision: str, channels_last: bool, warmup: int, steps: int) -> dict[str, Any]:
    """Train one epoch of ``warmup + steps`` batches with neuralcodes; median step after warm-up."""
    import torch

    from neuralcodes.config import ModelConfig, TrainConfig
    from neuralcodes.model import create_model
    from neuralcodes.train import TrainData, train

    x, y = random_batch_data((warmup + steps) * BATCH)
    data = TrainData(x, y, x[:BATCH], y[:BATCH])
    torch.manual_seed(0)
    model = create_model(ModelConfig(num_classes=NUM_CLASSES))
    cfg = TrainConfig(epochs=1, device="cpu", precision=precision, channels_last=channels_last)
    clock = StepClock()
    with tempfile.TemporaryDirectory(prefix="nc-bench-train-") as out:
        history = train(model, data, cfg, out, progress=clock)
    times = np.diff(clock.stamps)[warmup:]  # (steps,) seconds per step
    step = float(statistics.median(times))
    return {
        "images_per_s": BATCH / step,
        "step_s": step,
        "data_wait_fraction": history.records[-1]["data_wait_fraction"],
        "threads": torch.get_num_threads(),
        "faults_per_step": clock.per_step("minflt", warmup),
        "kernel_s_per_step": clock.per_step("stime", warmup),
    }


def keras_worker(warmup: int, steps: int) -> dict[str, Any]:
    """The notebook's ``model.fit`` (float32 inputs) for ``warmup + steps`` batches."""
    import tensorflow as tf
    from tensorflow import keras

    from benchmarks.peers.keras_net import build_keras_model, compile_like_notebook

    x, y = random_batch_data((warmup + steps) * BATCH)
    xf = x.astype(np.float32) / 255.0  # the notebook's float32 arrays
    tf.keras.utils.set_random_seed(0)
    model = compile_like_notebook(build_keras_model(NUM_CLASSES))
    stamps: list[float] = []

    class Clock(keras.callbacks.Callback):  # type: ignore[misc]
        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

        def on_train_end(self, logs: Any = None) -> None:
            stamps.append(time.perf_counter())

    model.fit(xf, y.astype(np.float32), batch_size=BATCH, epochs=1, callbacks=[Clock()], verbose=0)
    times = np.diff(stamps)[warmup:]
    step = float(statistics.median(times))
    return {
        "images_per_s": BATCH / step,
        "step_s": step,
        "jit_compile": str(model.jit_compile),
        "tensorflow": tf.__version__,
        "malloc": mapped_allocators(),
    }


PEER = "Keras/TensorFlow fp32"


def impl_name(precision: str, allocator: str) -> str:
    """The table's name of neuralcodes in ``precision`` with ``allocator``."""
    return f"neuralcodes {precision}, {allocator_label(allocator)}"


def variants() -> dict[str, tuple[list[str], str | None]]:
    """impl name -> (worker arguments, allocator): Keras; PyTorch's defaults; fp32 and bf16 with
    the default allocator, untuned glibc, and any allocator library installed by hand."""
    out: dict[str, tuple[list[str], str | None]] = {
        PEER: (["--impl", "keras"], None),
        "neuralcodes fp32, NCHW, glibc malloc untuned (PyTorch defaults)": (
            ["--precision", "fp32", "--nchw"], "glibc"),
    }
    for precision in ("fp32", "bf16"):
        for kind in (DEFAULT_ALLOCATOR, "glibc", *installed_allocators()):
            out[impl_name(precision, kind)] = (["--precision", precision], kind)
    return out


def compare(rounds: int = 3, warmup: int = 2, steps: int = 5, log: Any = stderr_log) -> list[Row]:
    """Alternate every variant ``rounds`` times; one row per variant (ratios against Keras)."""
    chosen = variants()
    extras: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}

    def runner(name: str) -> Any:
        args, allocator = chosen[name]

        def run() -> float:
            res = run_worker("bench_train", [*args, "--warmup", str(warmup), "--steps", str(steps)],
                             allocator=allocator)
            if allocator is not None:
                check_allocator(allocator, res["allocator"])
            extras[name].append(res)
            return float(res["images_per_s"])

        return run

    log(f"{BENCH}: {rounds} rounds of {len(chosen)} variants")
    values = alternate([(name, runner(name)) for name in chosen], rounds, log)
    return [_row(name, vals, extras[name]) for name, vals in values.items()]


def _row(name: str, values: list[float], extras: list[dict[str, Any]]) -> Row:
    row = Row(BENCH, name, "images/s", values, True, None if name == PEER else PEER)
    for key, label, scale in (("data_wait_fraction", "data wait %", 100.0),
                              ("faults_per_step", "page faults/step", 1.0),
                              ("kernel_s_per_step", "kernel s/step", 1.0)):
        found = [e[key] for e in extras if key in e]
        if found:
            row.extra[label] = scale * statistics.median(found)
    if name == PEER and extras:
        row.note = f"jit_compile={extras[0].get('jit_compile')}; malloc: {extras[0].get('malloc')}"
    return row


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("--impl", choices=("torch", "keras"), default="torch")
    w.add_argument("--precision", default="fp32")
    w.add_argument("--nchw", action="store_true", help="contiguous NCHW instead of channels-last")
    for q in (p, w):
        q.add_argument("--warmup", type=int, default=2)
        q.add_argument("--steps", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        if args.impl == "keras":  # TensorFlow as it comes: its own set-up, malloc untouched
            emit(keras_worker(args.warmup, args.steps))
        else:
            allocator = apply_allocator()  # as `neuralcodes train` does, before any work
            emit({**allocator,
                  **torch_worker(args.precision, not args.nchw, args.warmup, args.steps)})
        return
    from benchmarks.report import print_rows

    print_rows(compare(args.rounds, args.warmup, args.steps))


if __name__ == "__main__":
    main()
