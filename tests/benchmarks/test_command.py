"""`neuralcodes benchmark` end to end with a real (tiny, random) network from a run folder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from neuralcodes.cli import main
from neuralcodes.config import ModelConfig
from neuralcodes.model import create_model, save_model

from . import replicas
from .replicas import Replica


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder holding a tiny randomly initialised model (width 1/16, 10 classes)."""
    torch.manual_seed(0)
    cfg = ModelConfig(width=0.0625, num_classes=10)
    run = tmp_path_factory.mktemp("run")
    save_model(run / "model.pt", create_model(cfg), cfg)
    return run


def test_revisited_result_folder(run_dir: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    data = replicas.roxford(tmp_path / "roxford5k", Replica())
    out = tmp_path / "result"
    args = ["benchmark", "roxford5k", "--data", str(data), "--model", str(run_dir), "--layer",
            "L6", "--out", str(out), "--bootstrap", "50"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| L6 (128-d) | Medium |" in printed and f"written: {out}" in printed
    assert "gives no figure quoted here" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["artifact"] == "benchmark-result" and config["neuralcodes_version"]
    assert config["encoder"]["kind"] == "run" and len(config["encoder"]["model_hash"]) == 16
    assert config["layer"] == "L6" and config["config"]["name"] == "roxford5k"
    assert config["data"]["n_images"] == 5 and config["data"]["n_queries"] == 2
    db, q = np.load(out / "codes" / "database.npy"), np.load(out / "codes" / "queries.npy")
    assert db.shape == (5, config["code_dim"]) and q.shape == (2, config["code_dim"])
    np.testing.assert_allclose(np.linalg.norm(db, axis=1), 1.0, rtol=1e-5)
    manifest = json.loads((out / "codes" / "manifest.json").read_text())
    assert manifest["database"] == list(replicas.REVISITED_DB)
    assert manifest["queries"] == ["all_souls_000001", "ashmolean_000001"]
    assert manifest["encoder"] == config["encoder"]
    rows = list(csv.DictReader((out / "per_query.csv").open()))
    assert [(r["query"], r["setup"]) for r in rows[:3]] == [
        ("all_souls_000001", "easy"), ("ashmolean_000001", "easy"), ("all_souls_000001", "medium")]
    assert len(rows) == 6 and set(rows[0]) == {"query", "setup", "ap", "p@1", "p@5", "p@10"}
    assert rows[-1]["ap"] == ""  # ashmolean_000001 has no hard image
    summary = json.loads((out / "results.json").read_text())
    medium = summary["results"][1]
    assert medium["setup"] == "medium" and len(medium["ci95"]) == 2
    assert set(medium["precision_at"]) == {"1", "5", "10"}
    assert (out / "results.md").read_text().startswith("# Benchmark roxford5k")
    assert (out / "figures" / "queries.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_pca_fitted_elsewhere_or_on_self(run_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    rep = Replica()
    data = replicas.holidays(tmp_path / "holidays", rep)
    other = replicas.ukbench(tmp_path / "ukbench", rep)
    base = ["benchmark", "holidays", "--data", str(data), "--model", str(run_dir), "--layer",
            "L7", "--bootstrap", "20", "--pca", "4", "--figure", "0"]
    out = tmp_path / "r"
    assert main([*base, "--pca-fit-on", str(other), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"4 dims, fitted on {other} (8 images)" in text
    config = json.loads((out / "config.json").read_text())
    assert config["pca"] == {"dims": 4, "whiten": False, "fitted_on": str(other),
                             "on_database": False, "n_fit": 8}
    assert np.load(out / "codes" / "database.npy").shape == (8, 4)
    assert (out / "codes" / "pca.npz").is_file()
    assert main([*base, "--pca-fit-on", "self", "--whiten", "--out", str(out)]) == 0  # replaced
    text = capsys.readouterr().out
    assert "fitted on this benchmark's own database" in text
    assert "| L7, PCA 4-d whitened (own database: optimistic) | – |" in text
    config = json.loads((out / "config.json").read_text())
    assert config["pca"]["on_database"] is True and config["pca"]["whiten"] is True
    assert "own database" in (out / "results.md").read_text()
    assert not (out / "figures").exists()


def test_bad_input_is_one_line(run_dir: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    data = replicas.ukbench(tmp_path / "ukbench", Replica())
    base = ["benchmark", "ukbench", "--data", str(data), "--model", str(run_dir), "--out",
            str(tmp_path / "out")]
    assert main([*base, "--pca", "8"]) == 2
    assert "give --pca-fit-on DIR" in capsys.readouterr().err
    (data / "full" / "ukbench00003.jpg").unlink()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralcodes: error: ") and "ukbench00003.jpg" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_pretrained_network_spec(hf_folder: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = replicas.ukbench(tmp_path / "ukbench", Replica())
    out = tmp_path / "r"
    assert main(["benchmark", "ukbench", "--data", str(data), "--model", f"hf:{hf_folder}",
                 "--out", str(out), "--bootstrap", "0", "--figure", "0"]) == 0
    printed = capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    enc = config["encoder"]
    assert (enc["kind"], enc["model_name"], config["layer"]) == ("hf", "dinov2", "cls")
    assert enc["preprocess"]["resize_to"] == 36 and enc["spec"] == f"hf:{hf_folder}"
    assert "cls (32-d)" in printed and np.load(out / "codes" / "database.npy").shape == (8, 32)
