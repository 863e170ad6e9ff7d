"""The experiment's commands (run, demo, prepare, the steps) on a tiny synthetic dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.cli import main
from neuralcodes.config import RunConfig, replace
from neuralcodes.pipeline import prepare

TINY_FLAGS = ["--n-in-domain", "7", "--width", "0.0625", "--epochs", "2", "--patience", "5",
              "--batch-size", "20"]


@pytest.fixture(scope="module")
def cli_run(tiny_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run") / "run"
    assert main(["run", "--data", str(tiny_dataset), "--out", str(out), *TINY_FLAGS]) == 0
    return out


def test_run_writes_the_whole_run_folder(cli_run: Path) -> None:
    for name in ("config.json", "split.json", "model.pt", "checkpoint.pt", "history.csv",
                 "history.json", "metrics.json", "report.md", "report.html",
                 "figures/history.png", "figures/retrieval.png", "codes/ood_L7.npy"):
        assert (cli_run / name).is_file(), name
    metrics = json.loads((cli_run / "metrics.json").read_text())
    assert set(metrics["evaluation"]) == {"train", "val", "test"}
    assert {"L5", "L6", "L7", "pixels", "untrained L7"} <= set(metrics["retrieval"])
    assert metrics["evaluation"]["test"]["n"] == 14  # 10 % of 7 classes x 20 images
    assert metrics["retrieval"]["L7"]["n_queries"] == 60  # 3 OOD classes x 20 images


def test_codes_are_l2_normalised_rows(cli_run: Path) -> None:
    codes = np.load(cli_run / "codes" / "ood_L6.npy")
    assert codes.dtype == np.float32 and codes.shape == (60, 128)  # 2048 * 1/16
    np.testing.assert_allclose(np.linalg.norm(codes, axis=1), 1.0, atol=1e-5)


def test_report_tables_hold_the_metrics(cli_run: Path) -> None:
    metrics = json.loads((cli_run / "metrics.json").read_text())
    report = (cli_run / "report.md").read_text()
    assert f"| L7 | 128 | {metrics['retrieval']['L7']['map']:.4f} |" in report
    assert "data:image/png;base64," in (cli_run / "report.html").read_text()


def test_a_step_reruns_alone(cli_run: Path, tmp_path: Path) -> None:
    run = tmp_path / "copy"
    shutil.copytree(cli_run, run)
    before = json.loads((run / "metrics.json").read_text())["retrieval"]["L5"]["map"]
    (run / "report.md").unlink()
    assert main(["retrieval", str(run)]) == 0
    assert main(["report", str(run)]) == 0
    after = json.loads((run / "metrics.json").read_text())["retrieval"]["L5"]["map"]
    assert after == before and (run / "report.md").exists()


def test_codes_of_another_model_are_refused(cli_run: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "copy"
    shutil.copytree(cli_run, run)
    manifest = json.loads((run / "codes" / "manifest.json").read_text())
    manifest["model_hash"] = "0" * 16
    (run / "codes" / "manifest.json").write_text(json.dumps(manifest))
    assert main(["retrieval", str(run)]) == 2
    assert "model_hash" in capsys.readouterr().err


def test_missing_step_names_the_command_to_run(tmp_path: Path, tiny_dataset: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = replace(RunConfig(), **{"data.source": str(tiny_dataset), "data.n_in_domain": 7,
                                  "model.num_classes": 7})
    prepare(tmp_path / "r", cfg)
    assert main(["evaluate", str(tmp_path / "r")]) == 2
    assert "neuralcodes train" in capsys.readouterr().err


def test_not_tiny_imagenet_is_a_clear_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "photos").mkdir()
    assert main(["run", "--data", str(tmp_path / "photos"), "--out", str(tmp_path / "r")]) == 2
    assert str(tmp_path / "photos") in capsys.readouterr().err


def test_run_without_arguments_refuses_its_default_before_writing_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    assert "synthetic dataset has 40 classes" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # no synthetic data generated, no runs/ folder


def test_a_step_on_a_folder_that_is_not_a_run_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "photos").mkdir()
    for step in ("report", "figures", "retrieval"):
        assert main([step, str(tmp_path / "photos")]) == 2
        assert "not a neuralcodes run folder" in capsys.readouterr().err
    assert list((tmp_path / "photos").iterdir()) == []


def test_a_bad_value_in_a_config_file_lists_the_choices(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"train": {"precision": "fp64"}}))
    assert main(["run", "--config", str(tmp_path / "config.json"),
                 "--out", str(tmp_path / "r")]) == 2
    assert "unknown precision 'fp64' (train.precision); choose one of fp32, bf16" in (
        capsys.readouterr().err)
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("command", "expected"), [
    ("demo", ["--epochs EPOCHS       at most this many epochs (default 30)",
              "(default 0.25)", "(default 40)", "(default auto)", "(default 2)"]),
    ("run", ["--epochs EPOCHS       at most this many epochs (default 100)",
             "(default 1.0)", "(default 190)", "(default fp32)", "(default 0)"]),
])
def test_help_shows_the_defaults_of_each_command(command: str, expected: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for fragment in expected:
        assert " ".join(fragment.split()) in text, fragment
