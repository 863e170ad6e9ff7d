"""The configuration and environment of a run, said in words for the report.

Read from config.json (``RunConfig`` as a dict) and metrics.json (``data``, ``training`` and its
``environment``, written by the training step); runs made before a value was recorded show "–".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def setup_rows(config: Mapping[str, Any],
               metrics: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """(setting, value) rows: network, recipe, precision, seeds, data and split, versions, device,
    CPU and timing; "–" for what the run did not record."""
    model, train, data = (config.get(k, {}) for k in ("model", "train", "data"))
    d, t = metrics.get("data", {}), metrics.get("training", {})
    env = t.get("environment", {})
    version = env.get("neuralcodes", metrics.get("provenance", {}).get("neuralcodes_version"))
    rows = [
        ("network", _join(model.get("name"), _field("width", model.get("width")),
                          "batch norm" if model.get("batchnorm") else None)),
        ("training recipe", _join(train.get("recipe"),
                                  _field("epochs at most", train.get("epochs")),
                                  _field("batch", train.get("batch_size")),
                                  _field("learning rate", train.get("lr")),
                                  _field("patience", train.get("patience")))),
        ("weights in model.pt", _kept(train)),
        ("precision", _join(train.get("precision", t.get("precision")),
                            _field("used", env.get("precision_used")))),
        ("seeds", _join(_field("split", data.get("seed")), _field("training", train.get("seed")))),
        ("data source", _join(data.get("source", d.get("source")))),
        ("split", _split_text(d)),
        ("versions", _join(*(_field(name, env.get(key) if key else version) for name, key in
                             (("neuralcodes", None), ("PyTorch", "torch"), ("NumPy", "numpy"),
                              ("Python", "python"))))),
        ("device", _join(env.get("device", t.get("device")))),
        ("platform", _join(env.get("platform"))),
        ("CPU", _join(env.get("cpu"), _field("logical cores", env.get("cpu_count")),
                      _field("PyTorch threads", env.get("torch_threads")))),
        ("training time", _time_text(t)),
    ]
    return tuple(rows)


def _kept(train: Mapping[str, Any]) -> str:
    if "restore_best" not in train:
        return "–"
    return ("the best epoch's (lowest validation loss; restore_best)" if train["restore_best"]
            else "the last epoch's, as Keras does")


def _field(name: str, value: Any) -> str | None:
    return None if value is None or value == "" else f"{name} {value}"


def _join(*parts: Any) -> str:
    """The parts that are known, separated by commas; a dash when none is."""
    known = [str(p) for p in parts if p is not None and p != ""]
    return ", ".join(known) if known else "–"


def _split_text(d: Mapping[str, Any]) -> str:
    if "n_train" not in d:
        return "–"
    in_domain = d.get("n_classes", 0) - d.get("n_ood_classes", 0)
    return (f"{d['n_train']} training, {d.get('n_val')} validation, {d.get('n_test')} test images "
            f"of {in_domain} in-domain classes; {d.get('n_ood')} out-of-domain images of "
            f"{d.get('n_ood_classes')} classes (the retrieval database)")


def _time_text(t: Mapping[str, Any]) -> str:
    if "seconds" not in t:
        return "–"
    epochs = max(int(t.get("epochs", 0)), 1)
    per_epoch = t.get("seconds_per_epoch", t["seconds"] / epochs)
    return f"{per_epoch:.1f} s per epoch; {t['seconds']:.0f} s in all ({t.get('epochs')} epochs)"
