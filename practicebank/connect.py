"""Opening the store the settings name: the embedded Oxigraph store or a SPARQL server.

Everything that opens a store (the CLI, the Python API, the endpoint) comes through here, so
the choice of backend is made in one place and the rest sees only the
:class:`~practicebank.backend.Store` contract.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from .backend import Store
from .remote_store import RemoteStore
from .store import PracticeStore


def open_store(path: str | os.PathLike[str] | None = None, *, backend: str = "embedded",
               query_url: str = "", update_url: str = "", store_url: str = "",
               user: str = "", password: str = "") -> Store:
    """Open the store the settings name: the embedded store at ``path`` (None: in memory),
    or with ``backend="sparql"`` the SPARQL server at ``query_url`` (``update_url``
    defaults to it; ``store_url`` is its Graph Store endpoint, optional)."""
    if backend == "embedded":
        return PracticeStore(path)
    if backend != "sparql":
        raise ValueError(f"backend must be embedded or sparql, not {backend!r}")
    if not query_url:
        raise ValueError("The sparql backend needs backend_query_url (--backend-query-url or "
                         "PRACTICEBANK_BACKEND_QUERY_URL): the server's SPARQL query URL.")
    return RemoteStore(query_url, update_url or query_url, store_url or None,
                       user=user or None, password=password or None)


def open_from_settings(values: Mapping[str, Any], path: str | os.PathLike[str] | None
                       ) -> Store:
    """:func:`open_store` from resolved settings (:func:`practicebank.settings.resolve`)."""
    return open_store(path, backend=values["BACKEND"], query_url=values["BACKEND_QUERY_URL"],
                      update_url=values["BACKEND_UPDATE_URL"],
                      store_url=values["BACKEND_STORE_URL"], user=values["BACKEND_USER"],
                      password=values["BACKEND_PASSWORD"])


__all__ = ["open_store", "open_from_settings"]
