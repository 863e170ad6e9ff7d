"""Fetching the paper's network: PyTorch's model-zoo AlexNet weights, verified and atomic.

The file's name carries the first 8 hex digits of its SHA-256 (torchvision's convention:
``alexnet-owt-7be5be79.pth``); the download (resumable, ``neuralcodes.data.download``) lands under
a temporary name and is renamed into place only once that prefix matches, so the final path holds
a verified file or nothing. A file whose name has no such prefix (another ``--url``) is checked
for AlexNet's state-dict layout instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlparse

from neuralcodes.artifacts import atomic_write_text, sha256_file
from neuralcodes.errors import DataError
from neuralcodes.models.spec import ALEXNET_FILE
from neuralcodes.paths import weights_dir
from neuralcodes.progress import Progress, ensure

ALEXNET_URL = f"https://download.pytorch.org/models/{ALEXNET_FILE}"
_HASH_IN_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torchvision's HASH_REGEX, 8 digits at least


def hash_prefix(name: str) -> str | None:
    """The SHA-256 prefix in a model-zoo file name (``alexnet-owt-7be5be79.pth`` -> 7be5be79)."""
    match = _HASH_IN_NAME.search(name)
    return match.group(1) if match else None


def fetch_alexnet(directory: str | Path | None = None, url: str = ALEXNET_URL,
                  progress: Progress | None = None) -> Path:
    """``directory/<file name of url>`` (default ``$NEURALCODES_HOME/weights``), fetched if absent.

    Resumes an interrupted download; refuses (and deletes) a file whose SHA-256 does not start
    with the prefix in its name, or, without one, that is not AlexNet's state dict.
    """
    from neuralcodes.data.download import download

    progress = ensure(progress)
    folder = Path(directory) if directory is not None else weights_dir()
    name = Path(urlparse(url).path).name
    if not name:
        raise DataError(url, "the URL names no file")
    dest = folder / name
    if dest.is_file():
        _verify(dest, dest)
        return dest
    pending = folder / f"{name}.download"  # resumes through pending.part
    try:
        download(url, pending, progress=progress)
    except DataError as e:
        raise DataError(url, f"{e.problem}. Without a network: copy {name} into {folder} by "
                        "hand, or name any copy with --model alexnet:PATH.pth") from None
    try:
        digest = _verify(pending, dest)
    except DataError:
        pending.unlink(missing_ok=True)
        raise
    finally:
        pending.with_name(pending.name + ".sha256").unlink(missing_ok=True)
    os.replace(pending, dest)
    atomic_write_text(dest.with_name(dest.name + ".sha256"), f"{digest}  {dest.name}\n")
    progress.log(f"AlexNet weights: {dest} (sha256 {digest})")
    return dest


def _verify(path: Path, named: Path) -> str:
    """The SHA-256 of ``path``, checked against the prefix in ``named``'s name (or the layout)."""
    digest = sha256_file(path)
    prefix = hash_prefix(named.name)
    if prefix is not None and not digest.startswith(prefix):
        raise DataError(named, f"checksum mismatch: the name says sha256 {prefix}..., the file "
                        f"has {digest}; delete it and download again")
    if prefix is None:
        from neuralcodes.models.alexnet import load_alexnet_weights

        load_alexnet_weights(path)  # DataError naming the file and what differs
    return digest
