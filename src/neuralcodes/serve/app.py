"""The FastAPI application: the JSON API over an open index and the web page that uses it.

Routes (all answers are JSON unless said otherwise; errors are ``{"detail": "..."}``):

- ``GET /`` the web page (plain HTML, JavaScript and CSS served from this package: works offline)
- ``GET /api/health``, ``GET /api/info``
- ``POST /api/search?k=10`` an image as a multipart form field ``file`` or as the raw body
- ``GET /api/search/{id}?k=10`` search from an indexed image
- ``GET /api/images/{id}`` the indexed file; ``?thumb=1`` a small JPEG thumbnail
- ``GET /openapi.json`` the OpenAPI description (the JSON shapes are the models below);
  ``GET /docs`` an offline page listing it

Uploads and image files are decoded on the service's pools (a few at a time); a search by id,
``/api/info`` and ``/api/health`` run on the server's thread pool and never wait for them.
FastAPI's own Swagger and ReDoc pages load their scripts from a CDN, so they are switched off.

Imported only through ``neuralcodes.serve.create_app``, once the ``serve`` extra was found.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations.
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from neuralcodes import __version__
from neuralcodes.images import MAX_PIXELS
from neuralcodes.index.api import Index
from neuralcodes.serve.service import MAX_K, SearchService, UnknownId
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES, UploadRejected, read_image_bytes

# Files under static/ that the server may send, and their media types: nothing else is served.
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "docs.html": "text/html; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
}
CSP = (
    "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
CACHE = {"Cache-Control": "private, max-age=3600"}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "the query image: a form field `file`, or the image bytes as the body",
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"],
                           "properties": {"file": {"type": "string", "format": "binary"}}}
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


# The JSON shapes of the answers, for validation and for the OpenAPI description.
class Health(BaseModel):
    status: str = Field(description='"ok" while the server answers')
    images: int = Field(description="number of images in the index")


class Hit(BaseModel):
    rank: int = Field(description="1 for the nearest image")
    id: int = Field(description="the image's id, for /api/search/{id} and /api/images/{id}")
    path: str = Field(description="path of the image relative to the indexed photo folder, as "
                      "text (bytes of a file name that are not UTF-8 shown as U+FFFD)")
    path_b64: str = Field(description="the exact bytes of `path`, base64 (a file name on Linux "
                          "need not be UTF-8)")
    distance: float | None = Field(description="Euclidean distance between the L2-normalised codes")
    thumbnail_url: str
    image_url: str


class Timings(BaseModel):
    decode_ms: float | None = Field(description="decoding the query image (None: no decoding)")
    encode_ms: float | None = Field(description="the network's forward pass (None: none ran)")
    search_ms: float | None = Field(description="nearest-neighbour search")
    total_ms: float = Field(description="the whole search as the server timed it")


class SearchResponse(BaseModel):
    query: dict[str, Any] = Field(
        description="what was searched: the upload's format and size, or the indexed image's id "
        "(with its `path` and `path_b64`)"
    )
    results: list[Hit] = Field(description="nearest first")
    photos_root: str = Field(description="the indexed photo folder, that result paths start from "
                             "(as text, like `path`)")
    photos_root_b64: str = Field(description="the exact bytes of `photos_root`, base64")
    generation: str = Field(
        description="the version of the index that answered (e.g. gen-000007): one per search"
    )
    timings: Timings


class ErrorResponse(BaseModel):
    detail: str = Field(description="what went wrong, in words")


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 404, 413, 415)
}


def create_app(
    index: Index,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    reload_check_s: float = 0.5,
) -> FastAPI:
    """A FastAPI app serving ``index`` (an open ``neuralcodes.index.Index``), and the newer
    generations that ``index update`` writes (the manifest is looked at every
    ``reload_check_s`` seconds at most, between requests).

    Uploads over ``max_upload_bytes`` bytes (413), declaring over ``max_pixels`` pixels (413) or
    not an image (415) are refused with a message; the server goes on serving.
    """
    service = SearchService(index, max_upload_bytes=max_upload_bytes, max_pixels=max_pixels,
                            reload_check_s=reload_check_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()  # stops the decoding threads when the server stops

    app = FastAPI(
        title="neuralcodes",
        version=__version__,
        description="Search a folder of images by image, with neural codes (Babenko et al. 2014).",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = service
    app.exception_handler(UploadRejected)(_rejected)
    app.exception_handler(UnknownId)(_unknown)
    app.middleware("http")(_security_headers)
    _add_search_routes(app, service)
    _add_file_routes(app, service)
    return app


async def _rejected(request: Request, exc: UploadRejected) -> JSONResponse:
    return JSONResponse({"detail": exc.message}, status_code=exc.status)


async def _unknown(request: Request, exc: UnknownId) -> JSONResponse:
    return JSONResponse({"detail": str(exc)}, status_code=404)


async def _security_headers(request: Request, call_next: Callable[..., Any]) -> Response:
    response: Response = await call_next(request)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def _add_search_routes(app: FastAPI, service: SearchService) -> None:
    k_query = Query(10, ge=1, le=MAX_K, description="how many results")

    @app.get("/api/health", response_model=Health, tags=["server"])
    def health() -> dict[str, Any]:
        return service.health()

    @app.get("/api/info", tags=["server"])
    def info() -> dict[str, Any]:
        """What the index holds and what built it, and the server's upload limits."""
        return service.info()

    @app.post("/api/search", response_model=SearchResponse, responses=ERRORS,
              openapi_extra=UPLOAD_BODY, tags=["search"])
    async def search_upload(request: Request, k: int = k_query) -> dict[str, Any]:
        """The indexed images nearest to an uploaded image, nearest first."""
        data = await read_image_bytes(request, service.max_upload_bytes)
        return await service.uploads.run(service.search_upload, data, k)

    @app.get("/api/search/{image_id}", response_model=SearchResponse, responses=ERRORS,
             tags=["search"])
    def search_id(image_id: int = Path(ge=0), k: int = k_query) -> dict[str, Any]:
        """The indexed images nearest to the indexed image ``image_id`` (itself left out)."""
        return service.search_id(image_id, k)


def _add_file_routes(app: FastAPI, service: SearchService) -> None:
    """The indexed images, and the page's own files (only those of ``STATIC_FILES``)."""

    @app.get("/api/images/{image_id}", responses=ERRORS, tags=["images"],
             response_class=Response)
    async def image(image_id: int = Path(ge=0), thumb: bool = Query(False)) -> Response:
        """The indexed image, or with ``thumb=1`` a JPEG at most 256 pixels on a side. Served
        only if it is still the file that was indexed, inside the photo folder, and decodes."""
        if thumb:
            data = await service.file_pool.run(service.thumbnail, image_id)
            return Response(data, media_type="image/jpeg", headers=CACHE)
        data, media = await service.file_pool.run(service.image, image_id)
        return Response(data, media_type=media, headers=CACHE)

    @app.get("/", include_in_schema=False)
    def page() -> Response:
        return _static("index.html")

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return _static("docs.html")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            raise HTTPException(404, f"no static file named {name!r}")
        return _static(name)


def _static(name: str) -> Response:
    data = resources.files("neuralcodes.serve").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})
