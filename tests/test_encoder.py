"""The encoder of any SPEC: run folders exactly as before, fingerprints and their refusals."""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from neuralcodes.config import ModelConfig
from neuralcodes.encoder import Encoder, check_fingerprint, open_encoder
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.model import create_model, save_model


def _run(root: Path, seed: int) -> Path:
    torch.manual_seed(seed)
    cfg = ModelConfig(width=0.0625, num_classes=10)
    root.mkdir(parents=True)
    save_model(root / "model.pt", create_model(cfg), cfg)
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    return _run(root / "a", 0), _run(root / "b", 1)


def _photos(folder: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(3)
    paths = []
    for i in range(n):
        pixels = rng.integers(0, 256, (40 + 7 * i, 50 + 3 * i, 3), dtype=np.uint8)
        paths.append(folder / f"p{i}.{'jpg' if i % 2 else 'png'}")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def test_run_folder_codes_are_todays(runs: tuple[Path, Path], tmp_path: Path) -> None:
    from neuralcodes.encoder import Encoder as TodaysEncoder

    images = np.random.default_rng(0).integers(0, 256, (5, 64, 64, 3), dtype=np.uint8)
    for layer in ("L6", "conv2", "L5"):
        old = TodaysEncoder.from_run(runs[0], layer=layer, device="cpu", batch_size=2)
        new = open_encoder(runs[0], layer=layer, device="cpu", batch_size=2)
        np.testing.assert_array_equal(new.encode(images), old.encode(images))
        assert new.fingerprint() == old.fingerprint()
        assert list(new.fingerprint()) == ["model_hash", "model_name", "layer", "image_size",
                                           "code_dim"]
    enc = open_encoder(str(runs[0]))
    assert (enc.layer, enc.precision, enc.channels_last, enc.batch_size) == ("L6", "fp32",
                                                                           False, 256)
    assert enc.run_dir == runs[0].resolve() and enc.preprocess is None and "logits" in enc.layers
    photo = _photos(tmp_path, 2)[1]
    from neuralcodes.images import load_image

    np.testing.assert_array_equal(enc.load(photo), load_image(photo, 64))
    assert Encoder.from_run(runs[0], layer="L7").fingerprint()["layer"] == "L7"
    by_fields = Encoder(runs[0], "L6", "cpu", 2)  # as the index builds it from its settings
    np.testing.assert_array_equal(by_fields.encode(images[:2]), enc.encode(images[:2]))
    assert pickle.loads(pickle.dumps(enc))._backbone is None


def test_missing_run_folder_model(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no model.pt in this run folder"):
        open_encoder(tmp_path)


def test_fingerprint_refusals_name_the_difference(runs: tuple[Path, Path]) -> None:
    a6, a7 = open_encoder(runs[0], layer="L6"), open_encoder(runs[0], layer="L7")
    check_fingerprint(a6.fingerprint(), a6)
    with pytest.raises(ArtifactMismatchError, match=r"layer: 'L6' there, 'L7' here") as err:
        check_fingerprint(a6.fingerprint(), a7)
    assert "code_dim" not in str(err.value)  # L6 and L7 have the same length
    b6 = open_encoder(runs[1], layer="L6")
    with pytest.raises(ArtifactMismatchError, match="model_hash: '[0-9a-f]{16}' there"):
        check_fingerprint(a6.fingerprint(), b6, where="index /x")


def test_hf_fingerprint_refusals(hf_tiny: Path, runs: tuple[Path, Path]) -> None:
    enc = open_encoder(f"hf:{hf_tiny}", device="cpu")
    fp = enc.fingerprint()
    other_rev = {**fp, "hub_id": "org/tiny", "revision": "0" * 40}
    with pytest.raises(ArtifactMismatchError, match=r"revision: '0000000000.*' there, None here"):
        check_fingerprint(other_rev, enc)
    other_pre = {**fp, "preprocess": {**fp["preprocess"], "resize_to": 40, "resample": "bilinear"}}
    with pytest.raises(ArtifactMismatchError, match=r"preprocess.resample: 'bilinear' there, "
                       r"'bicubic' here; preprocess.resize_to: 40 there, 36 here"):
        check_fingerprint(other_pre, enc)
    with pytest.raises(ArtifactMismatchError, match=r"network: a neuralcodes run's notebook "
                       r"model [0-9a-f]+ there, a local dinov2 folder \(weights sha256"):
        check_fingerprint(open_encoder(runs[0]).fingerprint(), enc)
    check_fingerprint(pickle.loads(pickle.dumps(fp)), enc)


@pytest.fixture(scope="module")
def hf_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random DINOv2 saved with save_pretrained, with facebook/dinov2-small's processor
    config scaled down (tests/models/helpers.py has every family)."""
    t = pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("hf") / "dinov2"
    torch.manual_seed(0)
    t.Dinov2Model(t.Dinov2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                 intermediate_size=64, image_size=32, patch_size=8)
                  ).save_pretrained(folder)
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": {"height": 32, "width": 32}, "do_center_crop": True, "do_normalize": True,
        "do_rescale": True, "do_resize": True, "image_mean": [0.485, 0.456, 0.406],
        "image_processor_type": "BitImageProcessor", "image_std": [0.229, 0.224, 0.225],
        "resample": 3, "rescale_factor": 1 / 255, "size": {"shortest_edge": 36}}))
    return folder


def test_encode_images_skips_bad_files(hf_tiny: Path, tmp_path: Path) -> None:
    enc = open_encoder(f"hf:{hf_tiny}", device="cpu", precision="fp32", batch_size=2, workers=2)
    paths = _photos(tmp_path, 5)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    srcs = [paths[0], tmp_path / "broken.jpg", *paths[1:], tmp_path / "gone.png"]
    result = enc.encode_images(srcs)
    assert result.ok.tolist() == [True, False, True, True, True, True, False]
    assert [Path(e.path).name for e in result.errors] == ["broken.jpg", "gone.png"]
    expected = enc.encode(np.stack([enc.load(p) for p in paths]))
    np.testing.assert_allclose(result.codes, expected, atol=1e-6)
    empty = enc.encode_images([])
    assert empty.codes.shape == (0, 32) and empty.ok.shape == (0,)


def test_alexnet_weights_that_are_not_alexnets(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(2, 3, 7, 7)}, bad)
    with pytest.raises(DataError, match=f"{bad}: not torchvision AlexNet weights: missing keys"):
        open_encoder(f"alexnet:{bad}")
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path))
    with pytest.raises(DataError, match="alexnet-owt-7be5be79.pth: AlexNet weights file not "
                       "found; fetch it with `neuralcodes weights alexnet`"):
        open_encoder("alexnet")


@pytest.mark.slow
def test_alexnet_encoder(tmp_path: Path) -> None:
    """A randomly initialised AlexNet saved as the model zoo saves it (244 MB)."""
    from neuralcodes.models.alexnet import AlexNetCodes

    torch.manual_seed(0)
    zoo = AlexNetCodes().eval()
    weights = tmp_path / "alexnet-random.pth"
    torch.save(zoo.state_dict(), weights)
    enc = open_encoder(f"alexnet:{weights}", device="cpu", precision="fp32")
    assert (enc.layer, enc.image_size, enc.dim, enc.channels_last) == ("L6", 224, 4096, True)
    assert enc.layers[-4:] == ("L5", "L6", "L7", "logits")
    photo = _photos(tmp_path, 2)[1]
    pixels = enc.load(photo)
    assert pixels.shape == (224, 224, 3)
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    for layer in ("L5", "L6", "L7"):
        enc.layer = layer
        with torch.inference_mode():
            ref = zoo.forward_codes(x, [layer])[layer].numpy()
        np.testing.assert_allclose(enc.encode(pixels[None]), ref / np.linalg.norm(ref),
                                   atol=1e-5)
    fp = enc.fingerprint()
    assert fp["kind"] == "alexnet" and fp["layer"] == "L7" and fp["code_dim"] == 4096
    assert fp["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert fp["preprocess"]["resize_to"] == 256 and fp["preprocess"]["crop_offset"] == "round"


def test_run_folder_bf16_codes_are_todays_autocast(runs: tuple[Path, Path]) -> None:
    from neuralcodes.encoder import Encoder as TodaysEncoder

    images = np.random.default_rng(1).integers(0, 256, (3, 64, 64, 3), dtype=np.uint8)
    old = TodaysEncoder.from_run(runs[0], layer="L6", device="cpu", precision="bf16")
    new = open_encoder(runs[0], layer="L6", device="cpu", precision="bf16")
    np.testing.assert_array_equal(new.encode(images[:1]), old.encode(images[:1]))
    np.testing.assert_array_equal(new.encode(images), old.encode(images))
