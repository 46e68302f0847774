"""The store interface: what loads, writes, queries and the endpoint need from a store.

Two implementations keep this contract: :class:`~practicebank.store.PracticeStore`, the
embedded on-disk Oxigraph store (the default), and
:class:`~practicebank.remote_store.RemoteStore`, a SPARQL 1.1 server reached by the Query,
Update and Graph Store protocols (Virtuoso, Oxigraph, Fuseki, GraphDB, Stardog, Neptune).
Everything above the core (the load pipeline, the endpoint's writes, ``stats``, ``export``)
talks to a store only through these methods, so it runs unchanged on either.

Graphs are named two ways: a *short name* ``"sample"`` means the data graph
``https://w3id.org/practicebank/graph/sample`` (loads and provenance use those), and an
``ox.NamedNode`` is any graph IRI (the endpoint's writes may touch any graph).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any, Protocol, runtime_checkable

import pyoxigraph as ox

from .journal import ChangeSet
from .staging import Stage


@runtime_checkable
class Store(Protocol):
    """A quad store practicebank can load into, write to and query."""

    #: ``"embedded"`` or ``"sparql"``, for messages. (Only the endpoint's runtime tells the
    #: two apart, by type, to choose where queries run.)
    kind: str

    # -- reading ---------------------------------------------------------------------------

    def query(self, sparql: str, *, base_iri: str | None = None,
              default_graph: list[ox.NamedNode] | None = None,
              named_graphs: list[ox.NamedNode] | None = None,
              timeout: float | None = None) -> Any:
        """Run a query; the default graph is the merge of the named graphs unless
        ``default_graph`` lists graphs or the query names its own (``FROM``). Returns
        pyoxigraph's result objects (solutions, a boolean, or triples), each with
        ``serialize``. ``timeout`` (seconds) stops the wait where the store can be stopped
        (a remote one)."""

    def count(self, where: str) -> int:
        """``SELECT (COUNT(*) AS ?n) WHERE { where }`` with our prefixes."""

    def has_graph(self, name: str) -> bool:
        """Whether data graph ``graph/{name}`` holds any triple."""

    def graph_size(self, name: str) -> int:
        """Triples in data graph ``graph/{name}``."""

    def graph_names(self) -> list[str]:
        """Short names of the data graphs that hold triples, sorted."""

    def named_graphs(self) -> list[ox.NamedNode]:
        """Every named graph that holds a triple (any IRI, not only ``graph/…``)."""

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        """Whether ``graph`` exists (holds a triple or was created empty)."""

    def quads_of(self, graph: ox.NamedNode | ox.DefaultGraph) -> Iterable[ox.Quad]:
        """Every quad of one graph (what a write's validation starts from)."""

    def view(self) -> Any:
        """A read view with pyoxigraph ``Store``'s ``quads_for_pattern``, ``in``,
        ``contains_named_graph``, ``named_graphs`` and ``dump`` (what the endpoint's write
        planning and validation read): the store itself when embedded, a
        :class:`~practicebank.store_view.QueryView` when remote."""

    def types_of(self, iris: Iterable[str], *, excluding: str | None = None
                 ) -> list[tuple[str, str]]:
        """(iri, class) for each rdf:type held for ``iris`` outside data graph
        ``excluding``: the context validation needs about what a graph points at."""

    def last_load(self, name: str) -> dict[str, str] | None:
        """The latest committed load of ``graph/{name}`` (activity, end, sha, shapes)."""

    def stats(self) -> dict[str, int]:
        """Headline counts: practices, organisations, forces, schemes, concepts, graphs,
        triples."""

    def dump(self, output: IO[bytes] | str | None = None, *, format: ox.RdfFormat,
             graph: str | None = None) -> bytes | None:
        """One data graph (short name), or with ``graph=None`` every named graph, in
        ``format`` (a quad format for all graphs)."""

    # -- writing: each call is one transaction ---------------------------------------------

    def apply_change(self, name: str, *, added: bytes = b"", removed: bytes = b"",
                     provenance: str | bytes = "") -> None:
        """Remove and add N-Triples in ``graph/{name}`` and add ``provenance`` to
        ``graph/provenance``, all or nothing."""

    def commit_changes(self, change: ChangeSet) -> None:
        """Apply a validated endpoint write (graphs dropped and created, quads removed and
        added), all or nothing."""

    def stage(self, name: str, *, activity: str, in_place: bool = True) -> Stage:
        """Where a load of ``graph/{name}`` waits while it is validated
        (:mod:`practicebank.staging`); ``in_place`` allows the store's fastest way."""

    def recover(self) -> str | None:
        """Undo or finish whatever a killed process left half done; run at open."""

    def flush(self) -> None:
        ...

    def close(self) -> None:
        ...


__all__ = ["Store"]
