"""Which files are images: the extensions scanned, the formats decoded, and the optional readers.

Only formats that Pillow decodes in-process are read (JPEG and MPO, PNG, WebP, BMP, TIFF, GIF),
plus AVIF when this Pillow was built with it (``PIL.features.check("avif")``) and HEIC/HEIF when
the optional extra ``heif`` (pillow-heif) is installed. Anything else is refused as "not an
image", whatever its name: EPS, for one, would run Ghostscript on the file.

A HEIC/HEIF (or AVIF) file that no installed reader decodes is never silently ignored: it is
refused with the reason and the command that installs the reader (``needs_extra``).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path

from neuralcodes.extras import install_hint

log = logging.getLogger("neuralcodes.images.formats")

IMAGE_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif", ".heic", ".heif", ".avif",
})  # fmt: skip
BASE_FORMATS = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")  # MPO (phones) opens as JPEG
HEIF_EXTRA = install_hint("heif")
# ISO base media "ftyp" brands (bytes 8..12 of the file, then the compatible brands)
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1",
                          b"msf1", b"heif"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})


def is_image_name(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` has one of the image extensions (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


@lru_cache(maxsize=1)
def register_heif() -> bool:
    """Register pillow-heif's HEIC/HEIF opener with Pillow, once; False if it is not installed."""
    try:
        import pillow_heif  # the optional extra "heif"
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    log.debug("HEIC/HEIF reader registered (pillow-heif %s)", pillow_heif.__version__)
    return True


@lru_cache(maxsize=1)
def avif_supported() -> bool:
    """Whether this Pillow decodes AVIF itself."""
    from PIL import features

    return bool(features.check("avif"))


def accepted_formats() -> tuple[str, ...]:
    """Pillow format names that ``open_image`` lets Pillow try, in this order."""
    from PIL import Image

    Image.init()  # every plugin registered, so that ``Image.open(formats=...)`` knows the names
    formats = BASE_FORMATS + (("AVIF",) if avif_supported() else ())
    return formats + (("HEIF",) if register_heif() else ())


def container_brand(head: bytes) -> str | None:
    """"HEIF" or "AVIF" for an ISO-BMFF image container (by its ``ftyp`` brands), else None."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box = int.from_bytes(head[:4], "big")
    brands = [head[8:12]] + [head[i : i + 4] for i in range(16, min(box, len(head)) - 3, 4)]
    if any(b in _AVIF_BRANDS for b in brands):
        return "AVIF"
    if any(b in _HEIF_BRANDS for b in brands):
        return "HEIF"
    return None


def needs_extra(head: bytes, name: str | os.PathLike[str] = "") -> str | None:
    """Why a file that Pillow did not recognise may still be an image we could read, or None.

    ``head``: the first bytes of the file (at least 64 are best).
    """
    brand = container_brand(head)
    suffix = Path(name).suffix.lower() if name else ""
    if brand == "HEIF" or (brand is None and suffix in (".heic", ".heif")):
        if not register_heif():
            return f"a HEIC/HEIF image: reading it needs the optional extra, {HEIF_EXTRA}"
        return None
    if (brand == "AVIF" or suffix == ".avif") and not avif_supported():
        return "an AVIF image: this Pillow was built without AVIF support (install Pillow >= 11.3)"
    return None
