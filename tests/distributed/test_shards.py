"""The shard format: planning, atomic writes, completeness, refusal of another job's shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neuralcodes.distributed.shards import (
    Shard,
    ShardPlan,
    concat_codes,
    iter_shards,
    open_shard_dir,
    pending_shards,
    read_shard,
    write_shard,
)
from neuralcodes.errors import ArtifactMismatchError, DataError

FILES = tuple(f"f{i}.jpg" for i in range(7))
JOB = {"encoder": {"model_hash": "abc", "layer": "L6"}, "photos_root": "/photos"}


def shard_of(plan: ShardPlan, k: int, dim: int = 3) -> Shard:
    """Shard ``k`` with every file readable but the last of shard 1; code rows = file number."""
    files = plan.shard_files(k)
    bad = [f for f in files if f == "f5.jpg"]
    good = [f for f in files if f not in bad]
    codes = np.array([[int(f[1:-4])] * dim for f in good], np.float32).reshape(-1, dim)
    return Shard(k, [{"path": f, "sha256": "s", "size": 1, "mtime_ns": 2} for f in good],
                 [{"path": f, "problem": "broken"} for f in bad], codes)


def test_plan_cuts_files_into_shards() -> None:
    plan = ShardPlan(FILES, shard_size=3)
    assert plan.n_shards == 3
    assert plan.shard_files(2) == ["f6.jpg"]
    assert ShardPlan((), 3).n_shards == 0
    with pytest.raises(ValueError):
        ShardPlan(FILES, shard_size=0)


def test_written_shards_are_complete_and_read_back(tmp_path: Path) -> None:
    plan = ShardPlan(FILES, shard_size=3)
    open_shard_dir(tmp_path, plan, JOB)
    assert pending_shards(tmp_path, plan) == [0, 1, 2]
    for k in (0, 2):
        write_shard(tmp_path, shard_of(plan, k))
    assert pending_shards(tmp_path, plan) == [1]
    with pytest.raises(DataError, match="shard-000001"):
        list(iter_shards(tmp_path, plan))
    write_shard(tmp_path, shard_of(plan, 1))
    shard = read_shard(tmp_path, 1)
    assert isinstance(shard.codes, np.memmap) and shard.codes[:, 0].tolist() == [3.0, 4.0]
    assert shard.bad == [{"path": "f5.jpg", "problem": "broken"}]
    all_codes = concat_codes(iter_shards(tmp_path, plan), tmp_path / "all.npy", 6, 3)
    assert all_codes[:, 0].tolist() == [0, 1, 2, 3, 4, 6]
    assert not list(tmp_path.glob("*.tmp"))  # atomic writes leave no temporary files


def test_a_shard_without_its_json_or_with_other_files_is_redone(tmp_path: Path) -> None:
    plan = ShardPlan(FILES, shard_size=3)
    open_shard_dir(tmp_path, plan, JOB)
    for k in range(3):
        write_shard(tmp_path, shard_of(plan, k))
    (tmp_path / "shard-000000.json").unlink()  # killed between the .npy and the .json
    np.save(tmp_path / "shard-000002.npy", np.zeros((5, 3), np.float32))  # rows do not match
    assert pending_shards(tmp_path, plan) == [0, 2]


def test_shards_of_another_job_are_refused(tmp_path: Path) -> None:
    plan = ShardPlan(FILES, shard_size=3)
    open_shard_dir(tmp_path, plan, JOB)
    open_shard_dir(tmp_path, plan, JOB)  # the same job reopens its folder
    with pytest.raises(ArtifactMismatchError, match="model_hash|encoder"):
        open_shard_dir(tmp_path, plan, {**JOB, "encoder": {"model_hash": "xyz", "layer": "L6"}})
    with pytest.raises(ArtifactMismatchError, match="files_hash"):
        open_shard_dir(tmp_path, ShardPlan(FILES[:-1], 3), JOB)


def test_write_shard_refuses_codes_that_do_not_match_rows(tmp_path: Path) -> None:
    shard = Shard(0, [{"path": "a", "sha256": "", "size": 0, "mtime_ns": 0}], [],
                  np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="2 codes for 1 rows"):
        write_shard(tmp_path, shard)
