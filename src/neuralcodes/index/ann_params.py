"""The FAISS knobs of an index's search backend, named as FAISS users know them.

``AnnParams`` is what a user asks for at build time (``index build --nlist 256 --nprobe 32``,
``--faiss-factory "IVF256,PQ32"``); anything left ``None`` is chosen from the collection's size
(``backends.build_backend``). The manifest records what was asked (``backend.requested``, FAISS
names) next to what was built (``backend.structure``, ``backend.params``), so an update rebuilds
the same kind of index. Which knob applies to which backend:

| backend | knobs |
|---|---|
| ``exact`` | none |
| ``ivfpq`` | ``nlist`` (inverted lists), ``nprobe`` (lists visited per query) |
| ``hnsw`` | ``M`` (links per node), ``efConstruction``, ``efSearch`` |
| ``faiss`` | ``factory`` (any ``faiss.index_factory`` string, required), ``nprobe``, ``efSearch`` |
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args

from neuralcodes.errors import ConfigError
from neuralcodes.extras import import_extra

BackendKind = Literal["exact", "ivfpq", "hnsw", "faiss"]
BACKENDS: tuple[str, ...] = get_args(BackendKind)

# attribute -> the FAISS name (manifest, messages)
FAISS_NAMES = {"nlist": "nlist", "nprobe": "nprobe", "hnsw_m": "M",
               "ef_construction": "efConstruction", "ef_search": "efSearch",
               "factory": "factory"}
APPLIES: dict[str, tuple[str, ...]] = {
    "exact": (), "ivfpq": ("nlist", "nprobe"), "hnsw": ("hnsw_m", "ef_construction", "ef_search"),
    "faiss": ("factory", "nprobe", "ef_search"),
}


@dataclass(frozen=True)
class AnnParams:
    """Build-time knobs of an approximate backend; ``None``: chosen from the collection."""

    nlist: int | None = None
    nprobe: int | None = None
    hnsw_m: int | None = None
    ef_construction: int | None = None
    ef_search: int | None = None
    factory: str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "factory":
                if value is not None and (not isinstance(value, str) or not value.strip()):
                    raise ConfigError(f"factory must be a FAISS index_factory string, got "
                                      f"{value!r}")
            elif value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                        or value < 1):
                raise ConfigError(f"{FAISS_NAMES[f.name]} must be a positive integer, got "
                                  f"{value!r}")

    def given(self) -> dict[str, Any]:
        """The knobs that were set, by attribute name."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) is not None}

    def check_for(self, kind: str) -> AnnParams:
        """Refuse knobs that do not apply to backend ``kind`` (and ``faiss`` without factory)."""
        if kind not in BACKENDS:
            raise ConfigError(f"unknown backend {kind!r}; choose one of {list(BACKENDS)}")
        wrong = [FAISS_NAMES[name] for name in self.given() if name not in APPLIES[kind]]
        if wrong:
            fits = ", ".join(k for k, names in APPLIES.items()
                             if all(n in names for n in self.given())) or "no single backend"
            raise ConfigError(f"{', '.join(wrong)} {'does' if len(wrong) == 1 else 'do'} not "
                              f"apply to the {kind} backend (these settings fit: {fits})")
        if kind == "faiss" and self.factory is None:
            raise ConfigError("the faiss backend needs a FAISS factory string, e.g. "
                              "'IVF256,PQ32' or 'HNSW32'")
        return self

    def to_manifest(self) -> dict[str, Any]:
        """The knobs that were set, by their FAISS names."""
        return {FAISS_NAMES[name]: value for name, value in self.given().items()}

    @classmethod
    def from_manifest(cls, record: dict[str, Any] | None) -> AnnParams:
        by_faiss = {v: k for k, v in FAISS_NAMES.items()}
        return cls(**{by_faiss[k]: v for k, v in (record or {}).items() if k in by_faiss})


def require_faiss() -> Any:
    """The ``faiss`` module, or a ``MissingExtraError`` that says how to install it."""
    return import_extra("faiss", "index", "an approximate backend",
                        or_else="or use --backend exact")


@contextlib.contextmanager
def faiss_errors(kind: str, params: AnnParams) -> Iterator[None]:
    """FAISS's RuntimeError (a factory string it cannot parse, too few vectors to train) as a
    ConfigError that names the settings."""
    try:
        yield
    except RuntimeError as e:
        found = re.search(r"\.cpp:\d+: (.*)", str(e), re.S)
        what = (found.group(1) if found else str(e)).strip().splitlines()[0]
        raise ConfigError(f"FAISS cannot build the {kind} index {params.to_manifest()}: "
                          f"{what}") from None


def check_params(kind: str, params: AnnParams, dim: int) -> AnnParams:
    """Before any work: knobs that apply to ``kind``, FAISS installed for an approximate
    backend, and a factory string that FAISS can build for ``dim``-dimensional vectors."""
    params.check_for(kind)
    if kind != "exact":
        faiss = require_faiss()
        if params.factory is not None:
            with faiss_errors(kind, params):
                faiss.index_factory(dim, params.factory)
    return params
