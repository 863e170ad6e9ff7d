"""AlexNet with torchvision's state-dict layout: shapes, feature contract, loading, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from neuralcodes.errors import ConfigError, DataError
from neuralcodes.models.alexnet import AlexNetCodes, load_alexnet_weights

TORCHVISION_LAYOUT = {
    "features.0.weight": (64, 3, 11, 11), "features.0.bias": (64,),
    "features.3.weight": (192, 64, 5, 5), "features.3.bias": (192,),
    "features.6.weight": (384, 192, 3, 3), "features.6.bias": (384,),
    "features.8.weight": (256, 384, 3, 3), "features.8.bias": (256,),
    "features.10.weight": (256, 256, 3, 3), "features.10.bias": (256,),
    "classifier.1.weight": (4096, 9216), "classifier.1.bias": (4096,),
    "classifier.4.weight": (4096, 4096), "classifier.4.bias": (4096,),
    "classifier.6.weight": (1000, 4096), "classifier.6.bias": (1000,),
}


@pytest.fixture(scope="module")
def model() -> AlexNetCodes:
    torch.manual_seed(0)
    return AlexNetCodes().eval()


def test_state_dict_layout_is_torchvision(model: AlexNetCodes) -> None:
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == TORCHVISION_LAYOUT


def test_feature_contract(model: AlexNetCodes) -> None:
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        codes = model.forward_codes(x, ["conv1", "conv5", "pool5", "L5", "L6", "L7", "logits"])
        features = model.forward_features(x)
        logits = model(x)
        l7 = model.forward_head(features, pre_logits=True)
    shapes = {k: tuple(v.shape) for k, v in codes.items()}
    assert shapes == {
        "conv1": (2, 64, 55, 55), "conv5": (2, 256, 13, 13), "pool5": (2, 256, 6, 6),
        "L5": (2, 9216), "L6": (2, 4096), "L7": (2, 4096), "logits": (2, 1000),
    }
    assert features.shape == (2, 256, 6, 6)
    torch.testing.assert_close(codes["L5"], features.flatten(1))
    torch.testing.assert_close(codes["L7"], l7)
    torch.testing.assert_close(codes["logits"], logits)
    assert (codes["L6"] >= 0).all() and (codes["conv1"] >= 0).all()  # after ReLU
    assert model.layer_names[-4:] == ("L5", "L6", "L7", "logits")
    with pytest.raises(ConfigError, match="known layers"):
        model.forward_codes(x, ["L8"])


def test_imagenet_normalisation(model: AlexNetCodes) -> None:
    x = torch.full((1, 3, 224, 224), 0.5)
    prepared = model.prepare(x)
    expected = (0.5 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    torch.testing.assert_close(prepared[0, :, 0, 0], expected)


@pytest.mark.slow  # writes and reads the full 244 MB state dict
def test_load_round_trip(model: AlexNetCodes, tmp_path: Path) -> None:
    path = tmp_path / "alexnet.pth"
    torch.save(model.state_dict(), path)
    loaded = load_alexnet_weights(path)
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert not loaded.training


def test_wrong_layout_lists_every_problem(tmp_path: Path) -> None:
    state = {k: torch.zeros(s) for k, s in TORCHVISION_LAYOUT.items() if "classifier" not in k}
    state.pop("features.0.bias")
    state["features.3.weight"] = torch.zeros(192, 64, 3, 3)
    state["fc.weight"] = torch.zeros(3)
    path = tmp_path / "wrong.pth"
    torch.save(state, path)
    with pytest.raises(DataError) as err:
        load_alexnet_weights(path)
    message = str(err.value)
    assert str(path) in message and "features.0.bias" in message and "fc.weight" in message
    assert "classifier.1.weight" in message
    assert "features.3.weight: (192, 64, 3, 3) (expected (192, 64, 5, 5))" in message


def test_not_a_state_dict(tmp_path: Path) -> None:
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(DataError, match="junk.pth"):
        load_alexnet_weights(tmp_path / "junk.pth")
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    with pytest.raises(DataError, match="plain state dict"):
        load_alexnet_weights(tmp_path / "list.pth")
    with pytest.raises(DataError, match="not found"):
        load_alexnet_weights(tmp_path / "missing.pth")
