"""The research commands: sweep, finetune, compare, folder-retrieval, recipes; their help."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from neuralcodes.cli import build_parser, main
from neuralcodes.errors import ConfigError
from neuralcodes.model import load_model
from neuralcodes.research.networks import open_network


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    shutil.copytree(tiny_run, tmp_path / "run")
    return tmp_path / "run"


def test_sweep_files_and_cli(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(run), "--layers", "L7", "--pool", "mac", "--dims", "4",
                 "--whiten", "both", "--qe", "0", "2", "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "| conv5-mac | 4 | yes | 2 |" in out
    with open(run / "sweep.csv") as f:
        table = list(csv.DictReader(f))
    assert len(table) == 2 * 2 * 3 and table[0]["bytes_per_image"] == str(4 * int(table[0]["dims"]))
    assert (run / "sweep.md").read_text().startswith("# Sweep")
    assert (run / "figures" / "sweep.png").stat().st_size > 1000


def test_compare_cli_on_the_parent_task_and_on_a_folder(tiny_run: Path, tuned: Path,
                                                        labelled: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(tiny_run), str(tuned), "--layer", "L6", "L7",
                 "--bootstrap", "50", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "out-of-domain images of" in out and "| L7 |" in out
    saved = json.loads((tmp_path / "compare.json").read_text())
    d = saved["rows"][0]["b_minus_a"]
    assert d["mean_diff"] == pytest.approx(saved["rows"][0]["b"]["map"]
                                           - saved["rows"][0]["a"]["map"], abs=1e-12)
    assert main(["compare", str(tiny_run), str(tuned), "--data", str(labelled),
                 "--bootstrap", "20"]) == 0
    assert "labelled folder" in capsys.readouterr().out


def test_cli_with_a_run_writes_the_table(tiny_run: Path, labelled: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["folder-retrieval", str(labelled), "--model", str(tiny_run), "--layers", "L7",
                 "--pca", "4", "--whiten", "--qe", "2", "--bootstrap", "20",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "PCA fitted on the evaluated images themselves (optimistic" in out
    assert "| L7 | 4 | whitened | 2 |" in out
    rows = json.loads((tmp_path / "folder-retrieval.json").read_text())
    assert len(rows) == 4 and rows[3]["whiten"] is True


def test_wrong_weights_layout_and_network_choice_are_refused(
        labelled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(2, 3, 3, 3)}, bad)
    assert main(["folder-retrieval", str(labelled), "--alexnet", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not torchvision AlexNet weights" in err and "Expected layout" in err
    with pytest.raises(ConfigError, match="exactly one"):
        open_network(None, None)


def test_folder_retrieval_and_compare_with_an_hf_model(
        hf_folder: Path, tiny_run: Path, labelled: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    spec = f"hf:{hf_folder}"
    assert main(["folder-retrieval", str(labelled), "--model", spec, "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert f"network: {spec} (dinov2, weights sha256" in out and "| cls | 32 | no |" in out
    # A is a run folder: its out-of-domain task, A's best layer beside B's default code
    assert main(["compare", str(tiny_run), spec, "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "out-of-domain images of" in out and " vs cls |" in out
    assert main(["compare", spec, str(tiny_run)]) == 2  # no run's task: a folder is needed
    assert "is not a run folder" in capsys.readouterr().err
    assert main(["compare", spec, spec, "--data", str(labelled), "--layer", "cls", "block1",
                 "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "labelled folder" in out and "| block1 |" in out and "| +0.0000 |" in out


@pytest.mark.slow
def test_cli_with_full_size_alexnet_weights(labelled: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """Randomly initialised AlexNet saved as the model zoo saves it (244 MB)."""
    from neuralcodes.models.alexnet import AlexNetCodes

    torch.manual_seed(0)
    weights = tmp_path / "alexnet-random.pth"
    torch.save(AlexNetCodes().state_dict(), weights)
    assert main(["folder-retrieval", str(labelled), "--alexnet", str(weights), "--layers", "L5",
                 "L6", "L7", "--pca", "8", "--pca-fit", str(labelled), "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "network: AlexNet weights" in out and "| L6 | 4096 | no |" in out
    assert "| L7 | 8 | yes |" in out and np.isfinite(1.0)


def test_recipes_cli_refuses_an_unknown_recipe(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipes", "--out", str(tmp_path), "--recipes", "fancy"]) == 2
    assert "unknown recipe 'fancy'" in capsys.readouterr().err


def test_finetune_writes_a_run_that_records_its_parent(tiny_run: Path, labelled: Path,
                                                       tmp_path: Path) -> None:
    out = tmp_path / "tuned"
    assert main(["finetune", str(tiny_run), "--data", str(labelled), "--out", str(out),
                 "--epochs", "1", "--lr", "1e-3"]) == 0
    parent = load_model(tiny_run / "model.pt")
    assert load_model(out / "model.pt").extra["parent_model_hash"] == parent.header["model_hash"]


@pytest.mark.parametrize("command", ["finetune", "recipes"])
def test_every_option_says_its_default(command: str) -> None:
    sub = build_parser()._subparsers._group_actions[0].choices[command]  # type: ignore[union-attr]
    for action in sub._actions:
        if action.option_strings and action.dest not in ("help", "data", "out"):
            assert action.help and "default" in action.help, action.option_strings
    text = " ".join(sub.format_help().split())
    expected = {"finetune": "(default 5)", "recipes": "(default notebook improved)"}[command]
    assert expected in text


def test_new_spellings_and_json(tiny_run: Path, labelled: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["folder-retrieval", str(labelled), "--model", str(tiny_run), "--layer", "L7",
                 "--pca", "4", "--whiten", "yes", "--pca-fit-on", str(labelled), "--qe", "2",
                 "--qe-alpha", "1", "--bootstrap", "0", "--json", "-q"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert sorted((r["codes"], r["pca"] or 0, r["whiten"], r["qe"]) for r in rows) == [
        ("L7", 0, False, 0), ("L7", 0, False, 2), ("L7", 4, True, 0), ("L7", 4, True, 2)]
    assert {r["pca_fit_on"] for r in rows if r["pca"]} == {str(labelled)}
    assert err == ""
