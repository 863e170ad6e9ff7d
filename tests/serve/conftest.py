from __future__ import annotations

from pathlib import Path

import pytest

from neuralcodes.index.api import Index

from .colours import colour_index as make_colour_index


@pytest.fixture
def colour_index(tmp_path: Path) -> Index:
    """A real index of six solid-colour images, its network replaced by their mean colour."""
    return make_colour_index(tmp_path / "photos", tmp_path / "index")


@pytest.fixture
def real_index(tmp_path: Path) -> Index:
    """A few generated photos indexed with a tiny random network (one per test: they change)."""
    from .photos import build_real_index

    return build_real_index(tmp_path)
