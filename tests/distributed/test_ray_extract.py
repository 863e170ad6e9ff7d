"""A shard worker (without Ray: called directly) takes the pickled Encoder as it is; without Ray
installed, the Ray path says which extra to install."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from neuralcodes.distributed.ray_extract import ShardWorker, require_ray
from neuralcodes.errors import ConfigError
from neuralcodes.images import load_image, scan_images
from neuralcodes.index import Encoder
from neuralcodes.index.plan import rel_path


def _extract(encoder: Encoder, photos: Path, shards: Path, files: list[str]) -> Any:
    """Shard 0 of ``files`` by a ShardWorker, which sets torch's thread count (restored here)."""
    threads = torch.get_num_threads()
    try:
        return ShardWorker(encoder, str(photos), str(shards), 1).extract(0, files)
    finally:
        torch.set_num_threads(threads)


def test_shard_worker_takes_the_pickled_encoder(
    tmp_path: Path, run_dir: Path, photo_maker: Callable[..., Path]
) -> None:
    photos = photo_maker(tmp_path / "photos", 4, bad=1).resolve()
    encoder = Encoder.from_run(run_dir, layer="L6", device="cpu", batch_size=2)
    sent = pickle.loads(pickle.dumps(encoder))  # what Ray sends: settings, not the network
    assert sent._backbone is None and sent == encoder  # the network is not pickled
    files = sorted(rel_path(photos, p) for p in scan_images(photos))
    shard = _extract(sent, photos, tmp_path / "shards", files)
    assert [e["path"] for e in shard.entries] == [f for f in files if f != "a/broken0.jpg"]
    st = (photos / "a" / "broken0.jpg").stat()
    assert [(b["path"], b["size"], b["mtime_ns"]) for b in shard.bad] == [
        ("a/broken0.jpg", st.st_size, st.st_mtime_ns)]
    pixels = np.stack([load_image(photos / e["path"], 64) for e in shard.entries])
    np.testing.assert_allclose(shard.codes, encoder.encode(pixels), rtol=1e-5, atol=1e-6)


def test_shard_worker_takes_a_pickled_hf_encoder(
    tmp_path: Path, hf_folder: Path, photo_maker: Callable[..., Path]
) -> None:
    """A Ray build sends any network the same way: the encoder's settings, its network (and
    image preprocessing) rebuilt in the worker."""
    from neuralcodes.encoder import open_encoder

    photos = photo_maker(tmp_path / "photos", 3, bad=0).resolve()
    encoder = open_encoder(f"hf:{hf_folder}", device="cpu", precision="fp32", batch_size=2)
    sent = pickle.loads(pickle.dumps(encoder))
    assert sent._backbone is None and sent.fingerprint() == encoder.fingerprint()
    files = sorted(rel_path(photos, p) for p in scan_images(photos))
    shard = _extract(sent, photos, tmp_path / "shards", files)
    pixels = np.stack([encoder.load(photos / e["path"]) for e in shard.entries])  # (3, 32, 32, 3)
    np.testing.assert_allclose(shard.codes, encoder.encode(pixels), atol=1e-5)


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(ConfigError, match=r"neuralcodes\[ray\]"):
        require_ray()
