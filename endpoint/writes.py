"""Writes through the endpoint: who may write, and how a write is checked before it is made.

Every write (SPARQL Update, Graph Store PUT/POST/DELETE) runs in the server process, the
one owner of the read-write store, one at a time. A write is computed, checked, and only
then applied:

1. **plan**: what it would change, as a :class:`~practicebank.journal.ChangeSet`
   of exact quads and graphs (:mod:`.write_plans`), with nothing changed yet;
2. **authorise**: a change to a *system graph* (ontology, vocabularies, reference data,
   provenance: what the loader writes and validation takes as given) needs the admin token,
   else 403; the actual change decides, not the request's wording;
3. **validate**: the data graphs (named graphs under ``graph/``, where every load goes) as
   they would be, around what changes, against the SHACL shapes (:mod:`.write_validation`),
   removals included; a violation is a 422 with the report;
4. **apply** the change (:meth:`~practicebank.backend.Store.commit_changes`),
   on disk under a redo journal, so a kill at any moment leaves the store as it was before
   or after the write, never in between; then publish a snapshot.

Steps 1-3 run under the write's deadline (the ``query_timeout`` setting): past it the write
stops with a 504 and nothing changed. Steps 1-3 change nothing, so queries in the server
process are held back only while step 4 runs (the readers-writer lock); workers read
snapshots and never wait.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable
from typing import TypeVar

from flask import Request

from practicebank.backend import Store
from practicebank.dataset_description import changed_graphs, refresh_after_commit
from practicebank.journal import ChangeSet
from practicebank.namespaces import graph_node
from practicebank.problems import ValidationFailed, errors
from practicebank.resources import CONTEXT_BUNDLES
from practicebank.sparql_client import RemoteError, RemoteTimeout
from practicebank.store_reads import PROVENANCE_GRAPH

from .errors import EndpointError, service_unavailable
from .executors import RWLock
from .write_deadline import Deadline, WriteTimeout
from .write_validation import check_change

T = TypeVar("T")

#: The graphs only the loader writes: the bundled model and reference data (what validation
#: takes as context) and the provenance of loads. The dataset description (graph/dataset) is
#: not one: a write that touches it (``CLEAR ALL``, say) is followed by a description made
#: from scratch, which replaces whatever the write put there.
SYSTEM_GRAPHS = frozenset(graph_node(name) for name in
                          [*(b.graph for b in CONTEXT_BUNDLES), PROVENANCE_GRAPH])

__all__ = ["SYSTEM_GRAPHS", "Writer", "require_write_access"]


# -- who may write -----------------------------------------------------------------------------


def require_write_access(request: Request, write_token: str, admin_token: str = "") -> bool:
    """True for the admin token, False for the write token; 401 for anything else, 403 when
    the server has neither (it is read-only). Both tokens are compared in constant time."""
    if not write_token and not admin_token:
        raise EndpointError(
            403, "writes_disabled",
            "This server is read-only: writes are enabled by setting PRACTICEBANK_WRITE_TOKEN "
            "on the server.")
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    offered = credentials.strip().encode()
    is_admin = _matches(offered, admin_token)
    is_writer = _matches(offered, write_token)
    if scheme.lower() != "bearer" or not (is_admin or is_writer):
        raise EndpointError(
            401, "unauthorized",
            "Writes need the header 'Authorization: Bearer <token>' with the server's write "
            "token." if not given else "The bearer token is not the server's write token.",
            headers={"WWW-Authenticate": 'Bearer realm="practicebank"'})
    return is_admin


def _matches(offered: bytes, token: str) -> bool:
    # compare_digest always runs, so the time taken does not say which token is set.
    return hmac.compare_digest(offered, token.encode()) and bool(token)


def require_admin(change: ChangeSet, *, admin: bool, admin_configured: bool) -> None:
    """403 when ``change`` touches a system graph and the request is not the admin's."""
    touched = sorted(g.value for g in change.graphs() if g in SYSTEM_GRAPHS)
    if not touched or admin:
        return
    names = ", ".join(f"<{g}>" for g in touched)
    how = ("send the admin token instead of the write token ('Authorization: Bearer "
           "<admin token>')" if admin_configured else
           "this server has no admin token (PRACTICEBANK_ADMIN_TOKEN), so no HTTP write may "
           "change them; load them with `practicebank load`")
    raise EndpointError(
        403, "admin_required",
        f"The write was refused and nothing was changed: it would change the system graph(s) "
        f"{names} (ontology, vocabularies, reference data, provenance), which only the loader "
        f"changes. To change them anyway, {how}.")


# -- planning, checking, applying --------------------------------------------------------------


def backend_failed(exc: RemoteError, outcome: str) -> EndpointError:
    """The answer when the remote store refused or failed a write's reads or its commit: a
    400 when the server found the request itself wrong, else a 502 (the server's fault)."""
    if exc.status == 400:
        return EndpointError(400, "evaluation_error",
                             f"The store refused the write ({exc.message}); {outcome}. "
                             "Change it and send it again.")
    return EndpointError(502, "backend_failed",
                         f"The store behind this endpoint failed ({exc.message}); {outcome}. "
                         "Try again later, and tell the operator if it keeps happening.")


class Writer:
    """Serialises writes on ``store`` and applies only those that pass their checks.

    ``on_commit`` runs after a change is applied (publish a snapshot, bump ETags). A
    write's "before" is the store itself, unchanged until the write has passed its checks.
    """

    def __init__(self, store: Store, lock: RWLock, *,
                 on_commit: Callable[[], None]) -> None:
        self.store = store
        self.lock = lock
        self.on_commit = on_commit
        self._serial = threading.Lock()

    def write(self, plan: Callable[[Deadline], tuple[ChangeSet, T]], *, admin: bool = False,
              admin_configured: bool = False, timeout: float = 30.0) -> T:
        """Plan, authorise, validate and apply one write; returns what ``plan`` returned
        beside its change. ``plan`` runs with the writer to itself, so what it reads (does
        the graph exist?) still holds when the change is applied. Raises ValidationFailed
        (422), EndpointError (403, 503, 504) and whatever ``plan`` raises; in every case
        nothing was changed."""
        deadline = Deadline(timeout)
        if not self._serial.acquire(timeout=max(deadline.left(), 0)):
            raise service_unavailable(
                "Other writes kept the store busy for the whole of this write's deadline; "
                "nothing was changed. Retry shortly.")
        try:
            try:
                change, result = plan(deadline)
                require_admin(change, admin=admin, admin_configured=admin_configured)
                problems = check_change(self.store.view(), change, deadline)
                deadline.check()
            except (WriteTimeout, RemoteTimeout):
                raise EndpointError(
                    504, "deadline_exceeded",
                    f"The write could not be checked within its deadline ({timeout:g} s) and "
                    "was stopped; nothing was changed. Send it in smaller parts, or name the "
                    "graphs it changes (GRAPH <…>) so that fewer are compared.") from None
            except RemoteError as exc:
                raise backend_failed(exc, "nothing was changed") from None
            if errors(problems):
                raise ValidationFailed(problems)
            if change:
                with self.lock.writing():
                    try:
                        self.store.commit_changes(change)
                    except RemoteError as exc:
                        raise backend_failed(exc, "it may or may not have been applied: read "
                                             "the graphs it changes before sending it again"
                                             ) from None
                    if touched := changed_graphs(change.graphs()):  # graph/dataset follows
                        refresh_after_commit(self.store, changed=touched, change=change)
                    self.on_commit()
            return result
        finally:
            self._serial.release()
