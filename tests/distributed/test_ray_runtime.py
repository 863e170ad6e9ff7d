"""Without Ray installed, the Ray path says which extra to install."""

from __future__ import annotations

import sys

import pytest

from neuralcodes.distributed.ray_runtime import require_ray
from neuralcodes.errors import ConfigError


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` raise ImportError
    with pytest.raises(ConfigError, match=r"neuralcodes\[ray\]"):
        require_ray()
