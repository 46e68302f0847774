"""Running the endpoint under waitress, a production WSGI server (Flask's own is for debugging).

waitress is pure Python and serves requests from a thread pool; pyoxigraph releases the GIL
while a query runs, so the threads do query in parallel.
"""

from __future__ import annotations

import sys

import waitress
from flask import Flask


def endpoint_url(host: str, port: int) -> str:
    """The URL of ``/sparql`` on ``host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/sparql"


def serve(app: Flask, host: str = "127.0.0.1", port: int = 7878, threads: int = 8) -> None:
    """Serve ``app`` until the process is stopped; loopback only unless ``host`` says otherwise."""
    print(f"practicebank endpoint on {endpoint_url(host, port)}", file=sys.stderr, flush=True)
    waitress.serve(app, host=host, port=port, threads=threads)
