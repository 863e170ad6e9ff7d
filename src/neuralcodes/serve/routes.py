"""The JSON API's routes over a ``SearchService`` (all answers JSON but the images; errors are
``{"detail": "..."}``).

Uploads and image files are decoded on the service's pools (a few at a time); a search by id,
``/api/info`` and ``/api/health`` run on the server's thread pool and never wait for them.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route functions' annotations.
from typing import TYPE_CHECKING, Any

from neuralcodes.serve.service import MAX_K, SearchService

if TYPE_CHECKING:
    from fastapi import FastAPI

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
CACHE = {"Cache-Control": "private, max-age=3600"}


def _errors() -> dict[int | str, dict[str, Any]]:
    from neuralcodes.serve.schemas import ErrorResponse

    return {status: {"model": ErrorResponse} for status in (400, 404, 413, 415)}


def add_api_routes(app: "FastAPI", service: SearchService) -> None:
    from fastapi import Path, Query, Request

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
        return await service.uploads.run(service.search_upload, data, k)

    @app.get("/api/search/{image_id}", response_model=SearchResponse, responses=_errors(),
             tags=["search"])
    def search_id(image_id: int = Path(ge=0), k: int = k_query) -> dict[str, Any]:
        """The indexed images nearest to the indexed image ``image_id`` (itself left out)."""
        return service.search_id(image_id, k)

    _add_image_route(app, service)


def _add_image_route(app: "FastAPI", service: SearchService) -> None:
    from fastapi import Path, Query, Response

    @app.get("/api/images/{image_id}", responses=_errors(), tags=["images"],
             response_class=Response)
    async def image(image_id: int = Path(ge=0), thumb: bool = Query(False)) -> Response:
        """The indexed image, or with ``thumb=1`` a JPEG at most 256 pixels on a side. Served
        only if it is still the file that was indexed, inside the photo folder, and decodes."""
        if thumb:
            data = await service.file_pool.run(service.thumbnail, image_id)
            return Response(data, media_type="image/jpeg", headers=CACHE)
        data, media = await service.file_pool.run(service.image, image_id)
        return Response(data, media_type=media, headers=CACHE)
