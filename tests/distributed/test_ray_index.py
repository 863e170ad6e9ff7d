"""The Ray build of an index equals the single-process build; failures are retried; reruns skip
shards already written. One local 2-CPU Ray for the module."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from neuralcodes.distributed.ray_extract import ShardWorker, extract_shards
from neuralcodes.distributed.ray_index import build_index_ray
from neuralcodes.distributed.shards import ShardPlan, pending_shards, read_shard
from neuralcodes.images import scan_images
from neuralcodes.index import Encoder, build_index
from neuralcodes.index.plan import rel_path
from neuralcodes.index.store import generation_dir, read_entries, read_manifest, read_vectors

pytestmark = pytest.mark.usefixtures("ray_local")


class FailOnce(ShardWorker):
    """Raises on the first shard it is given, once per marker file: a worker failure."""

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        marker = self.shard_dir.parent / "failed-once"
        if not marker.exists():
            marker.write_text(str(batch["shard"][0]))
            raise RuntimeError("injected worker failure")
        return super().__call__(batch)


@pytest.fixture(scope="module", autouse=True)
def _pickle_test_classes_by_value() -> None:
    cloudpickle = pytest.importorskip("ray.cloudpickle")
    cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory, photo_maker: Callable[..., Path]) -> Path:
    return photo_maker(tmp_path_factory.mktemp("photos"), 45, bad=1)


def load(index_dir: Path) -> tuple[dict, list, np.ndarray]:
    manifest = read_manifest(index_dir)
    gen = generation_dir(index_dir, manifest)
    entries = read_entries(gen)
    return manifest, entries, read_vectors(gen, len(entries))


@pytest.mark.parametrize(("pca", "backend"), [(None, "exact"), (16, "ivfpq")])
def test_ray_build_equals_single_process_build(
    tmp_path: Path, photos: Path, run_dir: Path, pca: int | None, backend: str
) -> None:
    single = build_index(photos, tmp_path / "single", run_dir=run_dir, device="cpu",
                         batch_size=16, workers=1, pca=pca, backend=backend)
    info = build_index_ray(photos, tmp_path / "ray", run_dir=run_dir, device="cpu",
                           batch_size=16, ray_workers=2, shard_size=8, pca=pca,
                           backend=backend)
    m1, e1, v1 = load(tmp_path / "single")
    m2, e2, v2 = load(tmp_path / "ray")
    assert info.count == single.count == 45
    assert e2 == e1  # same ids, paths, hashes, sizes, mtimes
    np.testing.assert_allclose(v2, v1, rtol=1e-5, atol=1e-6)
    assert sorted(info.skipped) == sorted(single.skipped) and len(info.skipped) == 1
    volatile = {"created", "updated", "generation", "distributed"}
    m1["backend"].pop("build_seconds", None)
    m2["backend"].pop("build_seconds", None)
    assert {k: v for k, v in m2.items() if k not in volatile} == {
        k: v for k, v in m1.items() if k not in volatile}
    assert m2["distributed"] == {"engine": "ray", "shards": 6, "shard_size": 8}
    assert not (tmp_path / "ray" / "shards").exists()  # default shard folder is cleaned up


def test_failed_worker_batch_is_retried_and_rerun_skips_written_shards(
    tmp_path: Path, photos: Path, run_dir: Path
) -> None:
    encoder = Encoder.from_run(run_dir, layer="L6", device="cpu", batch_size=16)
    files = tuple(rel_path(photos.resolve(), p) for p in scan_images(photos))
    plan = ShardPlan(files, shard_size=10)
    shard_dir = tmp_path / "work" / "shards"
    first = extract_shards(photos.resolve(), plan, encoder, shard_dir, workers=2,
                           worker_class=FailOnce)
    assert (tmp_path / "work" / "failed-once").exists()  # the failure did happen ...
    assert (first.computed, first.skipped, first.rows, first.bad) == (5, 0, 45, 1)  # ... and no
    assert pending_shards(shard_dir, plan) == []  # batch was lost
    shard1 = read_shard(shard_dir, 1, mmap=False)
    expected = encoder.encode(np.stack([_pixels(photos, e["path"]) for e in shard1.entries]))
    np.testing.assert_allclose(shard1.codes, expected, rtol=1e-5, atol=1e-6)

    (shard_dir / "shard-000003.json").unlink()  # as if killed while writing shard 3
    again = extract_shards(photos.resolve(), plan, encoder, shard_dir, workers=2)
    assert (again.computed, again.skipped) == (1, 4)
    assert json.loads((shard_dir / "shard-000003.json").read_text())["shard"] == 3


def _pixels(root: Path, stored: str) -> np.ndarray:
    from neuralcodes.images import load_image

    return load_image(root / stored, 64)
