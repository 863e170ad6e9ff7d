"""The configuration of one benchmark run: a frozen dataclass, checked when built."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from neuralcodes.benchmarks.dataset import BenchmarkName, check_name
from neuralcodes.errors import ConfigError

SELF = "self"  # --pca-fit-on self: PCA fitted on the benchmark's own database (flagged)


@dataclass(frozen=True)
class BenchmarkConfig:
    """What to run; the encoder is given separately (its fingerprint goes into the result)."""

    name: BenchmarkName
    data: str  # the benchmark's folder, in its official layout
    pca: int | None = None  # PCA to this many dimensions (then L2-normalised again)
    pca_fit_on: str | None = None  # a folder of images (any layout), or "self"
    whiten: bool = False  # PCA-whitening
    rotated: str | None = None  # Holidays: a folder of upright copies replacing the originals
    batch_size: int = 64
    workers: int = 0  # decoding threads (0: up to 8, one per core)
    n_bootstrap: int = 1000  # resamples of the 95 % intervals (0: none)
    seed: int = 0
    figure_queries: int = 4  # queries shown in figures/queries.png (0: no figure)
    figure_k: int = 6  # results shown per query

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.pca is not None and self.pca < 1:
            raise ConfigError(f"--pca must be at least 1, got {self.pca}")
        if self.pca is not None and not self.pca_fit_on:
            raise ConfigError("PCA is fitted on another dataset, never on the benchmark's own "
                              "database: give --pca-fit-on DIR (a folder of images, e.g. another "
                              "benchmark's), or --pca-fit-on self to fit it on this database "
                              "(the result then says so)")
        if self.pca is None and (self.pca_fit_on or self.whiten):
            raise ConfigError("--pca-fit-on and --whiten need --pca D")
        if self.rotated is not None and self.name != "holidays":
            raise ConfigError("--rotated is for the Holidays benchmark only")
        for key, low in (("batch_size", 1), ("workers", 0), ("n_bootstrap", 0),
                         ("figure_queries", 0), ("figure_k", 1)):
            if getattr(self, key) < low:
                raise ConfigError(f"{key} must be at least {low}, got {getattr(self, key)}")

    @property
    def pca_on_self(self) -> bool:
        return self.pca_fit_on == SELF

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
