from __future__ import annotations

import json
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
