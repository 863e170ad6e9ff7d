"""Hugging Face families: named codes against the model's own outputs, the hub path, bad folders.

Every model here is tiny and randomly initialised (hidden size 32, 2 blocks, 32 x 32 input);
real pretrained weights cannot be downloaded in the tests.
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralcodes.encoder import open_encoder
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.models.hub import require_transformers

from .helpers import build_model, fake_hub_cache

LAYERS = {
    "dinov2": ("cls", "pooled", "patch-mean", "block1", "block2"),
    "clip": ("embed", "cls", "patch-mean", "block1", "block2"),
    "vit": ("cls", "patch-mean", "block1", "block2"),  # a classifier checkpoint: no pooler
    "resnet": ("pooled", "block1", "block2"),
    "convnext": ("pooled", "block1", "block2"),
}
DIMS = {"dinov2": 32, "clip": 32, "vit": 32, "resnet": 16, "convnext": 16}


def _images(n: int = 3, size: int = 32) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


def _reference(family: str, folder: Path, images: np.ndarray) -> dict[str, Any]:
    """Each named code, computed from the transformers model's own outputs."""
    import torch
    import transformers as t

    from neuralcodes.models.preprocess import from_processor_config

    from .helpers import PROCESSORS

    pre = from_processor_config(PROCESSORS[family], "x")
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0
    pixels = (x - torch.tensor(pre.mean).view(1, 3, 1, 1)) / torch.tensor(pre.std).view(1, 3, 1, 1)
    with torch.inference_mode():
        if family == "clip":
            clip = t.CLIPModel.from_pretrained(folder).eval()
            embeds = clip(input_ids=torch.tensor([[0, 1]]), pixel_values=pixels).image_embeds
            vision = clip.vision_model(pixel_values=pixels, output_hidden_states=True)
            return {"embed": embeds, "cls": vision.pooler_output,
                    "patch-mean": vision.last_hidden_state[:, 1:].mean(1),
                    **{f"block{i}": vision.hidden_states[i][:, 0] for i in (1, 2)}}
        if family in ("vit", "resnet"):
            whole = getattr(t, f"{'ViT' if family == 'vit' else 'ResNet'}ForImageClassification")
            model = getattr(whole.from_pretrained(folder).eval(), family)
        else:
            model = getattr(t, {"dinov2": "Dinov2Model", "convnext": "ConvNextModel"}[family])
            model = model.from_pretrained(folder).eval()
        out = model(pixel_values=pixels, output_hidden_states=True)
    h = out.hidden_states
    if family in ("resnet", "convnext"):
        return {"pooled": out.pooler_output.flatten(1),
                **{f"block{i}": h[i].mean(dim=(2, 3)) for i in (1, 2)}}
    codes = {"cls": out.last_hidden_state[:, 0],
             "patch-mean": out.last_hidden_state[:, 1:].mean(1),
             **{f"block{i}": h[i][:, 0] for i in (1, 2)}}
    return {**codes, "pooled": out.pooler_output} if family == "dinov2" else codes


@pytest.mark.parametrize("family", sorted(LAYERS))
def test_named_codes_are_the_models_own_outputs(family: str, hf_models: dict[str, Path]) -> None:
    images = _images()
    expected = _reference(family, hf_models[family], images)
    enc = open_encoder(f"hf:{hf_models[family]}", device="cpu", precision="fp32")
    assert enc.layers == LAYERS[family] and enc.layer == LAYERS[family][0]
    assert enc.image_size == 32 and enc.channels_last == (family in ("resnet", "convnext"))
    for layer in LAYERS[family]:
        enc.layer = layer
        codes = enc.encode(images)
        ref = expected[layer].numpy()
        ref = ref / np.linalg.norm(ref, axis=1, keepdims=True)
        assert codes.shape == (3, enc.dim) and codes.dtype == np.float32
        np.testing.assert_allclose(codes, ref, rtol=0, atol=2e-5, err_msg=layer)
    enc.layer = LAYERS[family][0]
    assert enc.dim == (16 if family == "clip" else DIMS[family])


def test_clip_vision_checkpoint_without_projection(tmp_path: Path) -> None:
    import transformers as t

    from .helpers import PROCESSORS, TINY

    folder = tmp_path / "clip-vision"
    t.CLIPVisionModel(t.CLIPVisionConfig(**TINY)).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps(PROCESSORS["clip"]))
    enc = open_encoder(f"hf:{folder}", device="cpu")
    assert enc.layers == ("cls", "patch-mean", "block1", "block2") and enc.layer == "cls"


