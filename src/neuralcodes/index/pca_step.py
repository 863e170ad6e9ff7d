"""The optional PCA compression of an index's vectors (docs/protocol.md: 16 to 512 dimensions).

The PCA is fitted on data other than what is searched whenever possible: the run's codes of
held-out in-domain test images (``RUN_DIR/codes/test_<layer>.npy``, written by the experiment,
read by ``neuralcodes.runs.load_code_set``, which checks they come from the same model). Only
when the run has none is it fitted on the collection itself. The manifest records which.
Compressed vectors are L2-normalised again (as in the paper), so distances stay in [0, 2].
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from neuralcodes.encoder import Encoder
from neuralcodes.errors import ArtifactMismatchError, ConfigError, DataError
from neuralcodes.index.store import PCA_FILE, Generation
from neuralcodes.progress import Progress
from neuralcodes.runs import RunDir, load_code_set
from neuralcodes.stats import max_pca_dims

PCA_MIN, PCA_MAX = 16, 512


def check_pca_dims(dims: int | None) -> None:
    if dims is not None and not PCA_MIN <= dims <= PCA_MAX:
        raise ConfigError(f"--pca {dims}: choose between {PCA_MIN} and {PCA_MAX} dimensions")


def run_fit_codes(encoder: Encoder) -> tuple[np.ndarray | None, str]:
    """The run's held-out in-domain codes of the encoder's layer if they match its model, and
    where they come from; else None and why there are none, in words."""
    if encoder.run_dir is None:
        return None, "the network is not a neuralcodes run: it has no held-out codes"
    run = RunDir(encoder.run_dir)
    name = f"test_{encoder.layer}"
    try:  # refused when missing or made by an earlier model in the same run folder
        x = load_code_set(run, name, encoder.fingerprint()["model_hash"])
    except (DataError, ArtifactMismatchError, OSError, ValueError):
        x = None
    if x is None or x.ndim != 2 or x.shape[1] != encoder.dim:
        relative = run.relative(run.code_file(name))  # "codes/test_L6.npy"
        return None, f"the run folder has no {relative} of this model"
    return (np.asarray(x, np.float32),
            f"run codes {run.code_file(name)} ({len(x)} held-out in-domain images)")


def fit_index_pca(
    dims: int | None, encoder: Encoder, collection: np.ndarray, progress: Progress
) -> tuple[Any, dict[str, Any] | None, bytes | None]:
    """(pca, manifest record, serialised pca) for ``dims``, or (None, None, None)."""
    if dims is None:
        return None, None, None
    from neuralcodes.postprocess.pca import fit_pca, pca_bytes

    x, source = run_fit_codes(encoder)
    on = "run" if x is not None else "collection"
    if x is None:
        x, source = collection, f"the indexed collection ({len(collection)} images; {source})"
    limit = max_pca_dims(*x.shape)
    if dims > limit:
        raise ConfigError(f"--pca {dims}: the PCA is fitted on {source}, which allows at most "
                          f"{limit} dimensions")
    fp = encoder.fingerprint()
    pca = fit_pca(x, dims, fitted_on={"source": on, "layer": encoder.layer,
                                      "model_hash": fp["model_hash"], "n": int(len(x))})
    progress.log(f"PCA to {dims} dimensions fitted on {source}")
    info = {"dims": dims, "whiten": False, "fitted_on": on, "fit_source": source,
            "n_fit": int(len(x)), "renormalized": True, "file": PCA_FILE}
    return pca, info, pca_bytes(pca)  # the .npz that goes into a generation folder


def projector(pca: Any) -> Callable[[np.ndarray], np.ndarray]:
    """Raw L2-normalised codes (B, D_raw) -> stored vectors (B, D)."""
    if pca is None:
        return lambda raw: np.asarray(raw, np.float32)

    def project(raw: np.ndarray) -> np.ndarray:
        from neuralcodes.postprocess.pca import apply_pca

        return apply_pca(pca, raw)  # (B, dims) float32, L2-normalised again

    return project


def project_blocks(raw: np.ndarray, project: Callable[[np.ndarray], np.ndarray],
                   blocks: list[tuple[int, int]] | None = None,
                   scratch: Path | None = None) -> np.ndarray:
    """Stored vectors (N, D) of raw codes (N, D_raw): at once in memory when ``scratch`` is
    None, else block by block (row ranges ``blocks``) into an ``.npy`` memory map there."""
    if scratch is None:
        return project(np.asarray(raw))
    width = project(np.asarray(raw[:1])).shape[1]
    out = np.lib.format.open_memmap(scratch, mode="w+", dtype=np.float32,
                                    shape=(len(raw), width))
    for a, b in blocks if blocks is not None else [(0, len(raw))]:
        if b > a:
            out[a:b] = project(np.asarray(raw[a:b]))  # (b - a, D)
    out.flush()
    return out


def generation_pca(gen: Generation) -> Any:
    """The PCA of a generation (None: it has none), refused when its shape is not the
    manifest's (``code_dim`` in, ``dim`` out)."""
    if gen.pca_blob is None:
        return None
    from neuralcodes.postprocess.pca import load_pca

    path, manifest = gen.dir / PCA_FILE, gen.manifest
    source: Any = io.BytesIO(gen.pca_blob)  # np.load reads file objects as well as paths
    try:
        pca = load_pca(source)
    except DataError as e:
        raise DataError(path, e.problem) from None
    shape = tuple(np.shape(pca.components))  # (dims, D)
    if shape != (manifest["dim"], manifest["code_dim"]) or np.shape(pca.mean) != shape[1:]:
        raise DataError(path, f"a PCA of shape {shape}, but the manifest says "
                        f"{manifest['code_dim']} -> {manifest['dim']} dimensions: damaged "
                        "index (rebuild it)")
    return pca
