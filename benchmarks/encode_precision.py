"""Do bf16 codes rank like fp32 codes? mAP of both on one labelled set, and the difference.

    python -m benchmarks.encode_precision [--model SPEC] [--data LABELLED_DIR] [--layer NAME]

Every image queries all the others (same class = relevant), once with the network in fp32 and
once under bf16 autocast, on the same decoded pixels. ``--data``: one subfolder of images per
class (a benchmark replica arranged so, or any labelled folder); default: generated photos of 6
classes. ``--model``: any SPEC; default a tiny random DINOv2 (a smoke test: real weights are what
the check is for).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


def precision_agreement(spec: str, srcs: list[Any], labels: np.ndarray, *,
                        layer: str | None = None) -> dict[str, float]:
    """fp32 and bf16 mAP of the same images (leave-one-out), their difference (bf16 - fp32),
    the largest code difference and the share of queries with the same nearest neighbour."""
    from neuralcodes.encoder import open_encoder
    from neuralcodes.metrics import retrieval_scores

    fp32 = open_encoder(spec, layer=layer, precision="fp32", device="cpu")
    bf16 = open_encoder(spec, layer=fp32.layer, precision="bf16", device="cpu")
    pixels = np.stack([fp32.load(s) for s in srcs])  # (N, S, S, 3)
    a, b = fp32.encode(pixels), bf16.encode(pixels)  # (N, D) each
    scores = [retrieval_scores(x, labels, precision_at=(1,), recall_at=(1,)) for x in (a, b)]
    return {"fp32_map": scores[0].map, "bf16_map": scores[1].map,
            "difference": scores[1].map - scores[0].map,
            "max_abs_code_difference": float(np.abs(a - b).max()),
            "same_nearest_neighbour": float(np.mean(_nearest(a) == _nearest(b)))}


def _nearest(codes: np.ndarray) -> np.ndarray:
    sims = codes @ codes.T  # (N, N): unit rows, so the largest is the nearest
    np.fill_diagonal(sims, -np.inf)
    return np.asarray(sims.argmax(axis=1))


def labelled_files(root: Path) -> tuple[list[Path], np.ndarray]:
    """The images of each class subfolder of ``root`` and their class numbers."""
    from neuralcodes.images import scan_images

    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files = [(label, f) for label, c in enumerate(classes) for f in scan_images(c)]
    return [f for _, f in files], np.array([label for label, _ in files], np.int64)


def generated_set(folder: Path, classes: int = 6, per_class: int = 5) -> Path:
    """Photos whose class is their colour layout (each image a noisy, shifted variant)."""
    from PIL import Image

    for c in range(classes):
        base = np.random.default_rng(100 + c).integers(0, 256, (3, 4, 3), dtype=np.uint8)
        layout = np.asarray(Image.fromarray(base).resize((320, 240), Image.Resampling.BICUBIC))
        for i in range(per_class):
            rng = np.random.default_rng(c * 100 + i)
            shifted = np.roll(layout, rng.integers(-20, 21, 2), axis=(0, 1)).astype(np.int16)
            noisy = np.clip(shifted + rng.integers(-25, 26, shifted.shape), 0, 255)
            (folder / f"class{c}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(noisy.astype(np.uint8)).save(folder / f"class{c}" / f"{i}.jpg")
    return folder


def main(argv: list[str] | None = None) -> None:
    from benchmarks.bench_encode import BENCH_DIR, model_folder

    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None, help="a model SPEC (default: a tiny random DINOv2)")
    p.add_argument("--data", type=Path, default=None, help="one subfolder of images per class")
    p.add_argument("--layer", default=None)
    args = p.parse_args(argv)
    spec = args.model or f"hf:{model_folder('dinov2', 'tiny')}"
    data = args.data or generated_set(BENCH_DIR / "labelled")
    files, labels = labelled_files(data)
    result = precision_agreement(spec, files, labels, layer=args.layer)
    print(f"{spec} on {data} ({len(files)} images, {labels.max() + 1} classes)")
    for key, value in result.items():
        print(f"  {key}: {value:+.4f}" if key == "difference" else f"  {key}: {value:.4f}")


if __name__ == "__main__":
    main()
