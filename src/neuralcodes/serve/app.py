"""The FastAPI application: the JSON API over an open index and the web page that uses it.

Routes (all answers are JSON unless said otherwise; errors are ``{"detail": "..."}``):

- ``GET /`` the web page (plain HTML, JavaScript and CSS served from this package: works offline)
- ``GET /api/health``, ``GET /api/info``
- ``POST /api/search?k=10`` an image as a multipart form field ``file`` or as the raw body
- ``GET /api/search/{id}?k=10`` search from an indexed image
- ``GET /api/images/{id}`` the indexed file; ``?thumb=1`` a small JPEG thumbnail
- ``GET /openapi.json`` the OpenAPI description; ``GET /docs`` an offline page listing it

The API's routes are in ``routes.py``. FastAPI's own Swagger and ReDoc pages load their scripts
from a CDN, so they are switched off.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations,
# and the types they name are imported inside the functions that define the routes.
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TYPE_CHECKING, Any

from neuralcodes import __version__
from neuralcodes.images import MAX_PIXELS
from neuralcodes.serve.extra import require_serve_extra
from neuralcodes.serve.service import SearchService, UnknownId
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES, UploadRejected

if TYPE_CHECKING:
    from fastapi import FastAPI

    from neuralcodes.index.api import Index

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


def create_app(
    index: "Index",
    *,
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    max_pixels: int = MAX_PIXELS,
    reload_check_s: float = 0.5,
) -> "FastAPI":
    """A FastAPI app serving ``index`` (an open ``neuralcodes.index.Index``), and the newer
    generations that ``index update`` writes (the manifest is looked at every
    ``reload_check_s`` seconds at most, between requests).

    Uploads over ``max_upload_bytes`` bytes (413), declaring over ``max_pixels`` pixels (413) or
    not an image (415) are refused with a message; the server goes on serving.
    """
    require_serve_extra()
    from fastapi import FastAPI

    from neuralcodes.serve.routes import add_api_routes

    service = SearchService(index, max_upload_bytes=max_upload_bytes, max_pixels=max_pixels,
                            reload_check_s=reload_check_s)
    app = FastAPI(
        title="neuralcodes",
        version=__version__,
        description="Search a folder of images by image, with neural codes (Babenko et al. 2014).",
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(service),
    )
    app.state.service = service
    _add_error_handlers(app)
    _add_headers(app)
    add_api_routes(app, service)
    _add_page_routes(app)
    return app


def _lifespan(service: SearchService) -> Any:
    """Stops the service's decoding threads when the server stops."""

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield
        service.close()

    return lifespan


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
