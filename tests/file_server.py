"""An HTTP server on 127.0.0.1 that serves files from memory, with ``Range`` requests: what the
download tests (data set, weights, benchmarks) fetch from instead of the internet."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class FileServer:
    """``files`` by URL path; what was asked for is recorded in ``requests`` and ``ranges``."""

    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    ranges: list[str | None] = field(default_factory=list)  # each request's Range header
    honour_range: bool = True  # False: answer every request in full, as some servers do


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            data, rng = server.files.get(self.path), self.headers.get("Range")
            server.requests.append(self.path)
            server.ranges.append(rng)
            if data is None:
                self.send_error(404)
                return
            start = int(rng[6:].split("-")[0]) if rng and server.honour_range else 0
            if start >= len(data) and start:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206 if start else 200)
            if start:
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            self.wfile.write(data[start:])

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@contextlib.contextmanager
def serve_files() -> Iterator[FileServer]:
    """A running server (its ``url`` set) until the block ends."""
    state = FileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
