"""Running the endpoint under waitress, a production WSGI server (Flask's own is for debugging).

waitress is pure Python and serves requests from a thread pool; the threads mostly wait on
query workers (or, in process, on pyoxigraph, which releases the GIL). The runtime (worker
pool, snapshots) is started before the first request, so the first query does not wait for
workers to spawn, and stopped when the server stops, so no worker outlives it.
"""

from __future__ import annotations

import logging
import signal
import sys

import waitress
from flask import Flask

from .runtime import close_runtime, get_runtime


def endpoint_url(host: str, port: int) -> str:
    """The URL of ``/sparql`` on ``host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/sparql"


def serve(app: Flask, host: str = "127.0.0.1", port: int = 7878, threads: int = 16) -> None:
    """Serve ``app`` until the process is stopped; loopback only unless ``host`` says otherwise."""
    access = logging.getLogger("practicebank.access")
    if app.config.get("ACCESS_LOG", True) and not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
    with app.app_context():
        runtime = get_runtime()
        wait_ready = getattr(runtime.executor, "wait_ready", None)
        if wait_ready is not None:
            wait_ready()
    print(f"practicebank endpoint on {endpoint_url(host, port)}", file=sys.stderr, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # run the cleanup below
    try:
        waitress.serve(app, host=host, port=port, threads=threads)
    finally:
        close_runtime(app)
