"""The JSON shapes of the HTTP API, for validation and for the OpenAPI description.

Imported only by ``create_app`` (pydantic comes with the ``serve`` extra).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


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
