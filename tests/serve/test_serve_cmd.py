"""``neuralcodes serve``: its arguments, the missing-extra message, and what it hands to Uvicorn."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from neuralcodes.cli import build_parser, main
from neuralcodes.index.api import Index
from neuralcodes.serve import MissingExtraError, require_serve_extra


def test_defaults_listen_on_localhost_only() -> None:
    args = build_parser().parse_args(["serve", "idx"])
    assert (args.index_dir, args.host, args.port, args.model) == ("idx", "127.0.0.1", 8000, None)
    # the pixel limit is the one of every image reader (neuralcodes.images.MAX_PIXELS)
    assert (args.max_upload_mb, args.max_megapixels) == (20.0, 89.478485)


def test_limits_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "idx", "--max-upload-mb", "0"])
    assert "must be more than 0" in capsys.readouterr().err


def test_missing_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "uvicorn" else real(name, *a))
    hint = r"needs uvicorn, which is not installed: run pip install 'neuralcodes\[serve\]'"
    with pytest.raises(MissingExtraError, match=hint):
        require_serve_extra()
    assert main(["serve", "some-index"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neuralcodes: error: `neuralcodes serve` needs uvicorn")


def test_run_serve_opens_the_index_and_runs_uvicorn(
    colour_index: Index, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("fastapi")
    import uvicorn

    opened: list[tuple[str, Any]] = []
    ran: dict[str, Any] = {}

    def fake_open(index_dir: str, *, model: str | None = None) -> Index:
        opened.append((index_dir, model))
        return colour_index

    monkeypatch.setattr(Index, "open", staticmethod(fake_open))
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: ran.update(app=app, **kw))
    argv = ["serve", "my-index", "--port", "8123", "--host", "0.0.0.0", "--model", "runs/r1",
            "--max-upload-mb", "1.5", "--max-megapixels", "2"]
    assert main(argv) == 0
    assert opened == [("my-index", "runs/r1")]
    assert (ran["host"], ran["port"]) == ("0.0.0.0", 8123)
    service = ran["app"].state.service
    assert (service.max_upload_bytes, service.max_pixels) == (1_572_864, 2_000_000)
    assert service.current.get() is colour_index
    err = capsys.readouterr().err
    assert "serving 6 images at http://0.0.0.0:8123/" in err
    assert "not only this computer" in err
