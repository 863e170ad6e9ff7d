"""The peer: the seed notebook's model in Keras/TensorFlow, and weights copied from neuralcodes.

The model is the notebook's ``make_model`` (the protocol), with ``width`` scaling the channels the
same way ``neuralcodes.model.scaled`` does, so small copies can be compared in tests. TensorFlow
is imported inside the functions: it is an optional benchmark dependency only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CONV_SPECS = ((4, 96), (5, 192), (3, 288), (3, 288), (3, 256))  # (kernel, channels)
FC_WIDTH = 2048


def build_keras_model(
    num_classes: int = 190, image_size: int = 64, width: float = 1.0, *, softmax: bool = True
) -> Any:
    """The notebook's ``Sequential`` model; conv layers named conv1..conv5, dense L6, L7, logits."""
    from tensorflow import keras
    from tensorflow.keras import layers

    def scaled(c: int) -> int:
        return max(1, round(c * width))

    model = keras.Sequential(name="notebook")
    model.add(keras.Input((image_size, image_size, 3)))
    for i, (kernel, channels) in enumerate(CONV_SPECS, start=1):
        model.add(
            layers.Conv2D(
                scaled(channels), kernel, padding="same", activation="relu", name=f"conv{i}"
            )
        )
        if i in (1, 2, 5):
            model.add(layers.MaxPooling2D(padding="same", name=f"pool{(1, 2, 5).index(i) + 1}"))
    model.add(layers.Flatten(name="L5"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(scaled(FC_WIDTH), activation="relu", name="L6"))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(scaled(FC_WIDTH), activation="relu", name="L7"))
    model.add(layers.Dense(num_classes, activation="softmax" if softmax else None, name="logits"))
    return model


def compile_like_notebook(model: Any) -> Any:
    """Adam 1e-4 AMSGrad, sparse categorical cross-entropy, accuracy and top-5, as the notebook."""
    from tensorflow import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-4, amsgrad=True),
        loss=keras.losses.sparse_categorical_crossentropy,
        metrics=["accuracy", "sparse_top_k_categorical_accuracy"],
    )
    return model


def codes_model(model: Any, layers: tuple[str, ...] = ("L5", "L6", "L7")) -> Any:
    """A Keras model returning the activations of ``layers`` (one forward pass for all)."""
    from tensorflow import keras

    outputs = [model.get_layer(name).output for name in layers]
    return keras.Model(model.inputs, outputs)


def copy_weights(torch_model: Any, keras_model: Any) -> None:
    """Load a ``neuralcodes`` NotebookNet's weights into the Keras model (no BatchNorm).

    Conv kernels go from (O, I, kh, kw) to (kh, kw, I, O); dense weights are transposed. Keras
    flattens the pool3 map in (h, w, C) order and PyTorch in (C, h, w), so the rows of L6's kernel
    are permuted to match: both models then compute the same function.
    """
    sd = {k: v.detach().float().cpu().numpy() for k, v in torch_model.state_dict().items()}
    for i in range(1, 6):
        w = sd[f"conv{i}.conv.weight"]  # (O, I, kh, kw)
        keras_model.get_layer(f"conv{i}").set_weights(
            [w.transpose(2, 3, 1, 0), sd[f"conv{i}.conv.bias"]]
        )
    c, h, w_ = torch_model.feature_shape  # (C, h, w) of pool3
    fc6 = sd["fc6.weight"]  # (D6, C*h*w) in (C, h, w) order
    fc6 = fc6.reshape(-1, c, h, w_).transpose(0, 2, 3, 1).reshape(fc6.shape[0], -1)  # (h, w, C)
    keras_model.get_layer("L6").set_weights([fc6.T, sd["fc6.bias"]])
    keras_model.get_layer("L7").set_weights([sd["fc7.weight"].T, sd["fc7.bias"]])
    keras_model.get_layer("logits").set_weights([sd["fc8.weight"].T, sd["fc8.bias"]])


def keras_l5_to_torch_order(codes: np.ndarray, feature_shape: tuple[int, int, int]) -> np.ndarray:
    """(N, h*w*C) Keras L5 codes reordered to PyTorch's (C, h, w) flattening: (N, C*h*w)."""
    c, h, w = feature_shape
    return codes.reshape(len(codes), h, w, c).transpose(0, 3, 1, 2).reshape(len(codes), -1)
