"""Limits that only a real server shows: a body is refused while it is still arriving."""

from __future__ import annotations

import socket
import time

import pytest

from neuralcodes.index.api import Index

from .live import live_server

pytest.importorskip("uvicorn", reason="needs the serve extra: pip install 'neuralcodes[serve]'")

from neuralcodes.serve import create_app  # noqa: E402

LIMIT = 100_000


def _request(url: str, head: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode("ascii"))
    return sock


def _answer(sock: socket.socket) -> bytes:
    data = b""
    sock.settimeout(10)
    try:
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data and data.rstrip().endswith(b"}"):
                break
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def test_declared_huge_body_is_refused_before_it_is_sent(colour_index: Index) -> None:
    with live_server(create_app(colour_index, max_upload_bytes=LIMIT)) as url:
        sock = _request(url, "POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                        "Content-Length: 10000000000\r\n\r\n")
        answer = _answer(sock)  # no body byte was sent
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413")
    assert b"upload too large" in answer


def test_chunked_body_is_cut_at_the_limit(colour_index: Index) -> None:
    chunk = b"\x00" * 16_384
    with live_server(create_app(colour_index, max_upload_bytes=LIMIT)) as url:
        sock = _request(url, "POST /api/search HTTP/1.1\r\nHost: t\r\nContent-Type: image/png\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n")
        sent = 0
        deadline = time.monotonic() + 20
        try:
            while sent < 200 * LIMIT and time.monotonic() < deadline:  # up to 20 MB
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
                sock.settimeout(0.001)
                try:
                    if sock.recv(1, socket.MSG_PEEK):
                        break  # the server has answered
                except (BlockingIOError, TimeoutError):
                    pass
                sock.settimeout(10)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _answer(sock)
        sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 20 * LIMIT  # it answered long before the 20 MB were sent
