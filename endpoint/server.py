"""Running the endpoint under granian, a production HTTP server written in Rust.

Measured on this project's 2-core machine (``bench/bench_endpoint.py``), the HTTP layer was
the endpoint's bottleneck: waitress (pure Python) spent more time parsing requests and
writing responses than Oxigraph spent answering a cheap lookup. granian parses HTTP and
manages connections in Rust, off the GIL, and calls the WSGI app from a small pool of
Python threads that mostly wait on query workers.

granian runs the app in a child process that it supervises. That child is started with
``spawn`` (a fresh interpreter: RocksDB's background threads do not survive a ``fork``), so
it is given the app's *configuration*, builds the app itself, starts the runtime (worker
pool, snapshots) before taking the first request, and stops it when the server stops, so no
query worker outlives the server.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
import threading
from collections.abc import Mapping
from functools import partial
from typing import Any

from flask import Flask

from practicebank import settings

from . import create_app, warm_up
from .query_limits import THREAD_STACK
from .runtime import close_runtime, get_runtime


def endpoint_url(host: str, port: int) -> str:
    """The URL of ``/sparql`` on ``host:port`` (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/sparql"


def serve(config: Mapping[str, Any], host: str = "127.0.0.1", port: int = 7878,
          threads: int | None = None) -> None:
    """Serve the app that ``create_app(config)`` builds until the process is stopped.

    ``config`` must be picklable (paths and settings, not a store object): the app is built
    in the server's child process. Loopback only unless ``host`` says otherwise. ``threads``
    overrides the ``threads`` setting.
    """
    resolved = settings.resolve(config, config_file=config.get("CONFIG_FILE"))
    if threads is None:
        threads = resolved["THREADS"]
    else:
        threads = settings.BY_NAME["threads"].convert(threads)
    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    # granian starts its worker with the default start method; make that a fresh interpreter.
    multiprocessing.set_start_method("spawn", force=True)
    # Updates (and in-process queries) run Oxigraph on granian's request threads, whose Rust
    # default stack is 2 MiB: too small for the worst update under the shape limits of
    # query_limits.py. Rust reads this when the (fresh) child process spawns its threads.
    os.environ.setdefault("RUST_MIN_STACK", str(THREAD_STACK))
    server = Server(
        "practicebank.endpoint:create_app",  # a label only: the loader below builds the app
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=1,
        blocking_threads=request_threads(threads, resolved["MAX_BODY_READERS"]),
        backpressure=threads * 8,
        log_level=LogLevels.warning,
        workers_kill_timeout=10,
    )
    # granian warns when its Python threads outnumber the cores; ours mostly wait on query
    # workers, and the number is a documented setting, so the warning would mislead.
    logging.getLogger("_granian").addFilter(_NotAboutThreadCount())
    server.serve(target_loader=partial(_load_app, dict(config), host, port))


def request_threads(threads: int, body_readers: int) -> int:
    """granian's Python threads: ``threads`` plus one per body reader.

    A request whose body is being received waits in its request thread (up to
    ``body_timeout``, and after a 408 until its stuck read returns: see :mod:`.bodies`), and
    at most ``max_body_readers`` of them do; giving granian that many threads more keeps
    ``threads`` of them for everything else, so uploads, slow or not, never take the threads
    that answer reads and ``/health``.
    """
    return threads + body_readers


class _NotAboutThreadCount(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Python threads" not in record.getMessage()


def _load_app(config: dict[str, Any], host: str, port: int, _target: str) -> Flask:
    """In granian's child: build the app, start its runtime, arrange its shutdown."""
    _relay_stop_signals()
    app = create_app(config)
    if app.config.get("ACCESS_LOG", True):
        _log_access_to_stderr()
    with app.app_context():
        runtime = get_runtime()
        runtime.executor.wait_ready()
    warm_up.start(app)  # the per-commit indexes, built before visitors ask for them
    # multiprocessing ends its children without running atexit hooks; its finalizers do run.
    multiprocessing.util.Finalize(app, close_runtime, args=(app,), exitpriority=10)
    print(f"practicebank endpoint on {endpoint_url(host, port)}", file=sys.stderr, flush=True)
    return app


STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _relay_stop_signals() -> None:
    """Make Ctrl-C and SIGTERM stop this process at once, whichever thread the kernel picks.

    granian's worker waits for its stop signal in the main thread, but a signal sent to the
    process may land on any of its Rust or Python threads, and then the main thread sleeps
    on: measured, Ctrl-C then took granian's 10 s kill timeout, and the killed process left
    its snapshot folder behind. So the stop signals are blocked here, before any other
    thread exists (threads inherit the mask), and one thread takes them with ``sigwait``
    and calls the handler granian installed, as the main thread would have.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)

    def relay() -> None:
        signum = signal.sigwait(STOP_SIGNALS)
        handler = signal.getsignal(signum)
        if callable(handler) and handler is not signal.default_int_handler:
            handler(signum, None)
        else:  # before granian took over: stop without a traceback
            os._exit(128 + signum)

    threading.Thread(target=relay, name="stop-signal-relay", daemon=True).start()


def _log_access_to_stderr() -> None:
    access = logging.getLogger("practicebank.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False
