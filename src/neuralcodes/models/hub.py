"""Where a Hugging Face model's files are: the hub's local cache first, the hub only if reachable.

A hub id resolves to a snapshot folder of the hub cache (``models--ORG--NAME/snapshots/<commit>``,
the layout ``huggingface_hub`` writes), whose name is the exact revision; a local folder is taken
as it is. From then on both take the same path (``neuralcodes.models.hf.load_folder``).

Offline: the cache is read with ``local_files_only=True``; when the model is not there, a quick
check (one TCP connection, a few seconds at most) decides whether the hub is reachable at all
before anything is downloaded, so an unknown id without a network fails at once, with the ways to
provide the model offline. ``HF_HUB_OFFLINE=1`` skips the check. The cache location and the offline
switch are read from the environment at each call (``HF_HUB_CACHE``, ``HF_HOME``, ...).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from neuralcodes.artifacts import sha256_bytes, sha256_file
from neuralcodes.errors import ConfigError, DataError
from neuralcodes.extras import import_extra

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
CONNECT_TIMEOUT = 3.0  # seconds for the reachability check (DNS included)
SAFETENSORS = ("model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json")
PICKLED = ("pytorch_model.bin", "pytorch_model-*-of-*.bin", "pytorch_model.bin.index.json")
CONFIGS = ("config.json", "preprocessor_config.json")
_TRUE = {"1", "on", "yes", "true"}


@dataclass(frozen=True)
class ModelFolder:
    """The files of a model: a local folder, or a hub snapshot with its id and commit."""

    folder: Path
    hub_id: str | None = None
    revision: str | None = None  # the commit hash of a hub snapshot

    def weight_files(self) -> list[Path]:
        """The weight files (safetensors preferred, as ``from_pretrained``); DataError if none."""
        for patterns in (SAFETENSORS, PICKLED):
            found = sorted({p for pat in patterns for p in self.folder.glob(pat) if p.is_file()})
            shards = [p for p in found if not p.name.endswith(".index.json")]
            if shards:
                return shards
        raise DataError(self.folder, "no model weights here (model.safetensors or "
                        "pytorch_model.bin): save the model with model.save_pretrained(folder)")

    def weights_sha256(self) -> str:
        """SHA-256 of the weight file; of several, of their ``sha256sum`` lines sorted by name."""
        files = self.weight_files()
        if len(files) == 1:
            return sha256_file(files[0])
        lines = "".join(f"{sha256_file(p)}  {p.name}\n" for p in files)
        return sha256_bytes(lines.encode())


def require_transformers() -> Any:
    """The ``transformers`` module, or a ``MissingExtraError`` naming the extra that installs it."""
    return import_extra("transformers", "hf", "a Hugging Face model")


def hub_cache_dir() -> Path:
    """The hub cache: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub."""
    env = os.environ
    if env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE"):
        return Path(env.get("HF_HUB_CACHE") or env["HUGGINGFACE_HUB_CACHE"]).expanduser()
    xdg = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    home = Path(env["HF_HOME"]).expanduser() if env.get("HF_HOME") else xdg / "huggingface"
    return home / "hub"


def hub_offline() -> bool:
    """Whether HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) forbids the network."""
    return any(os.environ.get(k, "").strip().lower() in _TRUE
               for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_unreachable(endpoint: str, timeout: float = CONNECT_TIMEOUT) -> str | None:
    """None if a TCP connection to ``endpoint`` opens within ``timeout``; else the reason."""
    url = urlparse(endpoint)
    host, port = url.hostname or "", url.port or (80 if url.scheme == "http" else 443)
    result: list[str | None] = []

    def connect() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result.append(None)
        except OSError as e:
            result.append(f"{type(e).__name__}: {e}")

    thread = threading.Thread(target=connect, daemon=True)  # name resolution ignores timeouts
    thread.start()
    thread.join(timeout)
    return result[0] if result else f"no answer from {host}:{port} within {timeout:g} s"


def offline_help(hub_id: str, cache: Path) -> str:
    return (
        f"to use it offline, either save it on a machine with a network "
        f"(AutoModel.from_pretrained('{hub_id}').save_pretrained(DIR) and the same for "
        f"AutoImageProcessor), copy DIR here and give hf:DIR; or fill a hub cache there "
        f"(`hf download {hub_id}`), copy it here and point HF_HOME or HF_HUB_CACHE at it "
        f"(now {cache}), with HF_HUB_OFFLINE=1"
    )


def resolve_hub(hub_id: str, revision: str | None = None) -> ModelFolder:
    """The snapshot folder of ``hub_id`` at ``revision``: from the cache, else downloaded."""
    require_transformers()
    from huggingface_hub import snapshot_download

    cache = hub_cache_dir()
    try:
        folder = snapshot_download(hub_id, revision=revision, cache_dir=cache,
                                   local_files_only=True)
        return ModelFolder(Path(folder), hub_id, Path(folder).name)
    except FileNotFoundError:  # LocalEntryNotFoundError: not in the cache
        pass
    except ValueError as e:  # HFValidationError: not a valid repository id
        raise ConfigError(f"hf:{hub_id}: not a valid hub id ({e})") from None
    name = f"hf:{hub_id}" + (f"@{revision}" if revision else "")
    endpoint = os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    reason = "HF_HUB_OFFLINE is set" if hub_offline() else hub_unreachable(endpoint)
    if reason is not None:
        raise DataError(name, f"not in the Hugging Face cache ({cache}) and the hub cannot be "
                        f"reached ({reason}); {offline_help(hub_id, cache)}")
    log.info("downloading %s into the Hugging Face cache %s", name, cache)
    return _download(name, hub_id, revision, cache)


def _download(name: str, hub_id: str, revision: str | None, cache: Path) -> ModelFolder:
    from huggingface_hub import snapshot_download

    folder = Path()
    for weights in (SAFETENSORS, PICKLED):  # the pickled weights only if there are no others
        try:
            folder = Path(snapshot_download(hub_id, revision=revision, cache_dir=cache,
                                            allow_patterns=[*CONFIGS, *weights]))
        except Exception as e:  # the hub client raises many kinds (HTTP, not found, gated...)
            raise DataError(name, f"cannot download it ({type(e).__name__}: {e}); "
                            f"{offline_help(hub_id, cache)}") from None
        resolved = ModelFolder(folder, hub_id, folder.name)
        try:
            resolved.weight_files()
            return resolved
        except DataError:
            continue
    return ModelFolder(folder, hub_id, folder.name)  # the loader names what is missing


def local_folder(path: Path) -> ModelFolder:
    """A folder saved with ``save_pretrained``; DataError if it is not one."""
    if not path.is_dir():
        raise DataError(path, "no such model folder (give hf:ORG/NAME for a hub model)")
    return ModelFolder(path.resolve())


def check_files(model: ModelFolder) -> None:
    """Refuse a folder without config.json, preprocessor_config.json or weights, naming it."""
    for name, hint in (("config.json", "model.save_pretrained(folder)"),
                       ("preprocessor_config.json", "the image processor's "
                        "save_pretrained(folder): the network's preprocessing is read there")):
        if not (model.folder / name).is_file():
            raise DataError(model.folder, f"no {name} in this model folder; save it with {hint}")
    model.weight_files()