def test_hub_id_resolves_through_the_cache(hf_models: dict[str, Path], tmp_path: Path) -> None:
    """The hub path: a snapshot of the hub cache, its commit recorded; same codes as the folder."""
    commit = fake_hub_cache(tmp_path / "hub-cache", "tiny/dinov2", hf_models["dinov2"])
    start = time.perf_counter()
    hub = open_encoder("hf:tiny/dinov2", device="cpu", precision="fp32")
    assert time.perf_counter() - start < 30
    local = open_encoder(f"hf:{hf_models['dinov2']}", device="cpu", precision="fp32")
    images = _images()
    np.testing.assert_array_equal(hub.encode(images), local.encode(images))
    fp = hub.fingerprint()
    assert (fp["kind"], fp["hub_id"], fp["revision"], fp["weights_sha256"]) == (
        "hf", "tiny/dinov2", commit, None)
    assert fp["preprocess"]["resize_to"] == 36 and fp["model_name"] == "dinov2"
    assert open_encoder(f"hf:tiny/dinov2@{commit}").fingerprint()["revision"] == commit
    lfp = local.fingerprint()
    assert lfp["hub_id"] is None and lfp["revision"] is None and len(lfp["weights_sha256"]) == 64
    assert lfp["model_hash"] == lfp["weights_sha256"][:16]


def test_unknown_hub_id_fails_at_once() -> None:
    start = time.perf_counter()
    with pytest.raises(DataError) as err:
        open_encoder("hf:nobody/no-such-model")
    assert time.perf_counter() - start < 10
    message = str(err.value)
    assert message.startswith("hf:nobody/no-such-model: not in the Hugging Face cache")
    assert "save_pretrained" in message and "HF_HUB_OFFLINE=1" in message and "HF_HOME" in message


def test_offline_switch_skips_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="HF_HUB_OFFLINE is set"):
        open_encoder("hf:nobody/no-such-model@v2")


def test_folder_without_weights_or_processor(hf_models: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(hf_models["vit"], tmp_path / "vit")
    (folder / "model.safetensors").unlink()
    with pytest.raises(DataError, match=f"{folder}: no model weights here"):
        open_encoder(f"hf:{folder}")
    shutil.copy(hf_models["vit"] / "model.safetensors", folder)
    (folder / "preprocessor_config.json").unlink()
    with pytest.raises(DataError, match=f"{folder}: no preprocessor_config.json"):
        open_encoder(f"hf:{folder}")
    with pytest.raises(DataError, match="no such model folder"):
        open_encoder(f"hf:{tmp_path / 'absent'}")


def test_incomplete_checkpoint_is_refused(hf_models: dict[str, Path], tmp_path: Path) -> None:
    model = build_model("dinov2")
    state = {k: v for k, v in model.state_dict().items() if "layer.1." not in k}
    model.save_pretrained(tmp_path / "cut", state_dict=state)
    shutil.copy(hf_models["dinov2"] / "preprocessor_config.json", tmp_path / "cut")
    with pytest.raises(DataError, match="the weights lack .* parameters"):
        open_encoder(f"hf:{tmp_path / 'cut'}")


def test_bad_layer_lists_the_codes(hf_models: dict[str, Path]) -> None:
    with pytest.raises(ConfigError, match=r"unknown layer 'block9'.*'cls', 'pooled'"):
        open_encoder(f"hf:{hf_models['dinov2']}", layer="block9")


def test_encoder_pickles_without_the_network(hf_models: dict[str, Path]) -> None:
    enc = open_encoder(f"hf:{hf_models['resnet']}", layer="block1", device="cpu")
    images = _images(2)
    clone = pickle.loads(pickle.dumps(enc))
    assert clone._backbone is None and clone.layer == "block1"
    np.testing.assert_allclose(clone.encode(images), enc.encode(images), atol=1e-6)


def test_missing_transformers_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(ConfigError, match=r"pip install 'neuralcodes\[hf\]'"):
        require_transformers()


@pytest.mark.parametrize("family", list(LAYERS))
def test_bf16_codes_are_autocasts_with_the_weights_cast_once(
    family: str, hf_models: dict[str, Path]
) -> None:
    from neuralcodes.codes import extract_codes

    enc = open_encoder(f"hf:{hf_models[family]}", device="cpu", precision="bf16")
    images = _images(2)
    autocast = extract_codes(enc.backbone.model, images, [enc.layer], device="cpu",
                             precision="bf16", channels_last=enc.channels_last)[enc.layer]
    np.testing.assert_array_equal(enc.encode(images), autocast)
    assert enc.network("bf16") is enc.network("bf16") is not enc.backbone.model
    assert enc.network("fp32") is enc.backbone.model
    assert pickle.loads(pickle.dumps(enc))._lower is None
