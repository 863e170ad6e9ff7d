"""The encoding benchmark measures what it says (never speed here): its models' preprocessing is
their families' native one, both sides encode the photos, and the bf16 check's arithmetic."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: `benchmarks`

from benchmarks.encode_precision import (  # noqa: E402
    generated_set,
    labelled_files,
    precision_agreement,
)

from benchmarks import bench_encode  # noqa: E402
from neuralcodes.models.preprocess import from_processor_config  # noqa: E402

pytest.importorskip("transformers")


@pytest.mark.parametrize("family, resize_to", [("dinov2", 256), ("clip", 224), ("vit", 224),
                                               ("resnet", 256), ("convnext", 256)])
def test_native_preprocessing(family: str, resize_to: int) -> None:
    pre = from_processor_config(bench_encode.PROCESSORS[family], family)
    assert (pre.size, pre.resize_to) == (224, resize_to)


@pytest.fixture()
def bench_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(bench_encode, "BENCH_DIR", tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path


def test_ours_and_the_peer_encode_the_photos(bench_dir: Path) -> None:
    photos = bench_encode.make_photos(3, 0.03, bench_dir / "photos")
    from PIL import Image

    assert Image.open(photos[0]).size == (200, 150)
    folder = bench_encode.model_folder("resnet", "tiny")
    ours = bench_encode.ours(folder, photos, "fp32")
    assert ours["images_per_s"] > 0 and ours["decode_share"] > 0
    assert bench_encode.peer(folder, photos)["images_per_s"] > 0


def test_precision_agreement(bench_dir: Path) -> None:
    from neuralcodes.encoder import open_encoder
    from neuralcodes.metrics import retrieval_scores

    files, labels = labelled_files(generated_set(bench_dir / "set", classes=3, per_class=3))
    assert labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    spec = f"hf:{bench_encode.model_folder('vit', 'tiny')}"
    result = precision_agreement(spec, files, labels)
    enc = open_encoder(spec, precision="fp32", device="cpu")
    fp32 = retrieval_scores(enc.encode(np.stack([enc.load(f) for f in files])), labels,
                            precision_at=(1,), recall_at=(1,)).map
    assert result["fp32_map"] == pytest.approx(fp32)
    assert result["difference"] == pytest.approx(result["bf16_map"] - result["fp32_map"])
    assert 0 <= result["max_abs_code_difference"] < 0.1
    assert 0 <= result["same_nearest_neighbour"] <= 1
