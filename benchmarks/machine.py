"""The machine header of BENCHMARKS.md: the CPU, the software, and how the machine was set up.

How it was set up matters as much as the CPU: the speed a new user gets must not depend on a
library they were never told to install. So the header records the virtual environment (made by
the README's commands: ``make`` creates ``.venv`` with CPU PyTorch first, then the package), the
allocator libraries the system has (``ldconfig -p``), what neuralcodes uses by default, and what
the Keras peer's TensorFlow links and uses.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import installed_allocators

ALLOCATOR_PATTERN = ("tcmalloc", "jemalloc", "mimalloc")


def machine() -> dict[str, str]:
    """CPU (lscpu), cores, bf16, versions, then the set-up (``setup``)."""
    import numpy
    import torch

    info = {"cpu": platform.processor() or platform.machine(), "cores": str(os.cpu_count())}
    fields = _lscpu()
    if "Model name" in fields:
        info["cpu"] = f"{fields.get('Vendor ID', '')} {fields['Model name']}".strip()
        info["cpu"] += (
            f" (family {fields.get('CPU family', '?')}, model {fields.get('Model', '?')})"
        )
    flags = set(fields.get("Flags", "").split())
    info["bf16"] = ", ".join(f for f in ("avx512_bf16", "amx_bf16") if f in flags) or "no"
    info["python"] = platform.python_version()
    info["torch"] = torch.__version__
    info["numpy"] = numpy.__version__
    info["tensorflow (peer)"] = _version("tensorflow-cpu") or _version("tensorflow") or "absent"
    info["faiss (peer)"] = _version("faiss-cpu") or "absent"
    info["transformers (peer)"] = _version("transformers") or "absent"
    return {**info, **setup()}


def setup() -> dict[str, str]:
    """How this machine was set up: the environment, the allocator libraries, the defaults."""
    from neuralcodes import allocator

    libs = installed_allocators()
    preload = os.environ.get("LD_PRELOAD", "")
    return {
        "virtual environment": venv_description(),
        "ldconfig -p | grep -E \"tcmalloc|jemalloc|mimalloc\"": ldconfig_allocators() or "(none)",
        "allocator libraries neuralcodes can find": (
            ", ".join(f"{k} {v}" for k, v in libs.items()) or "none (nothing installed by hand)"),
        "LD_PRELOAD / NEURALCODES_ALLOCATOR of the benchmark": (
            f"{preload or '(unset)'} / {os.environ.get(allocator.ALLOCATOR_ENV) or '(unset)'}"),
        "neuralcodes' allocator by default": _default_allocator(),
        "Keras peer's allocator": keras_allocator(),
    }


def venv_description(prefix: str | None = None) -> str:
    """The virtual environment in use, its age, and how it was made (the Makefile's stamp)."""
    prefix = prefix or sys.prefix
    if prefix == sys.base_prefix:
        return f"none: the system Python {sys.executable}"
    stamp = Path(prefix) / ".installed"
    how = "made by `make` (the README's set-up: CPU torch first, then the package and extras)"
    if not stamp.exists():
        how = "not made by the Makefile (no .installed stamp)"
    created = Path(prefix) / "pyvenv.cfg"
    age = ""
    if created.exists():
        age = f", created {(time.time() - created.stat().st_mtime) / 60:.0f} min before the run"
    return f"{prefix}{age}; {how}"


def ldconfig_allocators() -> str:
    """The lines of ``ldconfig -p`` naming tcmalloc, jemalloc or mimalloc ('' if none)."""
    for exe in ("ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        try:
            out = subprocess.run([exe, "-p"], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        lines = [ln.strip() for ln in out.splitlines()
                 if any(name in ln for name in ALLOCATOR_PATTERN)]
        return "; ".join(lines)
    return "(ldconfig not found)"


def keras_allocator() -> str:
    """What TensorFlow's libraries link for memory (``ldd``): glibc unless a library is named."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("tensorflow")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        return "TensorFlow not installed"
    root = Path(spec.origin).parent
    libs = [root / "libtensorflow_framework.so.2", root / "libtensorflow_cc.so.2",
            root / "python" / "_pywrap_tensorflow_internal.so"]
    linked: set[str] = set()
    for lib in (p for p in libs if p.exists()):
        try:
            out = subprocess.run(["ldd", str(lib)], capture_output=True, text=True).stdout
        except OSError:
            return "unknown (no ldd)"
        linked |= {ln.split()[0] for ln in out.splitlines()
                   if any(n in ln for n in ALLOCATOR_PATTERN)}
    bfc = os.environ.get("TF_CPU_ALLOCATOR_USE_BFC", "unset")
    if linked:
        return f"TensorFlow links {', '.join(sorted(linked))} (ldd)"
    return ("glibc malloc, untuned: TensorFlow's libraries link no tcmalloc/jemalloc/mimalloc "
            f"(ldd), its CPU allocator calls malloc/posix_memalign (TF_CPU_ALLOCATOR_USE_BFC "
            f"{bfc})")


def _default_allocator() -> str:
    from neuralcodes import allocator

    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", allocator.ALLOCATOR_ENV)}
    code = "from neuralcodes import allocator as a; a.tune_malloc(); print(a.describe())"
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True, timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.removeprefix("allocator: ")


def _lscpu() -> dict[str, str]:
    try:
        text = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {}
    fields = dict(ln.split(":", 1) for ln in text.splitlines() if ":" in ln)
    return {k.strip(): v.strip() for k, v in fields.items()}


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
