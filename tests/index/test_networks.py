"""Indexes of pretrained networks (any model SPEC): what the manifest records, reopening, and
the refusal of another network, layer or preprocessing. Tiny random models; nothing downloads."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.cli import main
from neuralcodes.encoder import open_encoder
from neuralcodes.errors import ArtifactMismatchError, DataError
from neuralcodes.index import Index, build_index, update_index
from neuralcodes.models.preprocess import from_processor_config

from ..models.helpers import PROCESSORS


@pytest.fixture(scope="module")
def hf_index(hf_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(photo folder, index) of 8 photos indexed with ``hf:<hf_folder>`` (read-only)."""
    from .conftest import make_photo

    root = tmp_path_factory.mktemp("hf-index")
    for i in range(8):
        make_photo(root / "photos" / f"p{i}.{'png' if i % 2 else 'jpg'}", seed=i,
                   size=(70 + 9 * i, 50 + 5 * i))
    enc = open_encoder(f"hf:{hf_folder}", device="cpu", precision="fp32")
    build_index(root / "photos", root / "idx", encoder=enc, workers=1)
    return root / "photos", root / "idx"


def test_an_hf_index_records_its_network_and_reopens(hf_folder: Path,
                                                     hf_index: tuple[Path, Path]) -> None:
    photos, idx = hf_index
    m = json.loads((idx / "manifest.json").read_text())
    weights = hashlib.sha256((hf_folder / "model.safetensors").read_bytes()).hexdigest()
    assert (m["model"], m["kind"], m["model_name"], m["layer"]) == (
        f"hf:{hf_folder.resolve()}", "hf", "dinov2", "cls")
    assert (m["hub_id"], m["revision"], m["weights_sha256"], m["model_hash"]) == (
        None, None, weights, weights[:16])
    pre = from_processor_config(PROCESSORS["dinov2"], "x")
    assert m["preprocess"] == pre.to_dict() and "run_dir" not in m
    assert (m["image_size"], m["code_dim"], m["dim"]) == (32, 32, 32)
    assert m["image"]["policy"] == ("shorter side resized to 36, centre crop 32 x 32 (bicubic), "
                                    "EXIF orientation, RGB")
    with Index.open(idx, device="cpu") as index:  # the recorded SPEC, at the recorded layer
        assert index.encoder.layer == "cls" and index.encoder.precision == "auto"
        files = sorted(photos.iterdir())
        # the index read every file with the network's own preprocessing (the same pixels)
        fp32 = open_encoder(f"hf:{hf_folder}", device="cpu", precision="fp32")
        expected = fp32.encode(np.stack([fp32.load(f) for f in files]))  # (8, 32)
        got = np.stack([index.vectors[index._row[i]] for i in range(8)])
        np.testing.assert_allclose(got, expected, atol=1e-5)
        result = index.search(files[3], k=3)
        assert result.paths[0] == str(files[3]) and result.distances[0] < 0.05


