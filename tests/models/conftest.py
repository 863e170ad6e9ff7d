"""Tiny Hugging Face models of every family, saved once per session (nothing downloads)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import FAMILIES, save_model


@pytest.fixture(scope="session")
def hf_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """family -> a folder saved with save_pretrained (model + preprocessor_config.json)."""
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("hf-models")
    return {family: save_model(family, root / family) for family in FAMILIES}


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Every test: an empty hub cache of its own and an endpoint that refuses connections."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub-cache"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: nothing listens
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
