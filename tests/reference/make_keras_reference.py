"""Writes ``keras_reference.npz``: the Keras peer's outputs on known weights and inputs.

The network of docs/protocol.md as the seed notebook builds it in Keras (``keras_net.py``),
at reduced widths, with weights drawn from a NumPy seed (``reference_weights``, in PyTorch's
state-dict layout, converted here to Keras' layout) and a handful of random images. The file
stores the images and Keras' L5, L6, L7 and logits; ``tests/test_model.py`` rebuilds the
weights with ``reference_weights`` and checks that ``neuralcodes.model`` computes the same.
Only NumPy and TensorFlow are needed (no PyTorch); run once, from the repository root, in a
scratch environment (TensorFlow is not a test dependency):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu
    TF_ENABLE_ONEDNN_OPTS=0 /tmp/tfenv/bin/python tests/reference/make_keras_reference.py
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).with_name("keras_reference.npz")
CONV_SPECS = ((4, 96), (5, 192), (3, 288), (3, 288), (3, 256))  # (kernel, channels)
FC_WIDTH = 2048
# name -> network and inputs; 37 px: odd sizes exercise "same" padding and pooling (37, 19, 10, 5)
CASES = {
    "w10": {"width": 0.1, "num_classes": 7, "image_size": 64, "images": 5, "seed": 1},
    "odd": {"width": 1 / 16, "num_classes": 5, "image_size": 37, "images": 3, "seed": 2},
}


def scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def reference_weights(case: dict[str, float]) -> dict[str, np.ndarray]:
    """NotebookNet state dict (PyTorch layout, float32) drawn from ``RandomState(seed)``.

    Glorot-uniform weights as Keras initialises them, and non-zero biases (so that their
    placement is checked too). ``RandomState`` streams are frozen across NumPy versions.
    """
    rng = np.random.RandomState(int(case["seed"]))
    chans = [scaled(c, case["width"]) for _, c in CONV_SPECS]
    side = int(case["image_size"])
    for _ in range(3):
        side = math.ceil(side / 2)  # "same" 2x2 pooling
    fc = scaled(FC_WIDTH, case["width"])
    shapes: dict[str, tuple[int, ...]] = {}
    ins = [3, *chans[:-1]]
    for i, ((kernel, _), c_in, c_out) in enumerate(zip(CONV_SPECS, ins, chans, strict=True), 1):
        shapes[f"conv{i}.conv.weight"] = (c_out, c_in, kernel, kernel)
    dense = {"fc6": (fc, chans[-1] * side * side), "fc7": (fc, fc),
             "fc8": (int(case["num_classes"]), fc)}
    shapes.update({f"{name}.weight": shape for name, shape in dense.items()})
    sd: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        fan_in, fan_out = shape[1] * math.prod(shape[2:]), shape[0] * math.prod(shape[2:])
        limit = math.sqrt(6 / (fan_in + fan_out))
        sd[name] = rng.uniform(-limit, limit, shape).astype(np.float32)
        sd[name.replace("weight", "bias")] = rng.uniform(-0.05, 0.05, shape[0]).astype(np.float32)
    return sd


def reference_images(case: dict[str, float]) -> np.ndarray:
    """(n, S, S, 3) uint8 random images."""
    n, s = int(case["images"]), int(case["image_size"])
    return np.random.RandomState(int(case["seed"]) + 100).randint(0, 256, (n, s, s, 3)).astype(
        np.uint8)


def _keras_outputs(case: dict[str, float], x: np.ndarray) -> list[np.ndarray]:
    from benchmarks.peers.keras_net import build_keras_model, codes_model

    model = build_keras_model(int(case["num_classes"]), int(case["image_size"]), case["width"],
                              softmax=False)
    sd = reference_weights(case)
    for i in range(1, 6):
        w = sd[f"conv{i}.conv.weight"]  # (O, I, kh, kw) -> Keras (kh, kw, I, O)
        model.get_layer(f"conv{i}").set_weights([w.transpose(2, 3, 1, 0), sd[f"conv{i}.conv.bias"]])
    c = sd["conv5.conv.weight"].shape[0]
    fc6 = sd["fc6.weight"]  # (D6, C*h*w), PyTorch flattens (C, h, w); Keras (h, w, C)
    side = math.isqrt(fc6.shape[1] // c)
    fc6 = fc6.reshape(-1, c, side, side).transpose(0, 2, 3, 1).reshape(fc6.shape[0], -1)
    model.get_layer("L6").set_weights([fc6.T, sd["fc6.bias"]])
    model.get_layer("L7").set_weights([sd["fc7.weight"].T, sd["fc7.bias"]])
    model.get_layer("logits").set_weights([sd["fc8.weight"].T, sd["fc8.bias"]])
    outs = codes_model(model, ("L5", "L6", "L7", "logits")).predict(x / np.float32(255), verbose=0)
    return [np.asarray(o, dtype=np.float32) for o in outs]


def main() -> None:
    import tensorflow as tf
    from benchmarks.peers.keras_net import build_keras_model

    arrays: dict[str, np.ndarray] = {}
    for name, case in CASES.items():
        x = reference_images(case)
        arrays[f"{name}/x"] = x
        for layer, out in zip(("L5", "L6", "L7", "logits"), _keras_outputs(case, x), strict=True):
            arrays[f"{name}/{layer}"] = out  # Keras' L5 is flattened in (h, w, C) order
    meta = {"cases": CASES, "tensorflow": tf.__version__, "keras": tf.keras.__version__,
            "full_params": int(build_keras_model(190).count_params()),
            "onednn_opts": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "")}
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes): {meta}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: `benchmarks`
    main()
