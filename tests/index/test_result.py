"""SearchResult: its JSON forms, repr and notebook HTML, on hand-built results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from neuralcodes.index.result import SearchResult, relative_to_root


def _result(root: Path, n: int = 2) -> SearchResult:
    paths = [str(root / "trips" / "a <b>.png"), "/elsewhere/c.jpg", *[str(root / f"x{i}.png")
                                                                      for i in range(n - 2)]]
    return SearchResult(np.arange(n, dtype=np.float32) / 4, np.arange(10, 10 + n),
                        paths[:n], root=str(root), generation="gen-000003",
                        timings={"decode_ms": 1.25, "encode_ms": 2.5, "search_ms": 0.125})


def test_paths_relative_to_the_photo_folder_and_absolute_outside(tmp_path: Path) -> None:
    result = _result(tmp_path)
    assert result.relative_paths() == ["trips/a <b>.png", "/elsewhere/c.jpg"]
    assert relative_to_root("/x/y.jpg", "") == "/x/y.jpg"
    assert result.to_list() == [
        {"rank": 1, "id": 10, "path": str(tmp_path / "trips" / "a <b>.png"), "distance": 0.0},
        {"rank": 2, "id": 11, "path": "/elsewhere/c.jpg", "distance": 0.25}]
    assert result.to_dict() == {"photos_root": str(tmp_path), "generation": "gen-000003",
                                "results": result.to_list(),
                                "timings": {"decode_ms": 1.25, "encode_ms": 2.5,
                                            "search_ms": 0.125}}


def test_repr_lists_ranks_distances_ids_and_paths(tmp_path: Path) -> None:
    assert repr(_result(tmp_path)) == (
        "SearchResult: 2 images from gen-000003 (decode 1.2 ms, encode 2.5 ms, search 0.1 ms)\n"
        "    1  0.0000  id 10      trips/a <b>.png\n"
        "    2  0.2500  id 11      /elsewhere/c.jpg")
    long = repr(_result(tmp_path, 13)).splitlines()
    assert len(long) == 12 and long[-1] == "  ... 3 more"
    assert repr(SearchResult(np.zeros(1), np.zeros(1, int), ["/p.jpg"])).splitlines()[0] == \
        "SearchResult: 1 image"


def test_notebook_html_shows_thumbnails_and_escapes_names(tmp_path: Path) -> None:
    (tmp_path / "trips").mkdir()
    Image.new("RGB", (300, 200), (200, 30, 30)).save(tmp_path / "trips" / "a <b>.png")
    html = _result(tmp_path)._repr_html_()
    assert html.count('<img src="data:image/jpeg;base64,') == 1  # the other file is missing
    assert "unreadable" in html and "a &lt;b&gt;.png" in html and "a <b>" not in html
    assert "#2 · 0.2500" in html
