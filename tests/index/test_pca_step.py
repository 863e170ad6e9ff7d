from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from neuralcodes.errors import ConfigError
from neuralcodes.images import load_image
from neuralcodes.index import Encoder, Index, build_index, update_index
from neuralcodes.postprocess.pca import apply_pca, fit_pca


def _run_with_test_codes(run_dir: Path, tmp_path: Path, n: int = 60) -> tuple[Path, np.ndarray]:
    """A copy of the run folder with codes/test_L6.npy of its model (as the experiment writes)."""
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    enc = Encoder.from_run(run, device="cpu")
    images = np.random.default_rng(5).integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    codes = enc.encode(images)
    (run / "codes").mkdir()
    np.save(run / "codes" / "test_L6.npy", codes)
    manifest = {"artifact": "codes", "model_hash": enc.fingerprint()["model_hash"]}
    (run / "codes" / "manifest.json").write_text(json.dumps(manifest))
    return run, codes


def test_pca_fitted_on_the_runs_held_out_codes(photos: Path, run_dir: Path,
                                                tmp_path: Path) -> None:
    run, fit_codes = _run_with_test_codes(run_dir, tmp_path)
    info = build_index(photos, tmp_path / "idx", run_dir=run, pca=16, device="cpu", workers=1)
    assert info.dim == 16
    m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert m["pca"]["fitted_on"] == "run" and m["pca"]["n_fit"] == 60 and m["dim"] == 16
    index = Index.open(tmp_path / "idx", device="cpu")
    raw = Encoder.from_run(run, device="cpu").encode(
        np.stack([load_image(index.path_of(e.id)) for e in index.entries]))
    expected = apply_pca(fit_pca(fit_codes, 16), raw)  # fitted on the run's codes, not these
    np.testing.assert_allclose(index.vectors, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(index.vectors, axis=1), 1.0, rtol=1e-5)
    dist, ids = index.search_many(raw[:3], k=1)  # raw codes are projected before the search
    np.testing.assert_array_equal(ids[:, 0], [e.id for e in index.entries[:3]])


def test_pca_falls_back_to_the_collection(photos: Path, run_dir: Path, tmp_path: Path,
                                          new_photo: Any) -> None:
    info = build_index(photos, tmp_path / "idx", run_dir=run_dir, pca=16, device="cpu",
                       workers=1)
    m = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert info.dim == 16 and m["pca"]["fitted_on"] == "collection"
    assert "no codes/test_L6.npy" in m["pca"]["fit_source"]
    new_photo(photos / "new.png", seed=77, fmt="PNG")  # updates reuse the stored PCA
    assert update_index(tmp_path / "idx", device="cpu", workers=1).dim == 16


def test_pca_dims_checked(photos: Path, run_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="between 16 and 512"):
        build_index(photos, tmp_path / "idx", run_dir=run_dir, pca=8)
    with pytest.raises(ConfigError, match="at most 19 dimensions"):  # 20 images: rank 19
        build_index(photos, tmp_path / "idx", run_dir=run_dir, pca=32, device="cpu", workers=1)
