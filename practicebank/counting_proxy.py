"""A loopback HTTP forwarder that counts what a remote SPARQL endpoint is sent and answers.

The federation tests and ``bench/bench_federation.py`` put one in front of a remote endpoint
(and the forwarder's URL on the allowlist), so the requests and bytes a query costs the
remote are measured outside the code under test: the forwarder sees exactly what went over
the wire, whichever path (the engine's own SERVICE through the proxy, or a bind join) sent
it. It forwards GET and POST with their body, ``Content-Type`` and ``Accept`` to the same
path on the target, and the answer back with its status and content type.
"""

from __future__ import annotations

import http.client
import http.server
import threading
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Counts:
    """What went through: requests, bytes of request bodies and of answers, and the bodies
    (decoded) of the last requests, for tests that look at what was sent."""

    requests: int = 0
    sent_bytes: int = 0
    answer_bytes: int = 0
    bodies: list[str] = field(default_factory=list)


class CountingProxy:
    """Forwards to ``target`` (``http://host:port``) from a free loopback port; use as a
    context manager, or call :meth:`close`."""

    def __init__(self, target: str, *, keep_bodies: int = 50) -> None:
        parts = urllib.parse.urlsplit(target)
        self.target = (parts.hostname, parts.port)
        self.counts = Counts()
        self.keep_bodies = keep_bodies
        self._lock = threading.Lock()
        handler = type("Handler", (_Forward,), {"owner": self})
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True,
                         name="counting-proxy").start()
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset(self) -> Counts:
        """The counts so far, and start again from zero."""
        with self._lock:
            counts, self.counts = self.counts, Counts()
        return counts

    def record(self, body: bytes, answer: bytes) -> None:
        with self._lock:
            self.counts.requests += 1
            self.counts.sent_bytes += len(body)
            self.counts.answer_bytes += len(answer)
            if len(self.counts.bodies) < self.keep_bodies:
                self.counts.bodies.append(body.decode("utf-8", "replace"))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CountingProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Forward(http.server.BaseHTTPRequestHandler):
    owner: CountingProxy
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        self._forward()

    def do_POST(self) -> None:  # noqa: N802
        self._forward()

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() in ("content-type", "accept")}
        conn = http.client.HTTPConnection(*self.owner.target, timeout=600)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            status, content_type = response.status, response.getheader("Content-Type")
        finally:
            conn.close()
        self.owner.record(body, answer)
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass


__all__ = ["CountingProxy", "Counts"]
