"""``neuralcodes serve INDEX_DIR``: the HTTP API and the search page over an index, with Uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import logging
from typing import Any

from neuralcodes.cli.options import add_index_dir_argument, add_model_option, verbosity
from neuralcodes.images import MAX_PIXELS
from neuralcodes.serve.uploads import DEFAULT_MAX_UPLOAD_BYTES

MIB = 1024 * 1024
UVICORN_LEVELS = {logging.WARNING: "warning", logging.INFO: "info", logging.DEBUG: "debug"}
log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve",
        help="search an index from a web page and an HTTP API",
        description="Serve INDEX_DIR: a search page at http://HOST:PORT/ (drop an image, see the "
        "nearest ones), a JSON API under /api and its OpenAPI description at /openapi.json "
        "(listed at /docs). Needs the serve extra: pip install 'neuralcodes[serve]'.",
        func=run_serve,
    )
    add_index_dir_argument(p)
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0 lets "
                   "anyone on the network search and see the indexed images)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_model_option(p, recorded=True)
    p.add_argument("--max-upload-mb", type=_positive, default=DEFAULT_MAX_UPLOAD_BYTES / MIB,
                   help="largest query image accepted, in MiB (default 20)")
    p.add_argument("--max-megapixels", type=_positive, default=MAX_PIXELS / 1e6,
                   help="largest query image accepted, in megapixels: refuses decompression "
                   f"bombs before decoding them (default {MAX_PIXELS / 1e6:.1f}, the limit of "
                   "every image reader)")


def run_serve(args: argparse.Namespace) -> int:
    """Open the index, build the app, and serve it until Ctrl-C."""
    from neuralcodes.serve import require_serve_extra

    require_serve_extra()  # before the slow index load, so a missing extra is reported at once
    import uvicorn

    from neuralcodes.allocator import limit_arenas
    from neuralcodes.index.api import Index
    from neuralcodes.serve import create_app

    limit_arenas()  # before the request threads start: their freed memory is shared, not kept
    index = Index.open(args.index_dir, model=args.model)
    app = create_app(index, max_upload_bytes=int(args.max_upload_mb * MIB),
                     max_pixels=int(args.max_megapixels * 1e6))
    _announce(args.host, args.port, len(index))
    uvicorn.run(app, host=args.host, port=args.port,
                log_level=UVICORN_LEVELS.get(verbosity(args), "info"))
    return 0


def _announce(host: str, port: int, n_images: int) -> None:
    shown = f"[{host}]" if ":" in host else host
    log.info("serving %d images at http://%s:%d/ (Ctrl-C stops)", n_images, shown, port)
    if not _is_loopback(host):
        log.warning("listening on %s, not only this computer: anyone who can reach it can "
                    "search the index and see its images", host)


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value
