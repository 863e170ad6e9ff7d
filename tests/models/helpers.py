"""Tiny randomly initialised Hugging Face models, saved as ``save_pretrained`` saves them.

Each family's ``preprocessor_config.json`` is written in the form its hub repositories hold
(new-style ``size`` dicts, or the legacy ``FeatureExtractor`` form with ``size: 224``), at a tiny
input size. Nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

IMAGENET = {"image_mean": [0.485, 0.456, 0.406], "image_std": [0.229, 0.224, 0.225]}
OPENAI = {"image_mean": [0.48145466, 0.4578275, 0.40821073],
          "image_std": [0.26862954, 0.26130258, 0.27577711]}
TINY = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 64, "image_size": 32, "patch_size": 8}
PROCESSORS: dict[str, dict[str, Any]] = {
    "dinov2": {  # as facebook/dinov2-small's, scaled down (256 -> 36, 224 -> 32)
        "crop_size": {"height": 32, "width": 32}, "do_center_crop": True, "do_convert_rgb": True,
        "do_normalize": True, "do_rescale": True, "do_resize": True, **IMAGENET,
        "image_processor_type": "BitImageProcessor", "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 36},
    },
    "clip": {  # as openai/clip-vit-base-patch32's (legacy form)
        "crop_size": 32, "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor", **OPENAI, "resample": 3, "size": 32,
    },
    "vit": {  # as google/vit-base-patch16-224's (legacy form: size is a square)
        "do_normalize": True, "do_resize": True, "feature_extractor_type": "ViTFeatureExtractor",
        "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 2, "size": 32,
    },
    "resnet": {  # as microsoft/resnet-50's (ConvNeXt's processor, crop_pct)
        "crop_pct": 0.875, "do_normalize": True, "do_resize": True,
        "feature_extractor_type": "ConvNextFeatureExtractor", **IMAGENET, "resample": 3,
        "size": 32,
    },
    "convnext": {  # new-style ConvNeXt processor
        "crop_pct": 0.875, "do_normalize": True, "do_rescale": True, "do_resize": True,
        "image_processor_type": "ConvNextImageProcessor", **IMAGENET, "resample": 3,
        "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 32},
    },
}
FAMILIES = tuple(PROCESSORS)


def build_model(family: str) -> Any:
    """A tiny random model of ``family`` (the classes hub checkpoints of that family hold)."""
    import torch
    import transformers as t

    torch.manual_seed(0)
    if family == "dinov2":
        return t.Dinov2Model(t.Dinov2Config(**TINY))
    if family == "clip":
        text = {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 16,
                "bos_token_id": 0, "eos_token_id": 1, "pad_token_id": 1}
        return t.CLIPModel(t.CLIPConfig(vision_config=TINY, text_config=text, projection_dim=16))
    if family == "vit":  # a classification checkpoint: no pooler weights
        return t.ViTForImageClassification(t.ViTConfig(**TINY, num_labels=3))
    if family == "resnet":
        return t.ResNetForImageClassification(t.ResNetConfig(
            embedding_size=8, hidden_sizes=[8, 16], depths=[1, 1], layer_type="basic",
            num_labels=3))
    if family == "convnext":
        return t.ConvNextModel(t.ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1],
                                                num_stages=2))
    raise ValueError(family)


def save_model(family: str, folder: Path) -> Path:
    """``folder`` holding the model (save_pretrained) and its preprocessor_config.json."""
    build_model(family).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(PROCESSORS[family], indent=2))
    return folder


def fake_hub_cache(cache: Path, hub_id: str, folder: Path, *, branch: str = "main") -> str:
    """Lay ``folder`` out as the hub cache does (blobs, snapshot links, refs); the commit."""
    commit = hashlib.sha1(f"{hub_id}{folder}".encode()).hexdigest()  # 40 hex digits
    repo = cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    snapshot.mkdir(parents=True, exist_ok=True)
    for f in sorted(folder.iterdir()):
        digest = hashlib.sha256(f.read_bytes()).hexdigest()
        shutil.copyfile(f, repo / "blobs" / digest)
        (snapshot / f.name).symlink_to(Path("../../blobs") / digest)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / branch).write_text(commit)
    return commit
