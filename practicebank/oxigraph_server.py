"""Run Oxigraph's own HTTP server (``oxigraph serve`` from the PyPI package ``oxigraph``) as a
child process on a free loopback port, and stop it again.

Used wherever practicebank needs a *separate* SPARQL endpoint rather than its own store: the
partner endpoints of :mod:`practicebank.partners` (for tests and the federation demo) and, in
the tests, the remote-store backend. Keeping the start, the wait and the stop in one place
means every caller gets the same guarantees: the server is up and answering before the
function returns, its log is kept for the error message if it is not, and ``stop()`` ends that
one process (by the handle the start kept), never anything found by name.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


class OxigraphUnavailable(RuntimeError):
    """The ``oxigraph`` command is not installed where practicebank can find it."""


def oxigraph_command() -> str:
    """The ``oxigraph`` executable: beside this Python (a virtualenv's ``bin/``), else on the
    PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.exists():
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise OxigraphUnavailable("oxigraph not found: pip install oxigraph (the test extra)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now (the OS picks it; a race with another starter is possible
    but harmless here: the server would fail to bind and the wait would report it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    """Poll ``url`` until it answers; raise with the server's log if it exits or stays silent."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{_tail(log)}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"no answer from {url} in {timeout} s:\n{_tail(log)}") from None
            time.sleep(0.1)


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no log)"


@dataclass
class OxigraphServer:
    """A running ``oxigraph serve``: its base URL and the process to stop."""

    base: str
    process: subprocess.Popen = field(repr=False)
    log: Path = field(repr=False)

    @property
    def query_url(self) -> str:
        return f"{self.base}/query"

    @property
    def update_url(self) -> str:
        return f"{self.base}/update"

    @property
    def store_url(self) -> str:
        return f"{self.base}/store"

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 15 s); safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> OxigraphServer:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_oxigraph(location: Path | None, *, log: Path, read_only: bool = False,
                   union_default_graph: bool = False, timeout_s: int | None = None,
                   host: str = "127.0.0.1") -> OxigraphServer:
    """``oxigraph serve`` (or ``serve-read-only``) on a free port of ``host``, with its store in
    ``location`` (``None``: in memory, read-write only), returned once it answers a query.

    ``union_default_graph`` makes the default graph the union of the named graphs (the server
    then ignores a query's own ``FROM``); ``timeout_s`` is the server's own limit on a query.
    """
    if read_only and location is None:
        raise ValueError("a read-only server needs a store location")
    port = free_port(host)
    arguments = [oxigraph_command(), "serve-read-only" if read_only else "serve",
                 "--bind", f"{host}:{port}"]
    if location is not None:
        arguments += ["--location", str(location)]
    if union_default_graph:
        arguments.append("--union-default-graph")
    if timeout_s is not None:
        arguments += ["--timeout-s", str(timeout_s)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=out)
    server = OxigraphServer(f"http://{host}:{port}", process, log)
    try:
        wait_until_up(f"{server.query_url}?query=ASK%7B%7D", process, log)
    except BaseException:
        server.stop()
        raise
    return server


def load_files(location: Path, files: list[Path], *, log: Path) -> None:
    """Load RDF ``files`` into the store at ``location`` with ``oxigraph load`` (atomic: all of
    a file or none of it); the format is guessed from each file's extension."""
    location.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        result = subprocess.run([oxigraph_command(), "load", "--location", str(location),
                                 "--file", *map(str, files)],
                                stdout=subprocess.DEVNULL, stderr=out, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"oxigraph load failed ({result.returncode}):\n{_tail(log)}")


__all__ = ["OxigraphServer", "OxigraphUnavailable", "free_port", "load_files",
           "oxigraph_command", "start_oxigraph", "wait_until_up"]
