"""The scale-out commands end to end: ``torchrun ... -m neuralcodes train-ddp`` on a prepared run
folder, and ``neuralcodes index build --ray`` (each starts its own processes: marked slow)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from neuralcodes.artifacts import atomic_write_json
from neuralcodes.cli import main
from neuralcodes.config import RunConfig, replace, to_dict
from neuralcodes.index.store import generation_dir, read_entries, read_manifest

TINY = {"data.synthetic_classes": 6, "data.synthetic_per_class": 12, "data.n_in_domain": 4,
        "model.width": 0.0625, "train.epochs": 2, "train.batch_size": 16, "train.patience": 5,
        "train.device": "cpu", "train.num_threads": 1}


@pytest.mark.slow
def test_torchrun_train_ddp_trains_a_prepared_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  ) -> None:
    monkeypatch.setenv("NEURALCODES_HOME", str(tmp_path / "home"))
    cfg_path = tmp_path / "config.json"
    atomic_write_json(cfg_path, to_dict(replace(RunConfig(), **TINY)))
    run = tmp_path / "run"
    assert main(["prepare", str(run), "--data", "synthetic", "--config", str(cfg_path)]) == 0
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    assert torchrun is not None
    env = {**os.environ, "NEURALCODES_HOME": str(tmp_path / "home"), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([torchrun, "--standalone", "--nproc-per-node", "2", "-m",
                           "neuralcodes", "train-ddp", str(run)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    history = json.loads((run / "history.json").read_text())["epochs"]
    assert len(history) == 2 and all(r["loss"] > 0 for r in history)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training"]["processes"] == 2 and (run / "model.pt").is_file()


@pytest.mark.slow
def test_index_build_ray_command_builds_an_index(
    tmp_path: Path, run_dir: Path, photo_maker: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("ray")
    photos = photo_maker(tmp_path / "photos", 12, bad=0)
    rc = main(["index", "build", str(photos), "--out", str(tmp_path / "idx"), "--model",
               str(run_dir), "--device", "cpu", "--ray", "--ray-workers", "2", "--shard-size",
               "5", "-q"])
    assert rc == 0
    assert "12 images" in capsys.readouterr().out
    manifest = read_manifest(tmp_path / "idx")
    assert len(read_entries(generation_dir(tmp_path / "idx", manifest))) == 12
    assert manifest["distributed"]["shards"] == 3
