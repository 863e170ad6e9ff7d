"""The benchmarks compare like with like: each peer computes what neuralcodes computes.

Only agreement is tested here (never speed): the notebook's loader gives the same pixels as our
decoder, FAISS the same neighbours and mAP as our search, the Keras peer the same codes as our
model once the weights are copied across; plus the arithmetic of the table's ratios.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `benchmarks`

from benchmarks.bench_search import make_codes  # noqa: E402
from benchmarks.common import Row, ratio  # noqa: E402
from benchmarks.peers.notebook_loader import load_class_images, load_like_notebook  # noqa: E402
from benchmarks.report import BEGIN, END, write_benchmarks_md  # noqa: E402

from neuralcodes.data.decode import decode_files  # noqa: E402


def test_notebook_loader_pixels_equal_our_decoder(tiny_dataset: Path) -> None:
    for label, wnid in enumerate(sorted(os.listdir(tiny_dataset / "train"))[:3]):
        theirs, labels = load_class_images(tiny_dataset, wnid, label)  # (20, 64, 64, 3)
        files = sorted(os.listdir(tiny_dataset / "train" / wnid / "images"))
        ours = decode_files(tiny_dataset, [f"train/{wnid}/images/{f}" for f in files], workers=1)
        assert theirs.shape == (20, 64, 64, 3) and labels.tolist() == [label] * 20
        np.testing.assert_array_equal(theirs, ours.images)


def test_notebook_split_sizes_and_scaling(tiny_dataset: Path) -> None:
    out = load_like_notebook(tiny_dataset, num_train_classes=8)  # 160 in-domain, 40 OOD
    sizes = {k: len(v) for k, v in out.items() if k.endswith("_x")}
    assert sizes == {"val_x": 16, "test_x": 16, "train_x": 128, "ood_x": 40}
    assert out["train_x"].dtype == np.float32 and out["train_x"].max() <= 1.0
    raw = load_like_notebook(tiny_dataset, num_train_classes=8, to_float=False)
    np.testing.assert_array_equal(np.rint(out["val_x"] * 255).astype(np.uint8), raw["val_x"])
    assert sorted(raw["ood_y"].tolist()) == sorted([8] * 20 + [9] * 20)


def test_faiss_agrees_with_our_search_and_map() -> None:
    pytest.importorskip("faiss")
    from benchmarks.peers.faiss_search import faiss_knn, faiss_map

    from neuralcodes.metrics import retrieval_scores
    from neuralcodes.search import knn

    x, y = make_codes(64, classes=4, per_class=30)  # (120, 64) unit rows
    d_ours, ids_ours = knn(x, x, 5, exclude=np.arange(len(x)))
    d_faiss, ids_faiss = faiss_knn(x, x, 6)  # the query itself comes first
    np.testing.assert_array_equal(ids_faiss[:, 0], np.arange(len(x)))
    np.testing.assert_array_equal(ids_ours, ids_faiss[:, 1:])
    np.testing.assert_allclose(d_ours, d_faiss[:, 1:], atol=1e-3)
    assert abs(faiss_map(x, y, block=50) - retrieval_scores(x, y).map) < 1e-6


def test_ratio_is_speed_up_for_times_and_rate_ratio_for_throughputs() -> None:
    rows = [
        Row("train", "keras", "images/s", [10.0, 12.0, 8.0], True),
        Row("train", "ours", "images/s", [19.0, 25.0, 1.0], True, "keras"),
        Row("load", "notebook", "s", [100.0], False),
        Row("load", "ours", "s", [4.0], False, "notebook"),
    ]
    assert ratio(rows[1], rows) == pytest.approx(1.9)  # medians 19 / 10
    assert ratio(rows[3], rows) == pytest.approx(25.0)  # 100 s / 4 s
    assert ratio(rows[0], rows) is None


def test_benchmarks_md_keeps_the_text_around_the_table(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(f"# B\n\nintro\n\n{BEGIN}\nold table\n{END}\n\nnotes\n")
    rows = [
        Row("load", "notebook", "s", [100.0], False),
        Row("load", "ours", "s", [4.0], False, "notebook"),
    ]
    write_benchmarks_md(rows, {"cpu": "test cpu"}, "cmd", path=path)
    text = path.read_text()
    assert text.startswith("# B\n\nintro\n\n") and text.endswith("\n\nnotes\n")
    assert "old table" not in text and "- cpu: test cpu" in text
    assert "| load | ours | 4 | s | 1 | **25.00x** vs notebook |" in text
    assert "| load | notebook | 100 | s | 1 | (peer) |" in text


@pytest.mark.slow
def test_keras_peer_computes_our_codes_with_copied_weights() -> None:
    pytest.importorskip("tensorflow")
    import torch
    from benchmarks.peers.keras_net import (
        build_keras_model,
        codes_model,
        copy_weights,
        keras_l5_to_torch_order,
    )

    from neuralcodes.config import ModelConfig
    from neuralcodes.model import create_model

    assert build_keras_model(190).count_params() == 40_516_382  # the protocol's, as ours
    torch.manual_seed(0)
    ours = create_model(ModelConfig(num_classes=7, width=0.1)).eval()
    keras = build_keras_model(7, width=0.1, softmax=False)
    copy_weights(ours, keras)
    x = np.random.default_rng(0).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    outs = codes_model(keras, ("L5", "L6", "L7", "logits")).predict(x / np.float32(255), verbose=0)
    with torch.no_grad():
        want = ours.forward_codes(
            torch.from_numpy(x).permute(0, 3, 1, 2) / 255.0, ["L5", "L6", "L7", "logits"]
        )
    got = [keras_l5_to_torch_order(outs[0], ours.feature_shape), *outs[1:]]
    for name, value in zip(("L5", "L6", "L7", "logits"), got, strict=True):
        np.testing.assert_allclose(value, want[name].numpy(), atol=1e-5, err_msg=name)
