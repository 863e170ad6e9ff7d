"""An uploaded image: read out of a request, never holding more than the byte limit, and checked
before anything decodes its pixels.

Two ways to send an image to ``POST /api/search``: a ``multipart/form-data`` form with the file
in a field named ``file`` (what a browser form and ``curl -F file=@photo.jpg`` send), or the raw
bytes as the body (``curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'``). The body is
read in chunks and refused with 413 as soon as it passes the limit, before any parsing.

An upload is refused, with an HTTP status and a message a person can act on, when it is empty,
larger than the byte limit, not an image of a supported format, or declares more pixels than the
pixel limit (a decompression bomb: a few hundred bytes of PNG can declare 30000x30000 pixels,
2.7 GB once decoded). Only the image header is read here, by ``neuralcodes.images.open_image``
(the same formats and pixel limit as every other path); the pixels are decoded afterwards, by the
index, at a reduced size, and only when the header is acceptable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neuralcodes.images import ImageError

if TYPE_CHECKING:
    from starlette.requests import Request

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # 20 MiB
FORM_FIELD = "file"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file in a form
# what the refusal of an image (an ImageError's kind) answers: 413, 415 or 400 (the default)
_STATUS = {"too-many-pixels": 413, "too-large": 413, "not-an-image": 415, "needs-extra": 415}


class UploadRejected(Exception):
    """An upload that the server refuses; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ImageHeader:
    """What the header of an accepted upload says."""

    format: str  # Pillow's format name: "JPEG", "PNG", ...
    width: int
    height: int
    mode: str  # Pillow's mode: "RGB", "L", "RGBA", "P", "I;16", ...
    n_bytes: int


def check_size(n_bytes: int, max_bytes: int) -> None:
    """Refuse (413) an upload of more than ``max_bytes`` bytes, and (400) an empty one."""
    if n_bytes > max_bytes:
        raise UploadRejected(
            413, f"upload too large: {_mib(n_bytes)} exceeds the limit of {_mib(max_bytes)}"
        )
    if n_bytes == 0:
        raise UploadRejected(400, "empty upload: send an image file")


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ImageHeader:
    """Read only the header of ``data`` and refuse it if it is not a safe image to decode.

    Raises ``UploadRejected``: 413 for too many bytes or pixels, 415 for a file that is not an image
    of an accepted format, 400 for an empty upload or a damaged header.
    """
    check_size(len(data), max_bytes)
    from neuralcodes.images import open_image

    try:
        with open_image(data, max_pixels=max_pixels, name="upload") as im:
            return ImageHeader(str(im.format), im.width, im.height, im.mode, len(data))
    except ImageError as e:
        raise UploadRejected(_STATUS.get(e.kind, 400), _message(e)) from None


def _message(e: ImageError) -> str:
    if e.kind == "too-many-pixels":
        return f"image too large: {e.problem}; downscale it and try again"
    return e.problem


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


async def read_image_bytes(request: Request, max_bytes: int) -> bytes:
    """The uploaded file's bytes (multipart field ``file`` or the raw body); ``UploadRejected`` if
    the body is too large, malformed, or holds no file."""
    is_form = request.headers.get("content-type", "").startswith("multipart/form-data")
    cap = max_bytes + (MULTIPART_OVERHEAD if is_form else 0)
    body = await _read_capped(request, cap, max_bytes)
    data = await _file_from_form(request, body) if is_form else body
    check_size(len(data), max_bytes)
    return data


async def _read_capped(request: Request, cap: int, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        check_size(int(declared), max_bytes)  # raises 413 without reading the body
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > cap:
            check_size(total, max_bytes)
        chunks.append(chunk)
    return b"".join(chunks)


async def _file_from_form(request: Request, body: bytes) -> bytes:
    from starlette.datastructures import UploadFile
    from starlette.exceptions import HTTPException
    from starlette.requests import Request as StarletteRequest

    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    buffered = StarletteRequest(request.scope, replay)
    try:
        form = await buffered.form(max_files=4, max_fields=16)
    except HTTPException as e:
        raise UploadRejected(400, f"malformed multipart form: {e.detail}") from None
    try:
        files: dict[str, UploadFile] = {}
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                files.setdefault(name, value)
        chosen = files.get(FORM_FIELD) or next(iter(files.values()), None)
        if chosen is None:
            raise UploadRejected(400, f"no file in the form: send the image in a field named "
                                 f"'{FORM_FIELD}'")
        return await chosen.read()
    finally:
        await form.close()
