"""Things built from the store once per committed write, shared by every request.

A listing's order, the full-text index, the facet index, the autocompletion terms and the
charts' figures all read the whole store (seconds on 100,000 practices), so each is built
once per commit. When the commit has moved on, a value that was quick to build (under
:data:`BUILD_IN_REQUEST` seconds last time: any small store) is built again by the first
request that notices, so a writer reads its own write; a slow one is built in a background
thread while every request, that first one included, gets the previous commit's value at
once. With no value yet (the first request of a server run) a request waits for the build;
:mod:`.warm_up` starts the big ones when the server starts, so that is rare.

A store other programs write too (the remote backend) has no commits of ours to follow, so
its values are rebuilt at most every :data:`SHARED_REBUILD` seconds: rebuilding a facet
index through SPARQL as often as the headline counts are refreshed would keep the remote
server busy for nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import current_app, has_app_context

from .runtime import get_runtime

T = TypeVar("T")
log = logging.getLogger(__name__)
#: Seconds a value built from a shared (remote) store is served before it is built again.
SHARED_REBUILD = 300.0
#: A value whose last build took less than this many seconds is rebuilt in the request.
BUILD_IN_REQUEST = 1.0


def current_version() -> object:
    """What a per-commit value is valid for: this runtime and its committed writes (and,
    for a shared store, the current :data:`SHARED_REBUILD` period)."""
    runtime = get_runtime()
    period = int(time.monotonic() // SHARED_REBUILD) if runtime.shared else 0
    return (id(runtime), runtime.freshness.writes, period)


def _app():
    """The app a background build needs for its context (None outside one)."""
    return current_app._get_current_object() if has_app_context() else None


class PerCommit(Generic[T]):
    """Values by key, each rebuilt when the committed state has moved on since it was built.

    ``get(key, build)`` answers the value built for the current commit. When there is an
    older one that took long to build, it answers that at once and has the new one built in
    the background (stale for as long as the build takes); otherwise it builds, or waits
    for the build another thread started. Each key has its own lock, so a build may read
    another key's value (or another cache's) without deadlock, and keys build side by
    side."""

    def __init__(self) -> None:
        self._guard = threading.Lock()  # guards the two dicts, never held during a build
        self._locks: dict[Hashable, threading.Lock] = {}
        self.entries: dict[Hashable, tuple[object, T]] = {}
        self.took: dict[Hashable, float] = {}  # seconds the last build of each key took

    def _lock_of(self, key: Hashable) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def get(self, key: Hashable, build: Callable[[], T], version: object | None = None) -> T:
        if version is None:
            version = current_version()
        entry = self.entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        lock = self._lock_of(key)
        if entry is not None and self.took.get(key, 0.0) >= BUILD_IN_REQUEST:
            if lock.acquire(blocking=False):  # nobody is building it: start the build
                threading.Thread(target=self._rebuild, args=(key, build, version, lock),
                                 name=f"per-commit {key}", daemon=True,
                                 kwargs={"app": _app()}).start()
            return entry[1]
        with lock:
            entry = self.entries.get(key)
            if entry is None or entry[0] != version:
                entry = (version, self._timed(key, build))
                self.entries[key] = entry
            return entry[1]

    def _timed(self, key: Hashable, build: Callable[[], T]) -> T:
        started = time.monotonic()
        value = build()
        self.took[key] = time.monotonic() - started
        return value

    def _rebuild(self, key: Hashable, build: Callable[[], T], version: object,
                 lock: threading.Lock, app=None) -> None:
        """Build ``key`` for ``version`` in this background thread (which holds ``lock``);
        a failure keeps the old value, and the next request tries again."""
        try:
            if app is not None:
                with app.app_context():
                    value = self._timed(key, build)
            else:
                value = self._timed(key, build)
            self.entries[key] = (version, value)
        except Exception:  # logged; requests keep the previous value
            log.exception("Building %r for the new commit failed; the previous one is "
                          "served until a later request builds it again", key)
        finally:
            lock.release()

    def clear(self) -> None:
        with self._guard:
            self.entries.clear()
