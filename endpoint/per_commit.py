"""Things built from the store once per committed write, shared by every request.

A listing's order, the full-text index, the facet index and the autocompletion terms all
read the whole store (seconds on 100,000 practices), so each is built once per commit. One
thread builds while requests that arrive meanwhile get the previous commit's value when
there is one, rather than all building the same thing at once; the very first request of a
server run waits for the build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from .runtime import get_runtime

T = TypeVar("T")


def current_version() -> object:
    """What a per-commit value is valid for: this runtime and its committed writes."""
    runtime = get_runtime()
    return (id(runtime), runtime.version())


class PerCommit(Generic[T]):
    """Values by key, each rebuilt when the committed state has moved on since it was built.

    ``get(key, build)`` answers the value built for the current commit; if another thread is
    building a newer one, it answers the previous value at once (stale by one commit at most,
    and only for as long as the build takes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[Hashable, tuple[object, T]] = {}

    def get(self, key: Hashable, build: Callable[[], T], version: object | None = None) -> T:
        if version is None:
            version = current_version()
        entry = self.entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        if entry is not None and not self.lock.acquire(blocking=False):
            return entry[1]  # another request is building the new value
        if entry is None:
            self.lock.acquire()
        try:
            entry = self.entries.get(key)
            if entry is None or entry[0] != version:
                entry = (version, build())
                self.entries[key] = entry
            return entry[1]
        finally:
            self.lock.release()

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
