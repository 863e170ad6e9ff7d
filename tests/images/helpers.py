"""Hand-built image files for the image tests: EXIF blocks, TIFFs with odd tags, bombs."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def encode(img: Image.Image | np.ndarray, fmt: str = "PNG", **kw: object) -> bytes:
    im = Image.fromarray(img) if isinstance(img, np.ndarray) else img
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def ifd(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """A little-endian TIFF/EXIF block with one IFD: ``(tag, type, count, value bytes)``."""
    head = b"II*\x00" + struct.pack("<I", 8)
    data_off = 8 + 2 + len(entries) * 12 + 4
    body, extra = struct.pack("<H", len(entries)), b""
    for tag, typ, count, value in entries:
        if len(value) <= 4:
            body += struct.pack("<HHI", tag, typ, count) + value.ljust(4, b"\0")
        else:
            body += struct.pack("<HHII", tag, typ, count, data_off + len(extra))
            extra += value + (b"\0" if len(value) % 2 else b"")
    return head + body + struct.pack("<I", 0) + extra


def halves(width: int = 40, height: int = 20) -> np.ndarray:
    """(height, width, 3): left half red, right half blue."""
    a = np.zeros((height, width, 3), np.uint8)
    a[:, : width // 2] = (255, 0, 0)
    a[:, width // 2 :] = (0, 0, 255)
    return a


def jpeg_with_exif(exif: bytes, pixels: np.ndarray | None = None) -> bytes:
    """A JPEG of ``pixels`` (default: ``halves()``) carrying the EXIF block ``exif``."""
    img = Image.fromarray(halves() if pixels is None else pixels)
    return encode(img, "JPEG", quality=95, exif=b"Exif\x00\x00" + exif)


ORIENT_6 = (0x0112, 3, 1, struct.pack("<H", 6))  # rotate 90 degrees clockwise to display
# EXIF tags of the wrong type beside orientation 6: each made Pillow's orientation step raise
BROKEN_EXIF = {
    "x-resolution as text": [ORIENT_6, (0x011A, 2, 4, b"72\0\0")],  # TypeError
    "resolution unit out of range": [ORIENT_6, (0x0128, 4, 1, struct.pack("<I", 2**31))],
    "x-resolution negative rational": [ORIENT_6, (0x011A, 10, 1, struct.pack("<ii", -72, 1))],
}


def tiff_with_width(width_entry: tuple[int, int, int, bytes], w: int = 4, h: int = 3) -> bytes:
    """An uncompressed 8-bit grayscale TIFF (w x h, pixels 0..w*h-1) with this ImageWidth entry."""
    pixels = bytes(range(w * h))
    short = [(tag, struct.pack("<H", v)) for tag, v in
             ((257, h), (258, 8), (259, 1), (262, 1))]
    entries = [width_entry, *[(t, 3, 1, v) for t, v in short], (273, 4, 1, b"OFFS"),
               (277, 3, 1, struct.pack("<H", 1)), (278, 3, 1, struct.pack("<H", h)),
               (279, 4, 1, struct.pack("<I", len(pixels)))]
    block = ifd(entries)
    return block.replace(b"OFFS", struct.pack("<I", len(block))) + pixels


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` RGB pixels (a decompression bomb
    shape: decoding it would need width * height * 3 bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def smooth(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, photo-like colour image (h, w, 3) uint8: gradients and low-frequency waves."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    waves = rng.uniform(0.5, 3, (3, 3))  # per channel: x and y frequency, phase
    channels = [np.sin(2 * np.pi * (xx * a + yy * b) + p) for a, b, p in waves]
    return ((np.stack(channels, -1) + 1) * 127.5).astype(np.uint8)
