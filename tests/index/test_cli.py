from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from neuralcodes.cli import main


@pytest.fixture
def built(photos: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    idx = tmp_path / "idx"
    code = main(["index", "build", str(photos), "--model", str(run_dir), "--out", str(idx),
                 "--workers", "1", "--device", "cpu", "-q"])
    assert code == 0
    assert f"{idx.resolve()}: 20 images (128-d L6, exact); 20 added" in capsys.readouterr().out
    return idx


def test_search_json(built: Path, photos: Path, capsys: pytest.CaptureFixture[str]) -> None:
    query = photos / "a" / "img10.jpg"
    assert main(["search", str(built), str(query), "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"] == str(query) and len(out["results"]) == 3
    assert out["results"][0]["path"] == str(query.resolve())
    assert out["results"][0]["distance"] < 1e-3


def test_search_table_and_grid(built: Path, photos: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.png"
    assert main(["search", str(built), str(photos / "b" / "img03.webp"), "-k", "4",
                 "--grid", str(grid)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[0].split()[0] == "1" and lines[0].endswith("img03.webp")
    with Image.open(grid) as img:
        assert img.format == "PNG" and img.width > img.height > 100


def test_update_add_remove_info(built: Path, photos: Path, capsys: pytest.CaptureFixture[str],
                                new_photo: Any) -> None:
    capsys.readouterr()
    new_photo(photos / "z.png", seed=123, fmt="PNG")
    assert main(["index", "update", str(built), "--workers", "1", "-q"]) == 0
    assert "21 images" in capsys.readouterr().out
    assert main(["index", "remove", str(built), str(photos / "z.png"), "-q"]) == 0
    assert "1 removed" in capsys.readouterr().out
    assert main(["index", "add", str(built), str(photos / "z.png"), "--workers", "1", "-q"]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["index", "update", str(built), "-q"]) == 0
    assert "up to date, 21 images" in capsys.readouterr().out
    assert main(["index", "info", str(built), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["images"] == 21 and info["layer"] == "L6"
    assert "matches the run folder" in info["model_status"]
    assert main(["index", "info", str(built)]) == 0
    assert "stored dims" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "info", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralcodes: error:") and "not a neuralcodes index" in err
    assert main(["search", str(tmp_path), str(tmp_path / "q.jpg")]) == 2


def test_bad_query_image(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "q.jpg"
    bad.write_text("nope")
    assert main(["search", str(built), str(bad)]) == 2
    assert "q.jpg: not an image" in capsys.readouterr().err


def _build_cli(photos: Path, run_dir: Path, out: Path, *extra: str) -> int:
    return main(["index", "build", str(photos), "--model", str(run_dir), "--out", str(out),
                 "--workers", "1", "--device", "cpu", "-q", *extra])


def test_info_json_has_plain_keys_and_values(built: Path, run_dir: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from neuralcodes.index import Encoder

    capsys.readouterr()
    assert main(["index", "info", str(built), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert all(re.fullmatch(r"[a-z0-9_]+", key) for key in info)
    fp = Encoder.from_run(run_dir, device="cpu").fingerprint()
    assert (info["model_name"], info["model_hash"]) == (fp["model_name"], fp["model_hash"])
    assert info["model_status"] == "matches the run folder"
    assert (info["skipped"], info["excluded"], info["dim"], info["backend"]) == (
        0, 0, 128, "exact")
    assert main(["index", "info", str(built)]) == 0
    text = capsys.readouterr().out
    assert "removed by hand (excluded)  0" in text and "model status" in text


def test_ivfpq_below_the_minimum_names_the_flat_index(
    photos: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("faiss")
    assert _build_cli(photos, run_dir, tmp_path / "idx", "--backend", "ivfpq") == 0
    out = capsys.readouterr().out
    assert ("20 images (128-d L6, ivfpq asked; built Flat (exact search): fewer than 1000 "
            "vectors)") in out
    assert "recall@10 of the Flat index against exact search on its own codes: 1.0000" in out


def test_faiss_knobs_at_build_and_at_search(
    photos: Path, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    new_photo: Any,
) -> None:
    pytest.importorskip("faiss")
    from neuralcodes.index import Index
    from neuralcodes.index.store import read_manifest

    idx = tmp_path / "idx"
    assert _build_cli(photos, run_dir, idx, "--faiss-factory", "IVF4,Flat", "--nprobe", "2") == 0
    assert "(128-d L6, faiss IVF4,Flat)" in capsys.readouterr().out
    backend = read_manifest(idx)["backend"]
    assert backend["requested"] == {"nprobe": 2, "factory": "IVF4,Flat"}
    assert (backend["structure"], backend["params"]["nprobe"]) == ("IVF4,Flat", 2)
    query = str(photos / "a" / "img10.jpg")
    assert main(["search", str(idx), query, "-k", "3", "--nprobe", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["path"].endswith("img10.jpg")
    assert main(["search", str(idx), query, "--ef-search", "5"]) == 2
    assert "efSearch does not apply to this faiss index: it is IVF4,Flat" in (
        capsys.readouterr().err)
    assert Index.open(idx, device="cpu", nprobe=1).backend.params["nprobe"] == 1
    new_photo(photos / "z.png", seed=123, fmt="PNG")
    assert main(["index", "update", str(idx), "--workers", "1", "-q"]) == 0
    assert read_manifest(idx)["backend"]["structure"] == "IVF4,Flat"  # the knobs are kept


@pytest.mark.parametrize(("flags", "message"), [
    (["--ray-workers", "2"], "--ray-workers only apply with --ray"),
    (["--ray", "--workers", "2"], "--workers counts decoding processes without --ray"),
    (["--backend", "hnsw", "--nlist", "8"], "nlist does not apply to the hnsw backend"),
])
def test_one_flag_per_concept(photos: Path, run_dir: Path, tmp_path: Path, flags: list[str],
                              message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "build", str(photos), "--out", str(tmp_path / "idx"), "--model",
                 str(run_dir), "-q", *flags]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "idx").exists()


def test_index_ray_is_gone() -> None:
    with pytest.raises(SystemExit):
        main(["index-ray", "photos", "--out", "idx"])


def test_jobs_print_their_record_as_json(built: Path, photos: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["index", "remove", str(built), str(photos / "a"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert (info["count"], info["removed"], info["layer"], info["backend"]) == (12, 8, "L6",
                                                                              "exact")
    assert main(["index", "update", str(built), "--workers", "1", "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["generation"] is None  # nothing new
