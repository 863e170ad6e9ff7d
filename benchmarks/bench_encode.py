"""Encoding throughput of pretrained networks on full-size photos: neuralcodes against the
``transformers`` image-feature-extraction pipeline called one image at a time, as its
documentation shows (decode, preprocess and forward pass per image).

    python -m benchmarks.bench_encode [--rounds 3] [--images 32] [--megapixels 12]
        [--families dinov2,clip,vit,resnet,convnext] [--size base|tiny] [--model FAMILY=DIR]

Models: random weights in the published architectures (facebook/dinov2-small,
openai/clip-vit-base-patch32's vision tower, google/vit-base-patch16-224, microsoft/resnet-50,
facebook/convnext-tiny-224) with their processors' settings (native input 224), saved locally:
random weights cost what real ones cost, and nothing is downloaded. ``--size tiny``: tiny models
(a smoke test). ``--model FAMILY=DIR``: a real model folder saved with ``save_pretrained``.
Photos: generated JPEGs of about ``--megapixels`` each (4:3), kept in $NEURALCODES_HOME.

Ours: ``Encoder.encode_images`` (threads decode reduced-size JPEGs ahead of batched forward
passes; bf16 where the CPU has it, else fp32; channels-last for conv nets), and the same in fp32.
"decode share": decoding the photos alone (same threads) over our whole time.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import WORK_DIR, Row, alternate, emit, run_worker, stderr_log

BENCH_DIR = WORK_DIR / "encode-bench"
FAMILIES = ("dinov2", "clip", "vit", "resnet", "convnext")
IMAGENET = {"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
CROP_PCT = {"crop_pct": 0.875, "do_normalize": True, "do_resize": True, **IMAGENET,
            "feature_extractor_type": "ConvNextFeatureExtractor", "resample": 3, "size": 224}
PROCESSORS: dict[str, dict[str, Any]] = {  # as the hub repositories hold them
    "dinov2": {"crop_size": {"height": 224, "width": 224}, "do_center_crop": True,
               "do_normalize": True, "do_rescale": True, "do_resize": True, **IMAGENET,
               "image_processor_type": "BitImageProcessor", "resample": 3,
               "rescale_factor": 1 / 255, "size": {"shortest_edge": 256}},
    "clip": {"crop_size": 224, "do_center_crop": True, "do_normalize": True, "do_resize": True,
             "feature_extractor_type": "CLIPFeatureExtractor", "resample": 3, "size": 224,
             "image_mean": [0.48145466, 0.4578275, 0.40821073],
             "image_std": [0.26862954, 0.26130258, 0.27577711]},
    "vit": {"do_normalize": True, "do_resize": True, "feature_extractor_type":
            "ViTFeatureExtractor", "image_mean": [0.5] * 3, "image_std": [0.5] * 3,
            "resample": 2, "size": 224},
    "resnet": CROP_PCT,
    "convnext": CROP_PCT,
}
CLASSES = {"dinov2": ("Dinov2Model", "Dinov2Config"),
           "clip": ("CLIPVisionModelWithProjection", "CLIPVisionConfig"),
           "vit": ("ViTModel", "ViTConfig"), "resnet": ("ResNetModel", "ResNetConfig"),
           "convnext": ("ConvNextModel", "ConvNextConfig")}
_VIT_TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
             "intermediate_size": 64, "image_size": 224}
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "base": {"dinov2": {"hidden_size": 384, "num_hidden_layers": 12, "num_attention_heads": 6,
                        "intermediate_size": 1536, "patch_size": 14, "image_size": 518},
             "clip": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                      "intermediate_size": 3072, "patch_size": 32, "image_size": 224,
                      "projection_dim": 512},
             "vit": {}, "resnet": {}, "convnext": {}},  # the defaults are the published nets
    "tiny": {"dinov2": {**_VIT_TINY, "patch_size": 14},
             "clip": {**_VIT_TINY, "patch_size": 32, "projection_dim": 16},
             "vit": {**_VIT_TINY, "patch_size": 16},
             "resnet": {"embedding_size": 8, "hidden_sizes": [8, 16], "depths": [1, 1],
                        "layer_type": "basic"},
             "convnext": {"hidden_sizes": [8, 16], "depths": [1, 1], "num_stages": 2}},
}


def model_folder(family: str, size: str) -> Path:
    """A random ``family`` model of ``size`` saved with save_pretrained (made once)."""
    folder = BENCH_DIR / f"{family}-{size}"
    if not (folder / "preprocessor_config.json").is_file():
        import torch
        import transformers as t

        torch.manual_seed(0)
        model_cls, config_cls = CLASSES[family]
        model = getattr(t, model_cls)(getattr(t, config_cls)(**CONFIGS[size][family]))
        model.save_pretrained(folder)
        (folder / "preprocessor_config.json").write_text(json.dumps(PROCESSORS[family]))
    return folder


def make_photos(n: int, megapixels: float, folder: Path | None = None) -> list[Path]:
    """``n`` generated 4:3 JPEGs of about ``megapixels`` (smooth colours + sensor-like noise)."""
    from PIL import Image

    width = int(round((megapixels * 1e6 * 4 / 3) ** 0.5))
    height = width * 3 // 4
    folder = folder or BENCH_DIR / f"photos-{width}x{height}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo{i:03d}.jpg" for i in range(n)]
    for i, path in enumerate(paths):
        if path.is_file():
            continue
        rng = np.random.default_rng(i)
        small = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
        base = np.asarray(small.resize((width, height), Image.Resampling.BICUBIC), np.int16)
        noise = rng.integers(-12, 13, (height, width, 1), dtype=np.int16)
        pixels = np.clip(base + noise, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(path, "JPEG", quality=90)
    return paths


def ours(folder: Path, photos: list[Path], precision: str) -> dict[str, Any]:
    from neuralcodes.encoder import open_encoder
    from neuralcodes.images.pool import usable_cores

    enc = open_encoder(f"hf:{folder}", device="cpu", precision=precision)
    enc.encode_images(photos[:2])  # warm-up
    start = time.perf_counter()
    result = enc.encode_images(photos)
    total = time.perf_counter() - start
    assert result.ok.all()
    start = time.perf_counter()
    with ThreadPoolExecutor(enc.workers or usable_cores()) as pool:
        list(pool.map(enc.load, photos))
    decode = time.perf_counter() - start
    return {"images_per_s": len(photos) / total, "decode_share": decode / total}


def peer(folder: Path, photos: list[Path]) -> dict[str, Any]:
    """The documented way: a pipeline, one image at a time (file path in, features out)."""
    import transformers as t

    from neuralcodes.models.hf import load_folder
    from neuralcodes.models.hub import ModelFolder

    model = load_folder(ModelFolder(folder)).model  # the transformers module itself
    extractor = t.pipeline("image-feature-extraction", model=model, device="cpu",
                           image_processor=t.AutoImageProcessor.from_pretrained(folder))
    extractor(str(photos[0]), return_tensors=True)  # warm-up
    start = time.perf_counter()
    for path in photos:
        extractor(str(path), return_tensors=True)
    return {"images_per_s": len(photos) / (time.perf_counter() - start)}


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    folder = Path(args.folder)
    photos = make_photos(args.images, args.megapixels)
    return peer(folder, photos) if args.impl == "peer" else ours(folder, photos, args.impl)


VARIANTS = {"neuralcodes (bf16 where the CPU has it)": "auto", "neuralcodes fp32": "fp32",
            "transformers pipeline, one image at a time": "peer"}
PEER = "transformers pipeline, one image at a time"


def compare(rounds: int = 3, images: int = 32, megapixels: float = 12.0,
            families: tuple[str, ...] = FAMILIES, size: str = "base",
            models: dict[str, str] | None = None, log: Any = stderr_log) -> list[Row]:
    """Alternate ours and the peer ``rounds`` times per family; one row per variant."""
    make_photos(images, megapixels)
    rows: list[Row] = []
    for family in families:
        folder = Path(models[family]) if models and family in models else model_folder(family,
                                                                                       size)
        bench = f"encode {family} ({folder.name}), {images} photos of {megapixels:g} MP"
        shares: list[float] = []

        def runner(impl: str, folder: Path = folder, shares: list[float] = shares) -> Any:
            def run() -> float:
                out = run_worker("bench_encode", ["--impl", impl, "--folder", str(folder),
                                                  "--images", str(images),
                                                  "--megapixels", str(megapixels)])
                if impl == "auto":
                    shares.append(float(out["decode_share"]))
                return float(out["images_per_s"])
            return run

        log(f"{bench}: {rounds} rounds")
        values = alternate([(name, runner(impl)) for name, impl in VARIANTS.items()], rounds, log)
        for name, vals in values.items():
            extra = {"decode share": float(np.median(shares))} if VARIANTS[name] == "auto" else {}
            rows.append(Row(bench, name, "images/s", vals, True,
                            None if name == PEER else PEER, extra=extra))
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd")
    w = sub.add_parser("worker")
    w.add_argument("--impl", choices=("auto", "fp32", "peer"), required=True)
    w.add_argument("--folder", required=True)
    for q in (p, w):
        q.add_argument("--images", type=int, default=32)
        q.add_argument("--megapixels", type=float, default=12.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--families", default=",".join(FAMILIES))
    p.add_argument("--size", choices=("base", "tiny"), default="base")
    p.add_argument("--model", action="append", default=[], metavar="FAMILY=DIR",
                   help="a real model folder (save_pretrained) for FAMILY")
    args = p.parse_args(argv)
    if args.cmd == "worker":
        emit(worker(args))
        return
    from benchmarks.report import print_rows

    models = dict(m.split("=", 1) for m in args.model)
    families = tuple(f for f in args.families.split(",") if f)
    print_rows(compare(args.rounds, args.images, args.megapixels, families, args.size, models))


if __name__ == "__main__":
    main()
