"""The FastAPI application: the JSON API over an open index and the web page that uses it.

Routes (all answers are JSON unless said otherwise; errors are ``{"detail": "..."}``):

- ``GET /`` the web page (plain HTML, JavaScript and CSS served from this package: works offline)
- ``GET /api/health``, ``GET /api/info``
- ``POST /api/search?k=10`` an image as a multipart form field ``file`` or as the raw body
- ``GET /api/search/{id}?k=10`` search from an indexed image
- ``GET /api/images/{id}`` the indexed file; ``?thumb=1`` a small JPEG thumbnail
- ``GET /openapi.json`` the OpenAPI description; ``GET /docs`` an offline page listing it

FastAPI's own Swagger and ReDoc pages load their scripts from a CDN, so they are switched off.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations,
# and the types they name are imported inside the functions that define the routes.
import mimetypes
from importlib import resources
from typing import TYPE_CHECKING, Any

from neuralcodes import __version__
from neuralcodes.serve.extra import require_serve_extra
from neuralcodes.serve.service import MAX_K, IndexLike, SearchService, UnknownId
from neuralcodes.serve.uploads import DEFAULT_MAX_PIXELS, DEFAULT_MAX_UPLOAD_BYTES, UploadRejected

if TYPE_CHECKING:
    from fastapi import FastAPI

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


def create_app(
    index: IndexLike,
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> "FastAPI":
    """A FastAPI app serving ``index`` (an open ``neuralcodes.index.api.Index``).

    Uploads over ``max_upload_bytes`` bytes (413), declaring over ``max_pixels`` pixels (413) or
    not an image (415) are refused with a message; the server goes on serving.
    """
    require_serve_extra()
    from fastapi import FastAPI

    service = SearchService(index, max_upload_bytes=max_upload_bytes, max_pixels=max_pixels)
    app = FastAPI(
        title="neuralcodes",
        version=__version__,
        description="Search a folder of images by image, with neural codes (Babenko et al. 2014).",
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = service
    _add_error_handlers(app)
    _add_headers(app)
    _add_api_routes(app, service)
    _add_page_routes(app)
    return app


def _add_error_handlers(app: "FastAPI") -> None:
    from fastapi import Request
    from fastapi.responses import JSONResponse

    @app.exception_handler(UploadRejected)
    async def rejected(request: Request, exc: UploadRejected) -> JSONResponse:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)

    @app.exception_handler(UnknownId)
    async def unknown(request: Request, exc: UnknownId) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)


def _add_headers(app: "FastAPI") -> None:
    from fastapi import Request, Response

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response


def _errors() -> dict[int | str, dict[str, Any]]:
    from neuralcodes.serve.schemas import ErrorResponse

    return {status: {"model": ErrorResponse} for status in (400, 404, 413, 415)}


def _add_api_routes(app: "FastAPI", service: SearchService) -> None:
    from fastapi import Path, Query, Request
    from fastapi.concurrency import run_in_threadpool

    from neuralcodes.serve.body import read_image_bytes
    from neuralcodes.serve.schemas import Health, SearchResponse

    k_query = Query(10, ge=1, le=MAX_K, description="how many results")

    @app.get("/api/health", response_model=Health, tags=["server"])
    def health() -> dict[str, Any]:
        return service.health()

    @app.get("/api/info", tags=["server"])
    def info() -> dict[str, Any]:
        """What the index holds and what built it, and the server's upload limits."""
        return service.info()

    @app.post("/api/search", response_model=SearchResponse, responses=_errors(),
              openapi_extra=UPLOAD_BODY, tags=["search"])
    async def search_upload(request: Request, k: int = k_query) -> dict[str, Any]:
        """The indexed images nearest to an uploaded image, nearest first."""
        data = await read_image_bytes(request, service.max_upload_bytes)
        return await run_in_threadpool(service.search_upload, data, k)

    @app.get("/api/search/{image_id}", response_model=SearchResponse, responses=_errors(),
             tags=["search"])
    def search_id(image_id: int = Path(ge=0), k: int = k_query) -> dict[str, Any]:
        """The indexed images nearest to the indexed image ``image_id`` (itself left out)."""
        return service.search_id(image_id, k)

    _add_image_route(app, service)


def _add_image_route(app: "FastAPI", service: SearchService) -> None:
    from fastapi import Path, Query, Response
    from fastapi.responses import FileResponse

    @app.get("/api/images/{image_id}", responses=_errors(), tags=["images"],
             response_class=Response)
    def image(image_id: int = Path(ge=0), thumb: bool = Query(False)) -> Response:
        """The indexed image file, or with ``thumb=1`` a JPEG at most 256 pixels on a side."""
        cache = {"Cache-Control": "private, max-age=3600"}
        if thumb:
            return Response(service.thumbnail(image_id), media_type="image/jpeg", headers=cache)
        path = service.file_of(image_id)
        media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=media, headers=cache)


def _add_page_routes(app: "FastAPI") -> None:
    from fastapi import HTTPException, Response

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


def _static(name: str) -> Any:
    from fastapi import Response

    data = resources.files("neuralcodes.serve").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})
