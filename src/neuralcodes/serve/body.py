"""Reading an uploaded image out of a request, never holding more than the byte limit.

Two ways to send an image to ``POST /api/search``: a ``multipart/form-data`` form with the file
in a field named ``file`` (what a browser form and ``curl -F file=@photo.jpg`` send), or the raw
bytes as the body (``curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg'``). The body is
read in chunks and refused with 413 as soon as it passes the limit, before any parsing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neuralcodes.serve.uploads import UploadRejected, check_size

if TYPE_CHECKING:
    from starlette.requests import Request

FORM_FIELD = "file"
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around the file in a form


async def read_image_bytes(request: Request, max_bytes: int) -> bytes:
    """The uploaded file's bytes (multipart field ``file`` or the raw body); ``UploadRejected`` if
    the body is too large, malformed, or holds no file."""
    is_form = request.headers.get("content-type", "").startswith("multipart/form-data")
    cap = max_bytes + (MULTIPART_OVERHEAD if is_form else 0)
    body = await _read_capped(request, cap, max_bytes)
    if not is_form:
        check_size(len(body), max_bytes)
        return body
    data = await _file_from_form(request, body)
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
