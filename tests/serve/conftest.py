from __future__ import annotations

from pathlib import Path

import pytest

from .fakes import FakeIndex


@pytest.fixture
def fake_index(tmp_path: Path) -> FakeIndex:
    return FakeIndex(tmp_path / "photos")
