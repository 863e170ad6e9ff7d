"""The networks research tools take codes from: a run's trained model, or AlexNet weights.

``alexnet_model`` reads a state-dict file in the layout of PyTorch's model zoo (torchvision's
``alexnet``), checked key by key by ``neuralcodes.models.alexnet.load_alexnet_weights`` (a
wrong layout is refused with the list of what differs and the expected layout), into the
registered ``create_model(ModelConfig(name="alexnet"))`` network, which has the whole feature
contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from neuralcodes.config import ModelConfig
from neuralcodes.errors import ConfigError
from neuralcodes.model import create_model, load_model
from neuralcodes.models.alexnet import INPUT_SIZE, load_alexnet_weights
from neuralcodes.runs import require_model


@dataclass(frozen=True, eq=False)
class Network:
    model: nn.Module
    image_size: int  # the size images are decoded at
    description: str  # for tables: "run runs/x (model 0123abcd...)" or "AlexNet weights w.pth"


def alexnet_model(weights: str | Path) -> Network:
    """The registered AlexNet with the weights of a model-zoo layout file (eval mode)."""
    zoo = load_alexnet_weights(weights)  # DataError naming the file and the layout if wrong
    n_classes = int(zoo.state_dict()["classifier.6.weight"].shape[0])
    model = create_model(ModelConfig(name="alexnet", num_classes=n_classes, image_size=INPUT_SIZE))
    model.load_state_dict(zoo.state_dict())
    return Network(model.eval(), INPUT_SIZE, f"AlexNet weights {weights}")


def run_model(run_dir: str | Path) -> Network:
    """A run's trained model.pt (eval mode)."""
    loaded = load_model(require_model(run_dir))
    return Network(loaded.model, loaded.config.image_size,
                   f"run {Path(run_dir)} (model {loaded.header['model_hash']})")


def open_network(model_run: str | Path | None, alexnet: str | Path | None) -> Network:
    """Exactly one of a run folder and an AlexNet weights file."""
    if (model_run is None) == (alexnet is None):
        raise ConfigError("give exactly one network: a run folder (--model RUN_DIR) or AlexNet "
                          "weights (--alexnet WEIGHTS.pth)")
    return run_model(model_run) if model_run is not None else alexnet_model(alexnet or "")
