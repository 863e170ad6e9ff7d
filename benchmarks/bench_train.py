"""Training-step throughput at batch 100 on the full-width model: neuralcodes against Keras.

Each measurement is a fresh process (``worker``) that trains for ``warmup + steps`` steps and
reports the median step time after the warm-up as images/s. neuralcodes is measured through its
real training loop (``neuralcodes.train.train``: data gathering, conversion, the step and its
bookkeeping), timed between the loop's steps by a ``Progress`` that stamps each one; Keras through
``model.fit`` as the notebook calls it, timed by a callback at each batch. Pixels are random (the
speed of dense convolutions does not depend on them).

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

from benchmarks.common import Row, alternate, emit, run_worker, stderr_log, tcmalloc_path

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
    """A ``Progress`` that stamps the start of every training step (``desc`` "epoch ...")."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def track(self, items: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
        timed = desc.startswith("epoch")
        for item in items:
            if timed:
                self.stamps.append(time.perf_counter())
            yield item
        if timed:
            self.stamps.append(time.perf_counter())

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
    }


VARIANTS: dict[str, tuple[list[str], bool]] = {
    # impl name -> (worker arguments, preload tcmalloc)
    "Keras/TensorFlow fp32": (["--impl", "keras"], False),
    "neuralcodes fp32, NCHW (PyTorch defaults)": (["--precision", "fp32", "--nchw"], False),
    "neuralcodes fp32": (["--precision", "fp32"], False),
    "neuralcodes fp32 + tcmalloc": (["--precision", "fp32"], True),
    "neuralcodes bf16 + tcmalloc": (["--precision", "bf16"], True),
}
PEER = "Keras/TensorFlow fp32"


def compare(rounds: int = 3, warmup: int = 2, steps: int = 5, log: Any = stderr_log) -> list[Row]:
    """Alternate every variant ``rounds`` times; one row per variant (ratios against Keras)."""
    alloc = tcmalloc_path()
    variants = {k: v for k, v in VARIANTS.items() if alloc or not v[1]}
    extras: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}

    def runner(name: str) -> Any:
        args, preload = variants[name]

        def run() -> float:
            res = run_worker(
                "bench_train",
                [*args, "--warmup", str(warmup), "--steps", str(steps)],
                preload=alloc if preload else None,
            )
            extras[name].append(res)
            return float(res["images_per_s"])

        return run

    log(f"{BENCH}: {rounds} rounds of {len(variants)} variants")
    values = alternate([(name, runner(name)) for name in variants], rounds, log)
    rows = []
    for name, vals in values.items():
        wait = [e["data_wait_fraction"] for e in extras[name] if "data_wait_fraction" in e]
        row = Row(BENCH, name, "images/s", vals, True, None if name == PEER else PEER)
        if wait:
            row.extra["data wait %"] = 100 * statistics.median(wait)
        if name == PEER and extras[name]:
            row.note = f"jit_compile={extras[name][0].get('jit_compile')}"
        rows.append(row)
    return rows


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
        if args.impl == "keras":
            emit(keras_worker(args.warmup, args.steps))
        else:
            emit(torch_worker(args.precision, not args.nchw, args.warmup, args.steps))
        return
    from benchmarks.report import print_rows

    print_rows(compare(args.rounds, args.warmup, args.steps))


if __name__ == "__main__":
    main()
