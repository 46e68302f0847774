"""Throwaway SPARQL servers on loopback for the remote-store tests (no pytest in here).

:func:`start_oxigraph` runs ``oxigraph serve`` (the PyPI package ``oxigraph``) and
:func:`start_virtuoso` a Virtuoso 7 through ``shared/tools/virtuoso_server.sh``, each on free
loopback ports with its database in a folder of the caller's. Both return a
:class:`Backend` whose URLs and credentials go straight into
:class:`~practicebank.remote_store.RemoteStore`, and whose ``stop()`` ends the server (and
only it: by the process id the start recorded).

Virtuoso takes some seconds to start, so start it once per test session (conftest.py's
``oxigraph_backend`` and ``virtuoso_backend`` fixtures do, for every module). A missing
``virtuoso-t`` raises :class:`BackendUnavailable` naming the package to install: the tests
fail rather than skip, because CI installs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from endpoint_live import free_port

from practicebank import oxigraph_server
from practicebank.remote_store import RemoteStore

INSTALL_HINT = ("Virtuoso is needed for these tests: install the Debian/Ubuntu package "
                "virtuoso-opensource (apt-get install virtuoso-opensource), which provides "
                "virtuoso-t and isql-vt")


class BackendUnavailable(RuntimeError):
    """A server the tests need cannot be started here."""


@dataclass
class Backend:
    """A running SPARQL server: where to reach it and how to stop it."""

    name: str
    query_url: str
    update_url: str
    store_url: str | None
    user: str | None = None
    password: str | None = None
    _stop: Callable[[], None] = field(default=lambda: None, repr=False)

    def stop(self) -> None:
        self._stop()

    def store(self, **options) -> RemoteStore:
        """A RemoteStore on this server (``options`` go to its constructor)."""
        arguments = {"update_url": self.update_url, "store_url": self.store_url,
                     "user": self.user, "password": self.password, **options}
        return RemoteStore(self.query_url, **arguments)


def start_oxigraph(folder: Path, *, union_default_graph: bool = True,
                   query_timeout: int | None = None) -> Backend:
    """``oxigraph serve`` on a free port with its store in ``folder``.
    ``--union-default-graph`` makes every client see the union of the named graphs as the
    default graph (RemoteStore asks for it per query anyway), and makes the server ignore a
    query's own ``FROM`` (conftest.py's shared server runs without it); ``query_timeout``
    (seconds) is the server's own limit on a query. The process handling is
    :func:`practicebank.oxigraph_server.start_oxigraph`, shared with the partner endpoints."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        server = oxigraph_server.start_oxigraph(
            folder / "data", log=folder / "oxigraph.log",
            union_default_graph=union_default_graph, timeout_s=query_timeout)
    except oxigraph_server.OxigraphUnavailable as error:
        raise BackendUnavailable(str(error)) from None
    return Backend("oxigraph", server.query_url, server.update_url, server.store_url,
                   _stop=server.stop)


def virtuoso_script() -> Path:
    """``tools/virtuoso_server.sh`` of the shared folder (``$PRACTICEBANK_SHARED`` or
    ``../shared``)."""
    from conftest import find_shared

    return find_shared() / "tools" / "virtuoso_server.sh"


def start_virtuoso(folder: Path) -> Backend:
    """A throwaway Virtuoso with its database in ``folder``: query and update on
    ``/sparql`` (no credentials), the Graph Store on ``/sparql-graph-crud-auth`` (HTTP
    Digest, ``dba``/``dba``, the packaged default: loopback only)."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        raise BackendUnavailable(INSTALL_HINT)
    script = virtuoso_script()
    folder.mkdir(parents=True, exist_ok=True)
    http_port, isql_port = free_port(), free_port()
    while isql_port == http_port:
        isql_port = free_port()
    result = subprocess.run(["bash", str(script), "start", str(folder), str(http_port),
                             str(isql_port)], capture_output=True, text=True, timeout=180)

    def stop() -> None:
        subprocess.run(["bash", str(script), "stop", str(folder)], capture_output=True,
                       timeout=60)
        _kill_recorded(folder / "pid")

    if result.returncode != 0:
        stop()
        raise BackendUnavailable(f"Virtuoso did not start ({result.returncode}): "
                                 f"{result.stderr.strip()[-800:]}")
    urls = result.stdout.split()
    sparql, crud = urls[0], urls[1]
    return Backend("virtuoso", sparql, sparql, crud, user="dba", password="dba", _stop=stop)


def _kill_recorded(pid_file: Path) -> None:
    """Make sure the process the start script recorded is gone (the script's stop sends
    SIGTERM and waits; this is the last resort, for that one pid only)."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, 0)
    except OSError:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


def clear(store: RemoteStore) -> None:
    """Drop every graph of ours (and any staging graph) so the next test starts empty;
    the engine's own graphs stay."""
    graphs = store.named_graphs()
    store.recover()
    if graphs:
        store.client.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs))


__all__ = ["Backend", "BackendUnavailable", "INSTALL_HINT", "clear", "start_oxigraph",
           "start_virtuoso"]
