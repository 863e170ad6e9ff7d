"""Small JPEG thumbnails of indexed images for the result grid, made once and kept in memory."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from pathlib import Path
from typing import IO, TYPE_CHECKING

from neuralcodes.errors import DataError

if TYPE_CHECKING:
    from PIL import Image

THUMB_SIZE = 256  # longest side in pixels
THUMB_QUALITY = 85


def make_thumbnail(path: Path | IO[bytes], size: int = THUMB_SIZE) -> bytes:
    """A JPEG of ``path``, its longest side at most ``size``, upright (EXIF orientation applied),
    RGB (transparency on white). Raises ``DataError`` if the file cannot be read."""
    from PIL import Image, ImageOps

    name = path if isinstance(path, Path) else str(getattr(path, "name", "<image bytes>"))
    try:
        with Image.open(path) as opened:
            opened.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, much faster
            im = ImageOps.exif_transpose(opened)
            im.thumbnail((size, size))
            rgb = _on_white(im)
    except FileNotFoundError:
        raise DataError(name, "indexed file no longer exists") from None
    except Exception as e:  # Pillow raises many types for damaged files
        raise DataError(name, f"cannot make a thumbnail ({type(e).__name__}: {e})") from None
    buf = io.BytesIO()
    rgb.save(buf, format="JPEG", quality=THUMB_QUALITY)
    return buf.getvalue()


def _on_white(im: Image.Image) -> Image.Image:
    """RGB of any mode; transparent pixels become white rather than black."""
    import numpy as np
    from PIL import Image

    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):  # 16/32-bit grey: scale to 0..255
        values = np.asarray(im, dtype=np.float32)  # (H, W)
        top = float(values.max()) if values.size else 0.0
        scaled = values * (255.0 / top) if top > 255.0 else values
        im = Image.fromarray(np.clip(scaled, 0, 255).astype(np.uint8), mode="L")
    if im.mode == "P" or "A" in im.getbands() or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return im.convert("RGB")


class ThumbnailCache:
    """Thumbnails keyed by (path, size, modification time), the most recently used ``capacity``."""

    def __init__(self, capacity: int = 2048, size: int = THUMB_SIZE) -> None:
        self.capacity = capacity
        self.size = size
        self._items: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> bytes:
        try:
            key = (str(path), path.stat().st_mtime_ns)
        except FileNotFoundError:
            raise DataError(path, "indexed file no longer exists") from None
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        data = make_thumbnail(path, self.size)
        with self._lock:
            self._items[key] = data
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return data
