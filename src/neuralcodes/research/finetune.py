"""Retraining (the paper's section 4): fine-tune a run's model on another labelled image folder.

The new network has the parent's architecture with a fresh classifier head for the folder's
classes; every other weight starts from the parent's model.pt. It is trained with
``neuralcodes.train.train`` (the parent's recipe, with ``epochs`` and ``lr`` as given) on a
seeded per-class split of the folder (``val_fraction`` held out for early stopping), and written
as a run folder whose model.pt records the parent's model hash. The new folder keeps the
parent's data configuration and split, so ``neuralcodes codes/retrieval/report NEW_RUN`` score it
on the parent's out-of-domain task, and ``neuralcodes compare PARENT NEW_RUN`` compares the two.
(Its ``evaluate`` step is not meaningful: the head now predicts the folder's classes.)
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from neuralcodes.artifacts import atomic_write_json, provenance
from neuralcodes.config import replace
from neuralcodes.errors import ArtifactMismatchError
from neuralcodes.model import create_model, load_model
from neuralcodes.progress import Progress, ensure
from neuralcodes.research.folders import read_labelled_folder, split_folder
from neuralcodes.runs import RunDir, load_config, save_config, update_metrics
from neuralcodes.train import TrainData, train


@dataclass(frozen=True)
class FinetuneResult:
    run_dir: Path
    parent_model_hash: str
    model_hash: str
    reinitialised: tuple[str, ...]  # state-dict keys not taken from the parent (the new head)
    epochs: int
    val_accuracy: float


def transfer_weights(parent: nn.Module, child: nn.Module) -> tuple[str, ...]:
    """Copy every parent tensor whose name and shape the child shares; return the others."""
    source = parent.state_dict()
    state = child.state_dict()
    fresh = tuple(k for k, v in state.items() if k not in source or source[k].shape != v.shape)
    child.load_state_dict({k: (v if k in fresh else source[k]) for k, v in state.items()})
    return fresh


def finetune(
    parent_run: str | Path,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    epochs: int = 5,
    lr: float = 1e-4,
    val_fraction: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> FinetuneResult:
    """Fine-tune ``parent_run``'s model on the labelled folder ``data_dir`` into ``out_dir``."""
    parent, out = RunDir(Path(parent_run)), RunDir(Path(out_dir))
    if out.model.exists():
        raise ArtifactMismatchError(f"{out.root} already holds a model.pt; choose a new --out")
    parent_cfg = load_config(parent)
    loaded = load_model(parent.require(parent.model, "train"))
    folder = read_labelled_folder(data_dir, loaded.config.image_size, progress=progress)
    model_cfg = replace(loaded.config, num_classes=len(folder.class_names))
    torch.manual_seed(seed)
    model = create_model(model_cfg)
    fresh = transfer_weights(loaded.model, model)
    tr, va = split_folder(folder, val_fraction, seed)
    train_cfg = replace(parent_cfg.train, epochs=epochs, lr=lr, seed=seed)
    out.root.mkdir(parents=True, exist_ok=True)
    save_config(out, replace(parent_cfg, model=model_cfg, train=train_cfg))
    if parent.split.exists():
        shutil.copyfile(parent.split, out.split)  # the same out-of-domain task as the parent
    lineage = {"parent_model_hash": loaded.header["model_hash"], "parent_run": str(parent.root),
               "finetune_data": str(Path(data_dir)), "class_names": list(folder.class_names),
               "reinitialised": list(fresh)}
    start = time.perf_counter()
    history = train(model, TrainData(folder.images[tr], folder.labels[tr], folder.images[va],
                                     folder.labels[va]),
                    train_cfg, out.root, progress=progress, model_extra=lineage)
    new_hash = load_model(out.model).header["model_hash"]
    summary = _summary(history.records, len(tr), len(va), time.perf_counter() - start)
    atomic_write_json(out.finetune,
                      {**provenance("finetune", model_hash=new_hash), **lineage, **summary})
    update_metrics(out, finetune={**lineage, **summary})
    ensure(progress).log(f"fine-tuned {summary['epochs']} epochs on {len(tr)} images of "
                         f"{len(folder.class_names)} classes; model.pt in {out.root}")
    return FinetuneResult(out.root, lineage["parent_model_hash"], new_hash, fresh,
                          summary["epochs"], summary["val_accuracy"])


def _summary(records: Sequence[Mapping[str, float]], n_train: int, n_val: int,
             seconds: float) -> dict[str, Any]:
    last = records[-1] if records else {}
    return {"epochs": len(records), "n_train": n_train, "n_val": n_val, "seconds": seconds,
            "train_accuracy": float(last.get("accuracy", float("nan"))),
            "val_accuracy": float(last.get("val_accuracy", float("nan")))}
