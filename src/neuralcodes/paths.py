"""Where neuralcodes keeps what it downloads or generates: ``$NEURALCODES_HOME``."""

from __future__ import annotations

import os
from pathlib import Path


def neuralcodes_home() -> Path:
    """Where downloads and generated datasets live: $NEURALCODES_HOME or ~/.cache/neuralcodes."""
    return Path(os.environ.get("NEURALCODES_HOME", Path.home() / ".cache" / "neuralcodes"))


def weights_dir() -> Path:
    """Where downloaded network weights live: ``$NEURALCODES_HOME/weights``."""
    return neuralcodes_home() / "weights"