def test_build_then_update_with_the_recorded_network(hf_folder: Path, hf_index: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    from .conftest import make_photo

    photos, idx = tmp_path / "photos", tmp_path / "idx"
    shutil.copytree(hf_index[0], photos)
    with Index.build(photos, idx, model=f"hf:{hf_folder}", layer="patch-mean", device="cpu",
                     workers=1) as index:
        assert len(index) == 8 and index.manifest["layer"] == "patch-mean"
    make_photo(photos / "new.png", seed=50)
    info = update_index(idx, device="cpu", workers=1)  # the network and layer recorded
    assert (info.count, info.added, info.changed, info.removed) == (9, 1, 0, 0)
    with Index.open(idx, device="cpu") as index:
        assert index.search(photos / "new.png", k=1).paths == [str(photos / "new.png")]


def _other_preprocessing(hf_folder: Path, to: Path) -> Path:
    shutil.copytree(hf_folder, to)
    cfg = json.loads((to / "preprocessor_config.json").read_text())
    cfg["size"] = {"shortest_edge": 40}
    (to / "preprocessor_config.json").write_text(json.dumps(cfg))
    return to


def _other_weights(hf_folder: Path, to: Path) -> Path:
    from safetensors.torch import load_file, save_file

    shutil.copytree(hf_folder, to)
    tensors = load_file(to / "model.safetensors")
    name = sorted(tensors)[0]
    tensors[name] = tensors[name] + 1
    save_file(tensors, to / "model.safetensors", metadata={"format": "pt"})
    return to


def test_another_network_layer_or_preprocessing_is_refused(
        hf_folder: Path, hf_index: tuple[Path, Path], run_dir: Path, tmp_path: Path) -> None:
    idx = hf_index[1]
    with pytest.raises(ArtifactMismatchError, match="layer: artifact has 'cls', expected "
                       "'patch-mean'.*name that one with --model SPEC"):
        Index.open(idx, encoder=open_encoder(f"hf:{hf_folder}", layer="patch-mean"))
    other = _other_preprocessing(hf_folder, tmp_path / "pre")
    with pytest.raises(ArtifactMismatchError, match="preprocess.resize_to: artifact has 36, "
                       "expected 40") as e:
        Index.open(idx, f"hf:{other}")
    assert "model_hash" not in str(e.value)  # the same weights: only the input differs
    heavier = _other_weights(hf_folder, tmp_path / "weights")
    with pytest.raises(ArtifactMismatchError, match="model_hash: artifact has '[0-9a-f]{16}', "
                       "expected '[0-9a-f]{16}'; weights_sha256"):
        update_index(idx, model=f"hf:{heavier}", device="cpu")
    with pytest.raises(ArtifactMismatchError, match=r"network: a local dinov2 folder \(weights "
                       r"sha256 [0-9a-f]+\.\.\.\) there, a neuralcodes run's notebook model"):
        Index.open(idx, model=run_dir)


def test_a_moved_model_folder_is_named_and_can_be_given(
        hf_folder: Path, hf_index: tuple[Path, Path], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(hf_folder, tmp_path / "net")
    photos = shutil.copytree(hf_index[0], tmp_path / "photos")
    monkeypatch.chdir(tmp_path)
    assert main(["index", "build", str(photos), "--out", "idx", "--model", "hf:./net",
                 "--layer", "block1", "--workers", "1", "--device", "cpu", "-q"]) == 0
    m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert (m["model"], m["layer"]) == (f"hf:{tmp_path / 'net'}", "block1")  # absolute
    (tmp_path / "net").rename(tmp_path / "moved")
    with pytest.raises(DataError, match=r"net: no such model folder .*name it with --model SPEC"):
        Index.open("idx")
    capsys.readouterr()
    query = str(photos / "p2.jpg")
    assert main(["search", "idx", query, "-k", "2", "--model", "hf:moved", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["path"] == query
    (photos / "new.jpg").write_bytes((photos / "p2.jpg").read_bytes())
    # an update that names the model again records where it is now
    assert main(["index", "update", "idx", "--model", "hf:moved", "--workers", "1", "-q"]) == 0
    assert json.loads((tmp_path / "idx" / "manifest.json").read_text())["model"] == (
        f"hf:{tmp_path / 'moved'}")
    with Index.open("idx") as index:
        assert index.encoder.layer == "block1"


def test_a_hub_model_is_pinned_to_its_revision(hf_folder: Path, hf_index: tuple[Path, Path],
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from ..models.helpers import fake_hub_cache

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: never downloads
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    commit = fake_hub_cache(tmp_path / "hub", "tiny/dinov2", hf_folder)
    build_index(hf_index[0], tmp_path / "idx", model="hf:tiny/dinov2", device="cpu", workers=1)
    m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert (m["model"], m["hub_id"], m["revision"], m["weights_sha256"]) == (
        f"hf:tiny/dinov2@{commit}", "tiny/dinov2", commit, None)
    newer = fake_hub_cache(tmp_path / "hub", "tiny/dinov2",
                           _other_weights(hf_folder, tmp_path / "v2"))  # main moves on
    with Index.open(tmp_path / "idx", device="cpu") as index:  # the pinned snapshot, cached
        assert index.encoder.fingerprint()["revision"] == commit
    with pytest.raises(ArtifactMismatchError, match=f"revision: artifact has '{commit}', "
                       f"expected '{newer}'"):
        Index.open(tmp_path / "idx", "hf:tiny/dinov2")


def test_index_info_shows_the_fingerprint(hf_index: tuple[Path, Path],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "info", str(hf_index[1]), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert all(key.isidentifier() and key.islower() for key in info)
    assert (info["kind"], info["model_name"], info["layer"], info["hub_id"]) == (
        "hf", "dinov2", "cls", None)
    assert info["model"].startswith("hf:/") and len(info["weights_sha256"]) == 64
    assert info["preprocess"]["resize_to"] == 36 and info["preprocess"]["resample"] == "bicubic"
    assert info["model_status"].startswith("present")
    assert main(["index", "info", str(hf_index[1])]) == 0
    text = capsys.readouterr().out
    assert "network kind                hf" in text and "shorter side resized to 36" in text


def test_an_index_from_before_specs_opens_with_its_run_dir(run_dir: Path, photos: Path,
                                                           tmp_path: Path) -> None:
    build_index(photos, tmp_path / "idx", run_dir=run_dir, device="cpu", workers=1)
    path = tmp_path / "idx" / "manifest.json"
    m = json.loads(path.read_text())
    assert m["model"] == m["run_dir"] == str(run_dir.resolve()) and "kind" not in m
    del m["model"]  # as written before model SPECs
    path.write_text(json.dumps(m))
    with Index.open(tmp_path / "idx", device="cpu") as index:
        assert index.encoder.run_dir == run_dir.resolve() and len(index) == 20


def test_alexnet_weights_file_index(photos: Path, tmp_path: Path) -> None:
    """A randomly initialised AlexNet saved as the model zoo saves it (244 MB)."""
    import torch

    from neuralcodes.models.alexnet import AlexNetCodes

    torch.manual_seed(0)
    weights = tmp_path / "alexnet-random.pth"
    torch.save(AlexNetCodes().state_dict(), weights)
    shutil.rmtree(photos / "b")  # 8 photos are enough
    index = Index.build(photos, tmp_path / "idx", model=f"alexnet:{weights}", device="cpu",
                        workers=1)
    m = index.manifest
    assert (m["kind"], m["layer"], m["code_dim"], m["model"]) == (
        "alexnet", "L6", 4096, f"alexnet:{weights}")
    assert m["preprocess"]["resize_to"] == 256 and m["preprocess"]["crop_offset"] == "round"
    query = photos / "a" / "img05.jpg"
    assert index.search(query, k=1).paths == [str(query)]
    index.close()
    with Index.open(tmp_path / "idx", device="cpu") as again:
        assert again.search(query, k=1).paths == [str(query)]
