"""Typed records of retrieval results, and their JSON forms in metrics.json and research files.

``to_dict`` writes exactly the keys that metrics.json has always had (values of k as strings);
``from_dict`` reads them back, so existing run folders and reports still read. Optional keys
(``ci95`` when no bootstrap was asked for, ``qe`` without query expansion) may be absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from neuralcodes.config import Estimator, PcaFitOn


def _int_keys(d: Mapping[str, Any]) -> dict[int, float]:
    return {int(k): float(v) for k, v in d.items()}


def _str_keys(d: Mapping[int, float]) -> dict[str, float]:
    return {str(k): v for k, v in d.items()}


def _pair(values: Any) -> tuple[float, float] | None:
    return None if values is None else (float(values[0]), float(values[1]))


@dataclass(frozen=True)
class QueryExpansion:
    n: int  # the top n results averaged into each query
    alpha: float = 0.0  # 0: average QE; > 0: alpha-QE weights


@dataclass(frozen=True)
class CodeSetScore:
    """One code set's leave-one-out retrieval scores (means over the queries that have an AP)."""

    map: float
    dims: int
    n_queries: int = 0
    estimator: Estimator = "spec"
    precision_at: Mapping[int, float] = field(default_factory=dict)  # k -> P@k
    recall_at: Mapping[int, float] = field(default_factory=dict)  # k -> R@k
    per_class_ap: Mapping[int, float] = field(default_factory=dict)  # class -> mean AP
    qe: QueryExpansion | None = None
    ci95: tuple[float, float] | None = None  # bootstrap interval of mAP over queries

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "map": self.map, "dims": self.dims, "n_queries": self.n_queries,
            "estimator": self.estimator, "precision_at": _str_keys(self.precision_at),
            "recall_at": _str_keys(self.recall_at), "per_class_ap": _str_keys(self.per_class_ap)}
        if self.qe is not None:
            out["qe"] = {"n": self.qe.n, "alpha": self.qe.alpha}
        if self.ci95 is not None:
            out["ci95"] = list(self.ci95)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CodeSetScore:
        qe = d.get("qe")
        return cls(float(d["map"]), int(d["dims"]), int(d.get("n_queries", 0)),
                   d.get("estimator", "spec"), _int_keys(d.get("precision_at", {})),
                   _int_keys(d.get("recall_at", {})), _int_keys(d.get("per_class_ap", {})),
                   QueryExpansion(int(qe["n"]), float(qe["alpha"])) if qe else None,
                   _pair(d.get("ci95")))


@dataclass(frozen=True)
class PairedComparison:
    """Per-query AP of code set (or model) A minus B over the same queries: the mean difference,
    its 95 % paired bootstrap interval and the sign-flip permutation p-value."""

    mean_diff: float
    ci95: tuple[float, float]
    p_value: float
    n_queries: int = 0
    a: str | None = None  # the names compared, where a list of comparisons needs them
    b: str | None = None

    @property
    def significant(self) -> bool:
        """The difference is larger than the noise: its interval excludes 0."""
        return self.ci95[0] > 0 or self.ci95[1] < 0

    def to_dict(self) -> dict[str, Any]:
        names = {} if self.a is None else {"a": self.a, "b": self.b}
        return {**names, "mean_diff": self.mean_diff, "ci95": list(self.ci95),
                "p_value": self.p_value, "n_queries": self.n_queries,
                "significant": self.significant}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PairedComparison:
        return cls(float(d["mean_diff"]), (float(d["ci95"][0]), float(d["ci95"][1])),
                   float(d["p_value"]), int(d.get("n_queries", 0)), d.get("a"), d.get("b"))


@dataclass(frozen=True)
class SplitEvaluation:
    """Classification metrics of one split (train, val or test)."""

    loss: float  # cross-entropy
    accuracy: float
    top5: float
    n: int | None = None  # images

    def to_dict(self) -> dict[str, Any]:
        out = {"loss": self.loss, "accuracy": self.accuracy, "top5": self.top5}
        return out if self.n is None else {**out, "n": self.n}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SplitEvaluation:
        n = d.get("n")
        return cls(float(d["loss"]), float(d["accuracy"]), float(d["top5"]),
                   None if n is None else int(n))


@dataclass(frozen=True)
class PcaFit:
    """What the PCA of the PCA curves was fitted on."""

    split: PcaFitOn = "test"
    n: int = 0  # images
    whiten: bool = False
    on_database: bool = False  # fitted on the retrieval database itself (optimistic)
    text: str = "held-out in-domain images"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> PcaFit:
        return cls(**{f.name: d[f.name] for f in fields(cls) if f.name in d})


@dataclass(frozen=True)
class PcaCurve:
    """mAP of PCA-compressed codes by number of dimensions, and its 95 % bootstrap intervals.

    metrics.json keeps the curve under ``pca`` (dims -> mAP, as always) and the intervals under
    ``pca_ci95`` (dims -> [low, high]; absent in runs made before, or without a bootstrap)."""

    map_at: Mapping[int, float]  # dims -> mAP
    ci95: Mapping[int, tuple[float, float]] = field(default_factory=dict)  # dims -> interval

    def to_dict(self) -> dict[str, float]:
        return _str_keys(self.map_at)

    def ci_to_dict(self) -> dict[str, list[float]]:
        return {str(k): list(v) for k, v in self.ci95.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any],
                  ci95: Mapping[str, Any] | None = None) -> PcaCurve:
        pairs = {int(k): _pair(v) for k, v in (ci95 or {}).items()}
        return cls(_int_keys(d), {k: v for k, v in pairs.items() if v is not None})


def scores_from_dict(d: Mapping[str, Mapping[str, Any]]) -> dict[str, CodeSetScore]:
    """metrics.json's ``retrieval`` section as records."""
    return {name: CodeSetScore.from_dict(entry) for name, entry in d.items()}
