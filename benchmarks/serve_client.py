"""The client side of ``bench_serve``: a running server process, concurrent searches checked for a
single consistent generation, large uploads with a search-by-id probe, the server's memory.

Used by ``benchmarks/bench_serve.py`` and by the slow memory test of the server.
"""

from __future__ import annotations

import http.client
import io
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


def rss_mb(pid: int) -> float:
    """The resident set of a process in MB (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """Samples a process's RSS every ``interval`` seconds in a thread; ``peak`` in MB."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def server(index_dir: Path, *extra: str, timeout_s: float = 120) -> Iterator[tuple[str, int]]:
    """``neuralcodes serve INDEX_DIR`` in a process of its own; yields (host:port, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "neuralcodes", "serve", str(index_dir), "--port", str(port),
           *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while request(address, "GET", "/api/health")[0] != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {proc.stderr.read()[-2000:]}"
                                   if proc.stderr else "the server did not start")
            time.sleep(0.2)
        yield address, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


_local = threading.local()


def request(address: str, method: str, path: str, body: bytes | None = None,
            content_type: str = "image/jpeg") -> tuple[int, Any]:
    """One request on this thread's keep-alive connection: (status, JSON or bytes); status 0
    when the connection failed."""
    conns: dict[str, http.client.HTTPConnection] = _local.__dict__.setdefault("conns", {})
    host, port = address.split(":")
    for attempt in range(2):
        conn = conns.get(address) or http.client.HTTPConnection(host, int(port), timeout=120)
        conns[address] = conn
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            conns.pop(address, None)
            if attempt:
                return 0, None
            continue
        kind = r.getheader("content-type", "")
        return r.status, json.loads(data) if kind.startswith("application/json") else data
    return 0, None


@dataclass
class Generations:
    """Each generation's entries (id -> path) read once, on first sight, from the index folder;
    an answer is consistent when every id it names is in its generation, with that path."""

    index_dir: Path
    seen: dict[str, dict[int, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def entries(self, name: str) -> dict[int, str]:
        with self.lock:
            if name not in self.seen:
                lines = (self.index_dir / name / "entries.jsonl").read_text().splitlines()
                rows = [json.loads(line) for line in lines if line.strip()]
                self.seen[name] = {int(r["id"]): r["path"] for r in rows}
            return self.seen[name]

    def consistent(self, answer: dict[str, Any]) -> bool:
        try:
            entries = self.entries(str(answer["generation"]))
        except (OSError, KeyError):
            return False
        hits = answer["results"]
        ok = all(entries.get(h["id"]) == h["path"] for h in hits)
        dists = [h["distance"] for h in hits]
        return ok and dists == sorted(dists) and answer["query"].get("id", -1) in {*entries, -1}


@dataclass
class LoadResult:
    latencies_ms: list[float]
    errors: int
    inconsistent: int
    seconds: float
    generations: dict[str, int]

    def summary(self) -> dict[str, Any]:
        lat = np.asarray(self.latencies_ms or [0.0])
        return {"requests": len(self.latencies_ms) + self.errors, "errors": self.errors,
                "inconsistent": self.inconsistent,
                "p50_ms": round(float(np.percentile(lat, 50)), 1),
                "p95_ms": round(float(np.percentile(lat, 95)), 1),
                "requests_per_s": round(len(self.latencies_ms) / self.seconds, 1),
                "generations": self.generations}


Job = tuple[str, str, bytes | None]  # method, path, body


def run_load(address: str, next_job: Callable[[], Job | None], concurrency: int,
             generations: Generations) -> LoadResult:
    """``concurrency`` threads send the jobs that ``next_job`` gives (None: no more) and
    check every answer."""
    lock = threading.Lock()
    latencies: list[float] = []
    errors, inconsistent = [0], [0]
    seen: dict[str, int] = {}

    def worker() -> None:
        while True:
            with lock:
                job = next_job()
            if job is None:
                return
            t0 = time.perf_counter()
            status, body = request(address, *job)
            ms = (time.perf_counter() - t0) * 1e3
            good = status == 200 and isinstance(body, dict)
            consistent = good and generations.consistent(body)
            with lock:
                if good:
                    latencies.append(ms)
                    seen[body["generation"]] = seen.get(body["generation"], 0) + 1
                errors[0] += not good
                inconsistent[0] += good and not consistent

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return LoadResult(latencies, errors[0], inconsistent[0], time.perf_counter() - start,
                      dict(sorted(seen.items())))


def jobs_of(jobs: list[Job]) -> Callable[[], Job | None]:
    """``next_job`` over a fixed list."""
    it = iter(jobs)
    return lambda: next(it, None)


def large_png(megapixels: float) -> bytes:
    """A PNG of about ``megapixels`` that compresses to a few hundred KB (a smooth gradient)."""
    from PIL import Image

    side = int((megapixels * 1e6) ** 0.5)
    row = np.linspace(0, 255, side, dtype=np.float32).astype(np.uint8)  # (side,)
    im = Image.fromarray(np.broadcast_to(row[None, :, None], (side, side, 3)).copy())
    buf = io.BytesIO()
    im.save(buf, format="PNG", compress_level=9)
    return buf.getvalue()


def large_uploads(address: str, pid: int, probe_id: int, *, n: int, concurrency: int,
                  megapixels: float) -> dict[str, Any]:
    """``n`` uploads of a large PNG at ``concurrency``, while one thread searches by id in a
    loop: the server's peak and final RSS, and how long the searches by id took."""
    data = large_png(megapixels)
    probe: list[float] = []
    stop = threading.Event()

    def probing() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            request(address, "GET", f"/api/search/{probe_id}?k=10")
            probe.append(time.perf_counter() - t0)
            time.sleep(0.05)

    start_mb = rss_mb(pid)
    thread = threading.Thread(target=probing)
    with MemorySampler(pid) as memory:
        thread.start()
        with ThreadPoolExecutor(concurrency) as pool:
            statuses = list(pool.map(lambda _: request(address, "POST", "/api/search?k=5", data,
                                                       "image/png")[0], range(n)))
        stop.set()
        thread.join()
        time.sleep(1.0)
    return {"uploads": n, "ok": statuses.count(200), "png_kb": round(len(data) / 1024),
            "megapixels": megapixels, "rss_start_mb": round(start_mb),
            "rss_peak_mb": round(memory.peak), "rss_end_mb": round(rss_mb(pid)),
            "by_id_searches": len(probe), "by_id_max_s": round(max(probe, default=0.0), 3),
            "by_id_p50_s": round(float(np.median(probe)) if probe else 0.0, 3)}

