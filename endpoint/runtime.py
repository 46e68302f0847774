"""The per-app machinery behind the views: executor, snapshots, writer, freshness, caches.

Built on first use (so ``create_app`` stays cheap and a test that only asks ``/health`` starts
no processes) and closed at exit. An on-disk store gets snapshots and a worker pool; a
remote store sends queries to its server (:mod:`.remote_executor`); an in-memory store (or
``workers = -1``) runs queries in process.
"""

from __future__ import annotations

import atexit
import os
import secrets
import threading
import time
from email.utils import formatdate
from pathlib import Path

import pyoxigraph as ox
from flask import current_app

from practicebank.backend import Store
from practicebank.remote_store import RemoteStore
from practicebank.settings import default_snapshot_dir

from .db import get_store
from .executors import Executor, InProcessExecutor, RWLock
from .federation import Allowlist, ServiceProxy
from .lookups import LookupLane
from .query_limits import QueryLimits
from .remote_executor import RemoteExecutor
from .snapshots import Snapshots
from .workers import WorkerPool
from .writes import Writer

EXTENSION = "practicebank.runtime"


class Freshness:
    """When the store last changed, for ETag and Last-Modified.

    The tag combines a random id of this server run with a count of committed writes, so it
    changes with every write and across restarts (a CLI load may happen in between).
    """

    def __init__(self) -> None:
        self.run_id = secrets.token_hex(4)
        self._set(0)

    def bump(self) -> None:
        self._set(self.writes + 1)

    def _set(self, writes: int) -> None:
        # Read on every GET answer, so computed once per write rather than per request.
        self.writes = writes
        self.last_modified = float(int(time.time()))
        self.tag = f"{self.run_id}-{writes}"
        self.http_date = formatdate(self.last_modified, usegmt=True)


class SharedFreshness(Freshness):
    """Freshness of a store that others write too (a remote server: ``practicebank load``,
    other endpoints, the server's own clients), whose changes this server never hears of.
    Every answer is taken as new: a tag that no request can match and the current time, so
    no conditional GET is answered 304 with what was true at this server's last write."""

    def _set(self, writes: int) -> None:
        self.writes = writes

    @property
    def tag(self) -> str:
        return f"{self.run_id}-{self.writes}-{secrets.token_hex(4)}"

    @property
    def last_modified(self) -> float:
        return float(int(time.time()))

    @property
    def http_date(self) -> str:
        return formatdate(self.last_modified, usegmt=True)


#: Seconds the counts of a shared store are kept (others change it without telling us).
SHARED_STATS_TTL = 5.0


class Runtime:
    """Everything one app needs to answer queries and take writes on one store."""

    def __init__(self, store: Store, config) -> None:
        self.store = store
        self.config = config
        self.lock = RWLock()
        self.shared = isinstance(store, RemoteStore)
        self.freshness = SharedFreshness() if self.shared else Freshness()
        self.allowlist = Allowlist.parse(config["SERVICE_ALLOWLIST"])
        self.limits = QueryLimits.from_config(config)
        self.proxy = ServiceProxy()  # remote calls of updates, which run in this process
        self.snapshots: Snapshots | None = None
        self._stats: tuple[tuple[int, int], dict] | None = None
        self._headline: tuple[tuple[int, int], dict[str, int]] | None = None
        self._stats_lock = threading.Lock()
        workers = int(config["WORKERS"])
        self.lookups: LookupLane | None = None
        if isinstance(store, RemoteStore):  # the server behind it runs the queries
            self.executor: Executor = RemoteExecutor(store)
        elif store.path is not None and workers >= 0:
            root = config["SNAPSHOT_DIR"] or default_snapshot_dir(store.path)
            self.snapshots = Snapshots(store, Path(root))
            size = workers or max(2, os.cpu_count() or 2)
            self.executor = WorkerPool(size, self.snapshots, threads=config["WORKER_THREADS"],
                                       max_queued=config["MAX_QUEUED"],
                                       page_maker=_callable(config.get("PAGE_MAKER")))
            self.lookups = LookupLane(self.snapshots)
        else:
            self.executor = InProcessExecutor(store, self.lock)
        self.writer = Writer(store, self.lock, on_commit=self._committed)

    def committed_view(self) -> ox.Store | None:
        """The store as last committed, read-only (the current snapshot), if there is one:
        the lookups' view, so a Graph Store read and a lookup share one open snapshot."""
        return self.lookups.view() if self.lookups is not None else None

    def _committed(self) -> None:
        if self.snapshots is not None:
            self.snapshots.publish()
        self.freshness.bump()

    def version(self) -> tuple[int, int]:
        """What caches of the store's contents are valid for (see :meth:`_version`)."""
        return self._version()

    def _version(self) -> tuple[int, int]:
        """What cached counts are valid for: the writes committed here and, for a shared
        store, the current few seconds."""
        ticks = int(time.monotonic() // SHARED_STATS_TTL) if self.shared else 0
        return self.freshness.writes, ticks

    def stats(self) -> dict:
        """Triple counts (total and per named graph), computed once per committed write,
        on the store as committed (never half-way through a write being applied). On a
        remote, only our graphs count: not the engine's own (Virtuoso's system graphs) or
        staging graphs."""
        with self._stats_lock, self.lock.reading():
            if self._stats is None or self._stats[0] != self._version():
                per_graph = {}
                for row in self.store.query(
                        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
                    if self.shared and not self.store.is_ours(row["g"].value):
                        continue
                    per_graph[row["g"].value] = int(row["n"].value)
                default = sum(1 for _ in self.store.quads_of(ox.DefaultGraph()))
                self._stats = (self._version(), {
                    "triples": default + sum(per_graph.values()),
                    "default_graph": default,
                    "graphs": per_graph,
                })
            return self._stats[1]

    def headline(self) -> dict[str, int]:
        """The landing page's counts (:meth:`~practicebank.backend.Store.stats`: practices, forces,
        concepts …): five COUNT queries, so computed once per committed write, not per
        visit."""
        with self._stats_lock, self.lock.reading():
            if self._headline is None or self._headline[0] != self._version():
                self._headline = (self._version(), self.store.stats())
            return self._headline[1]

    def disk_bytes(self) -> int:
        path = getattr(self.store, "path", None)  # the embedded store's folder
        if path is None or not path.exists():
            return 0
        return sum(f.stat().st_size for f in path.iterdir() if f.is_file())

    def close(self) -> None:
        if self.lookups is not None:
            self.lookups.close()
        self.executor.close()
        self.proxy.close()
        if self.snapshots is not None:
            self.snapshots.close()


def _callable(value: object):
    """``value`` when it can be called (create_app's page maker), else None: the workers
    then hand every page back to the server."""
    return value if callable(value) else None


_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The current app's runtime, built on first use."""
    app = current_app._get_current_object()
    runtime = app.extensions.get(EXTENSION)
    if runtime is None:
        with _lock:
            runtime = app.extensions.get(EXTENSION)
            if runtime is None:
                runtime = Runtime(get_store(), app.config)
                app.extensions[EXTENSION] = runtime
                atexit.register(runtime.close)
    return runtime


def close_runtime(app) -> None:
    """Stop the app's workers and delete its snapshots (tests; the server exits instead)."""
    runtime = app.extensions.pop(EXTENSION, None)
    if runtime is not None:
        runtime.close()
