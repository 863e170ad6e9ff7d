"""Code-extraction throughput (L5, L6, L7 in one pass, L2-normalised): neuralcodes against Keras.

Each measurement is a fresh process that encodes ``n`` random 64x64 images at batch 500 after one
warm-up batch. neuralcodes runs ``neuralcodes.codes.extract_codes`` (uint8 in, normalised float32
rows out); Keras runs a three-output model's ``predict`` on float32 inputs, then normalises the rows
with NumPy, the notebook's way with its three passes folded into one (a stronger peer).
neuralcodes runs with the default allocator (tuned glibc malloc, applied as the command line
applies it), untuned glibc for reference, and any allocator library installed by hand; each row
gives the minor page faults and kernel CPU seconds of the timed pass.

    python -m benchmarks.bench_extract [--rounds 3] [--images 2000]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

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

BENCH = "code extraction L5+L6+L7, batch 500"
BATCH = 500
LAYERS = ("L5", "L6", "L7")


def _images(n: int) -> np.ndarray:
    return np.random.default_rng(1).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)


def torch_worker(precision: str, n: int) -> dict[str, Any]:
    """Encode ``n`` images with neuralcodes after a warm-up batch; images/s."""
    import torch

    from neuralcodes.codes import extract_codes
    from neuralcodes.config import ModelConfig
    from neuralcodes.model import create_model

    torch.manual_seed(0)
    model = create_model(ModelConfig(num_classes=190))
    model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    images = _images(n)
    kwargs: dict[str, Any] = {"batch_size": BATCH, "precision": precision, "channels_last": True}
    extract_codes(model, images[:BATCH], LAYERS, **kwargs)  # warm-up
    before = usage()
    start = time.perf_counter()
    codes = extract_codes(model, images, LAYERS, **kwargs)
    seconds = time.perf_counter() - start
    after = usage()
    assert all(c.shape[0] == n for c in codes.values())
    return {"images_per_s": n / seconds, "seconds": seconds,
            "faults": after["minflt"] - before["minflt"],
            "kernel_s": after["stime"] - before["stime"]}


def keras_worker(n: int) -> dict[str, Any]:
    """Encode ``n`` images with a Keras three-output model (float32 input), then L2-normalise."""
    import tensorflow as tf

    from benchmarks.peers.keras_net import build_keras_model, codes_model

    tf.keras.utils.set_random_seed(0)
    model = codes_model(build_keras_model(190), LAYERS)
    images = _images(n)
    model.predict(images[:BATCH].astype(np.float32) / 255.0, batch_size=BATCH, verbose=0)
    start = time.perf_counter()
    outs = model.predict(images.astype(np.float32) / 255.0, batch_size=BATCH, verbose=0)
    codes = [o / np.maximum(np.linalg.norm(o, axis=1, keepdims=True), 1e-12) for o in outs]
    seconds = time.perf_counter() - start
    assert all(c.shape[0] == n for c in codes)
    return {"images_per_s": n / seconds, "seconds": seconds, "malloc": mapped_allocators()}


PEER = "Keras/TensorFlow fp32"


def impl_name(precision: str, allocator: str) -> str:
    """The table's name of neuralcodes in ``precision`` with ``allocator``."""
    return f"neuralcodes {precision}, {allocator_label(allocator)}"


def variants() -> dict[str, tuple[list[str], str | None]]:
    """impl name -> (worker arguments, allocator), as in ``bench_train.variants``."""
    out: dict[str, tuple[list[str], str | None]] = {PEER: (["--impl", "keras"], None)}
    for precision in ("fp32", "bf16"):
        for kind in (DEFAULT_ALLOCATOR, "glibc", *installed_allocators()):
            out[impl_name(precision, kind)] = (["--precision", precision], kind)
    return out


def compare(rounds: int = 3, images: int = 2000, log: Any = stderr_log) -> list[Row]:
    """Alternate the variants ``rounds`` times; one row each, ratios against Keras."""
    chosen = variants()
    extras: dict[str, list[dict[str, Any]]] = {name: [] for name in chosen}

    def runner(name: str) -> Any:
        args, allocator = chosen[name]

        def run() -> float:
            res = run_worker("bench_extract", [*args, "--images", str(images)],
                             allocator=allocator)
            if allocator is not None:
                check_allocator(allocator, res["allocator"])
            extras[name].append(res)
            return float(res["images_per_s"])

        return run

    log(f"{BENCH}: {rounds} rounds of {len(chosen)} variants, {images} images")
    values = alternate([(name, runner(name)) for name in chosen], rounds, log)
    rows = []
    for name, vals in values.items():
        row = Row(BENCH, name, "images/s", vals, True, None if name == PEER else PEER)
        found = extras[name]
        for key, label in (("faults", "page faults"), ("kernel_s", "kernel s")):
            if found and key in found[0]:
                row.extra[label] = float(np.median([e[key] for e in found]))
        if name == PEER and found:
            row.note = f"malloc: {found[0].get('malloc')}"
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("--impl", choices=("torch", "keras"), default="torch")
    w.add_argument("--precision", default="fp32")
    for q in (p, w):
        q.add_argument("--images", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    if args.cmd == "worker":
        if args.impl == "keras":  # TensorFlow as it comes: its own set-up, malloc untouched
            emit(keras_worker(args.images))
        else:
            emit({**apply_allocator(), **torch_worker(args.precision, args.images)})
        return
    from benchmarks.report import print_rows

    print_rows(compare(args.rounds, args.images))


if __name__ == "__main__":
    main()
