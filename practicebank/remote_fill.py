"""Filling an empty graph on a SPARQL server in place, under a journal kept on the server.

Why: a change staged in a temporary graph and copied into its target (see
:mod:`.remote_store`) pays for the copy, one large transaction that engines run far slower
than their own Graph Store POST (``oxigraph serve``: about 14,000 triples/s in the copy
against 52,000/s for a POST; the copy was 60% of a 300,000-triple load). A graph that holds
nothing has nothing to keep, so a load into it goes the way the embedded store's does
(:class:`~.staging.InPlaceFill`): straight into the graph, under a journal that says which
graph is being filled by which load, so that it ends up either committed with its
provenance or empty again, whatever happens to the writer.

The journal is a staging graph ``urn:practicebank:staging:<id>/fill`` (named like every
staging graph, with its writer, so :meth:`~.remote_store.RemoteStore.recover` knows when it
is left over) holding two statements: it *fills* the target graph, for the *load* activity.

1. **begin**: the target must hold nothing; the journal is written.
2. **fill**: the data goes up in Graph Store POSTs of :data:`FILL_CHUNK` triples (``INSERT
   DATA`` batches without a Graph Store URL). :class:`RemoteFill` does this in a thread
   from the moment the data is settled, so the upload runs while the load validates.
3. **commit**: one operation deletes the journal's statements and inserts the load's
   provenance. Every engine runs one operation atomically (Virtuoso does not run a request
   of several atomically, but does an operation), so this is the commit point.
4. **abandon** (validation failed, the upload failed or was stopped): the target is
   dropped, then the journal.

A writer killed between 1 and 3 leaves the journal: :func:`undo` (run by ``recover``) drops
the graph it names, unless the provenance graph records that load, and then the journal.

While a fill runs, readers of the server see the graph grow; what they see is kept only if
the whole load validates and commits. Chunks keep each POST well below the size at which
Virtuoso 7.2's Graph Store was seen to hang (about a million triples, see
docs/backends.md), and let an abandoned fill stop between chunks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .namespaces import PB, graph_node
from .staging import NEW, ScratchStage, Stage, count_lines
from .store_reads import PROVENANCE_GRAPH, STAGING_PREFIX

if TYPE_CHECKING:
    from .remote_store import RemoteStore

#: Bytes per POST of a fill, about 100,000 triples of typical data: POSTs of that size never
#: hung Virtuoso (docs/backends.md), and chunks cost ``oxigraph serve`` nothing measurable
#: against one POST of the whole file.
FILL_CHUNK = 12 << 20
FILLS = ox.NamedNode("urn:practicebank:staging:fills")
FOR_LOAD = ox.NamedNode("urn:practicebank:staging:load")


class FillStopped(Exception):
    """The fill was abandoned while its upload was still running."""


def journal_graph(staging_id: str) -> ox.NamedNode:
    return ox.NamedNode(f"{STAGING_PREFIX}{staging_id}/fill")


def journal_triples(journal: ox.NamedNode, target: ox.NamedNode, load: str) -> str:
    return f"{journal} {FILLS} {target} . {journal} {FOR_LOAD} <{load}> ."


def chunks(ntriples: bytes, size: int = FILL_CHUNK) -> Iterator[bytes]:
    """Pieces of about ``size`` bytes, each of whole lines (N-Triples has one triple a line)."""
    start, length = 0, len(ntriples)
    while start < length:
        end = ntriples.find(b"\n", min(start + size, length) - 1) + 1 or length
        yield ntriples[start:end]
        start = end


def undo(store: RemoteStore, journals: list[ox.NamedNode]) -> list[str]:
    """Drop the graphs that the fills journaled in ``journals`` (staging graphs about to be
    dropped) were filling, unless their load was committed. Returns those graphs' IRIs."""
    if not journals:
        return []
    values = " ".join(str(g) for g in journals)
    rows = store.query(
        f"SELECT ?target ?load WHERE {{ VALUES ?j {{ {values} }} GRAPH ?j {{ ?j {FILLS} "
        f"?target ; {FOR_LOAD} ?load }} FILTER NOT EXISTS {{ GRAPH "
        f"{graph_node(PROVENANCE_GRAPH)} {{ ?load a <{PB}Load> }} }} }}")
    targets = sorted({row["target"].value for row in rows})
    if targets:
        store.client.update(" ;\n".join(f"DROP SILENT GRAPH <{t}>" for t in targets),
                            timeout=store.write_timeout)
    return targets


class RemoteFill(ScratchStage):
    """Stage a load into an empty graph of a SPARQL server in a scratch store (where it is
    settled and validated), and upload it straight into the target under the server-side
    journal, in a thread that starts as soon as the data is settled."""

    def __init__(self, store: RemoteStore, name: str, activity: str) -> None:
        super().__init__(store, name)
        self.owner: RemoteStore | None = store
        self.activity = activity
        self.journal: ox.NamedNode | None = None
        self.stop = threading.Event()
        self.upload: threading.Thread | None = None
        self.failure: BaseException | None = None
        self.committed = False

    def settle(self, *, file: str, drop_personal: bool, blank_nodes: bool) -> None:
        Stage.settle(self, file=file, drop_personal=drop_personal, blank_nodes=blank_nodes)
        self.added_nt = self.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=NEW)
        self.size = self.added = count_lines(self.added_nt)
        self.journal = self.owner.begin_fill(self.name, load=self.activity)
        self.upload = threading.Thread(target=self._send, name=f"fill graph/{self.name}",
                                       daemon=True)
        self.upload.start()

    def _send(self) -> None:
        try:
            for chunk in chunks(self.added_nt, FILL_CHUNK):
                if self.stop.is_set():
                    raise FillStopped(f"the fill of graph/{self.name} was abandoned")
                self.owner.fill(self.name, chunk)
        except BaseException as error:  # handed to the load's thread by commit()
            self.failure = error

    def focus(self, outside):
        return None  # everything is new: validate every node

    def commit(self, provenance: str) -> None:
        self.upload.join()
        if self.failure is not None:
            raise self.failure
        self.owner.commit_fill(self.name, self.journal, provenance=provenance,
                               load=self.activity)
        self.committed = True

    def abandon(self) -> None:
        if self.committed or self.journal is None:
            return
        self.stop.set()
        if self.upload is not None:
            self.upload.join()
        self.owner.abandon_fill(self.name, self.journal)
        self.journal = None
