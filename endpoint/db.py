"""The store behind the endpoint: one store per app (the embedded store, or the remote
server the ``backend`` settings name), opened on first use.

A store on disk takes an exclusive lock, so it is opened once per app (not per request) and
shared by the server's threads; pyoxigraph releases the GIL while a query runs, so they
still query in parallel. Tests hand in a ready store as ``config["STORE"]`` instead.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from practicebank.backend import Store
from practicebank.connect import open_from_settings
from practicebank.store import StoreInUseError

from .errors import internal_error

EXTENSION = "practicebank.store"


class _StoreSlot:
    """Holds the app's store once it is open, and the lock that makes opening happen once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.store: Store | None = None


def get_store() -> Store:
    """The current app's store: ``config["STORE"]`` if given, else ``STORE_PATH`` opened once."""
    given = current_app.config.get("STORE")
    if given is not None:
        return given
    slot: _StoreSlot = current_app.extensions[EXTENSION]
    if slot.store is None:
        with slot.lock:
            if slot.store is None:
                slot.store = _open(current_app.config["STORE_PATH"])
    return slot.store


def _open(path: str) -> Store:
    try:
        return open_from_settings(current_app.config, path)
    except (StoreInUseError, OSError, ValueError) as exc:
        current_app.logger.error("Cannot open the store at %s: %s", path, exc)
        raise internal_error(
            "The server cannot open its store; the fault has been logged. "
            "Try again later, and tell the operator if it keeps happening."
        ) from exc


def init_app(app: Flask) -> None:
    """Give ``app`` its (not yet opened) store slot."""
    app.extensions[EXTENSION] = _StoreSlot()
