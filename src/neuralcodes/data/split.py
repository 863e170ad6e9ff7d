"""The in-domain / out-of-domain split and the seeded train / validation / test split.

Order "notebook" reproduces the notebook exactly (docs/protocol.md): its arrays held the in-domain
images in class order, then ``np.random.seed(42); rp = np.random.permutation(N_in)``; validation =
the first ``round(0.1 N_in)`` of the permutation, test = the next ``round(0.1 N_in)``, training =
the rest (in permuted order); the OOD images were then shuffled by the next
``np.random.permutation(N_ood)`` of the same generator. ``np.random.RandomState(seed)`` draws the
same numbers without touching the global state. Order "stratified" splits every class separately
(``np.random.default_rng(seed)``), so each class has the same share in every split.

Indices point into the arrays the labels came from (the pixel cache), not into the notebook's
arrays.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from neuralcodes.config import SplitOrder, choices
from neuralcodes.errors import ConfigError

ORDERS = choices(SplitOrder)


@dataclass(frozen=True, eq=False)
class Split:
    train: np.ndarray  # (N_train,) int64 indices
    val: np.ndarray  # (N_val,)
    test: np.ndarray  # (N_test,)
    ood: np.ndarray  # (N_ood,) images of classes >= n_in_domain
    n_in_domain: int
    val_fraction: float
    test_fraction: float
    seed: int
    order: str

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in ("train", "val", "test", "ood")}

    def fingerprint(self) -> str:
        """First 16 hex digits of a hash of the four index arrays (for provenance headers)."""
        h = hashlib.sha256()
        for name in ("train", "val", "test", "ood"):
            h.update(name.encode())
            h.update(np.ascontiguousarray(getattr(self, name), dtype="<i8").tobytes())
        return h.hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the parameters, the sizes, the fingerprint and the index lists."""
        params = {k: getattr(self, k) for k in _PARAMS}
        arrays = {k: getattr(self, k).tolist() for k in ("train", "val", "test", "ood")}
        return {**params, "sizes": self.sizes(), "fingerprint": self.fingerprint(), **arrays}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Split:
        try:
            train, val, test, ood = (
                np.asarray(data[k], dtype=np.int64) for k in ("train", "val", "test", "ood")
            )
            params = [data[k] for k in _PARAMS]
        except KeyError as e:
            raise ConfigError(f"split: missing key {e}") from None
        split = cls(train, val, test, ood, *params)
        if "fingerprint" in data and data["fingerprint"] != split.fingerprint():
            raise ConfigError("split: the index lists do not match their recorded fingerprint")
        return split


_PARAMS = ("n_in_domain", "val_fraction", "test_fraction", "seed", "order")


def make_split(
    labels: np.ndarray,
    *,
    n_in_domain: int = 190,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 42,
    order: str = "notebook",
) -> Split:
    """Split ``labels`` (N,) into train / val / test (classes < n_in_domain) and ood (the rest)."""
    labels = np.asarray(labels)
    _validate(labels, n_in_domain, val_fraction, test_fraction, order)
    in_idx = np.flatnonzero(labels < n_in_domain)  # (N_in,) in cache order (class order)
    ood_idx = np.flatnonzero(labels >= n_in_domain)  # (N_ood,)
    if order == "notebook":
        rs = np.random.RandomState(seed)
        perm = rs.permutation(len(in_idx))
        n_val, n_test = _counts(len(in_idx), val_fraction, test_fraction)
        val, test, train = np.split(in_idx[perm], [n_val, n_val + n_test])
        ood = ood_idx[rs.permutation(len(ood_idx))]
    else:
        train, val, test, ood = _stratified(
            labels, in_idx, ood_idx, val_fraction, test_fraction, seed
        )
    if len(train) == 0:
        raise ConfigError(
            f"split leaves no training images ({len(in_idx)} in-domain images, "
            f"val_fraction={val_fraction}, test_fraction={test_fraction})"
        )
    train, val, test, ood = (np.asarray(a, dtype=np.int64) for a in (train, val, test, ood))
    return Split(train, val, test, ood, n_in_domain, val_fraction, test_fraction, seed, order)


def _counts(n: int, val_fraction: float, test_fraction: float) -> tuple[int, int]:
    return int(round(n * val_fraction)), int(round(n * test_fraction))


def _stratified(
    labels: np.ndarray,
    in_idx: np.ndarray,
    ood_idx: np.ndarray,
    val_fraction: float,
    test_fraction: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for c in np.unique(labels[in_idx]):
        members = rng.permutation(in_idx[labels[in_idx] == c])  # (n_c,)
        n_val, n_test = _counts(len(members), val_fraction, test_fraction)
        parts["val"].append(members[:n_val])
        parts["test"].append(members[n_val : n_val + n_test])
        parts["train"].append(members[n_val + n_test :])
    train, val, test = (
        rng.permutation(np.concatenate(parts[k])) if parts[k] else np.zeros(0, np.int64)
        for k in ("train", "val", "test")
    )
    return train, val, test, rng.permutation(ood_idx)


def _validate(
    labels: np.ndarray, n_in_domain: int, val_fraction: float, test_fraction: float, order: str
) -> None:
    if order not in ORDERS:
        raise ConfigError(f"split order must be one of {list(ORDERS)}, got {order!r}")
    if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(
            f"labels must be a non-empty 1-D integer array, got {labels.dtype} {labels.shape}"
        )
    if labels.min() < 0:
        raise ConfigError(f"labels must be >= 0, got {labels.min()}")
    n_classes = int(labels.max()) + 1
    if not 1 <= n_in_domain < n_classes:
        raise ConfigError(
            f"n_in_domain must be in 1..{n_classes - 1} (the dataset has {n_classes} classes, "
            f"0..{n_classes - 1}, and at least one must be out-of-domain), got {n_in_domain}"
        )
    for name, f in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= f < 1.0:
            raise ConfigError(f"{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1.0:
        raise ConfigError(
            f"val_fraction + test_fraction must be below 1 (training needs images), "
            f"got {val_fraction} + {test_fraction}"
        )
