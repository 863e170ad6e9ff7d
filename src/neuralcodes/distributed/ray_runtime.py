"""Connecting to Ray: an existing cluster by address, or a small local Ray on this machine.

Ray is an optional extra (``pip install 'neuralcodes[ray]'``); it is imported here, lazily, and
a missing installation is reported with the command that fixes it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import ModuleType

from neuralcodes.errors import ConfigError

RAY_EXTRA_HINT = "pip install 'neuralcodes[ray]'  (or: pip install 'ray[data]>=2.9')"


def require_ray() -> ModuleType:
    """The ``ray`` module with Ray Data, or a ``ConfigError`` naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is a separate part of the wheel's extras)
    except ImportError as e:
        raise ConfigError(f"the Ray backend needs Ray Data, which is not installed ({e}); "
                          f"install it with: {RAY_EXTRA_HINT}") from None
    return ray


@contextlib.contextmanager
def ray_session(address: str | None = None, *, num_cpus: int | None = None) -> Iterator[None]:
    """Use the Ray that is already initialised in this process, else connect to ``address``
    ("auto" for the cluster this machine belongs to, "ray://host:10001" for a remote one),
    else start a local Ray with ``num_cpus`` CPUs (no dashboard). Whatever this call started it
    also shuts down."""
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    if address:
        ray.init(address=address, log_to_driver=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()
