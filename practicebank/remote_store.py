"""The store on a SPARQL 1.1 server: the :class:`~practicebank.backend.Store` contract kept
over the Query, Update and Graph Store protocols (:mod:`.sparql_client`).

What the embedded store gets from Oxigraph for free has to be rebuilt on a remote, and each
engine needs something different. Measured on Oxigraph 0.5 (``oxigraph serve``) and
Virtuoso 7.2.3 (Debian ``virtuoso-opensource``); the traits are in :data:`ENGINES`:

**The default graph.** Our data lives in named graphs and queries see their union as the
default graph. Oxigraph takes a ``union-default-graph`` query parameter (sent on every query
without ``default_graph`` or a ``FROM`` of its own, which the parameter would override;
``oxigraph serve --union-default-graph`` does the same for every client, and so ignores
every query's ``FROM``: run it without). Virtuoso's default graph is already the union of
all graphs (it has no default graph of its own, so ``quads_of(DefaultGraph())`` is empty
there). ``default_graph`` and ``named_graphs`` become the protocol's ``default-graph-uri``
and ``named-graph-uri``.

**One change, all or nothing.** Oxigraph runs a whole update request as one transaction.
Virtuoso does not: in a request of several operations, those before a failing one stay done
(``INSERT DATA {…} ; CREATE GRAPH <existing>`` keeps the insert). Virtuoso does commit or
roll back each *operation* as a whole, so every change here ends in a single
``DELETE {…} INSERT {…} WHERE {…}`` operation: the triples to add and to remove are first
uploaded into temporary graphs ``urn:practicebank:staging:<uuid>/<n>`` (Graph Store POST,
streamed; or ``INSERT DATA`` in batches without a Graph Store URL), and one operation then
deletes what the removal graphs hold from the target graphs and inserts what the addition
graphs hold, each branch of its ``WHERE`` a ``UNION`` member binding its own variables.
The staging graphs are dropped afterwards. A failure or a kill before that operation leaves
every data graph untouched; leftover staging graphs are dropped by :meth:`RemoteStore.recover`.
On Oxigraph small changes go as one request like the embedded store's, larger ones staged.
A load into a graph that holds nothing skips the copy: it is uploaded straight into the
graph under a journal kept on the server, and its provenance is the commit point
(:mod:`.remote_fill`).
Virtuoso also aborts a transaction whose log grows past ``TransactionAfterImageLimit``
(50 MB by default): a change of 600,000 triples went in (22 s), one of 1.2 million was
refused whole (``SR325``, the graph left as it was); raise that setting for larger ones.

**Blank nodes.** ``DELETE DATA`` may not hold blank nodes (both engines refuse it, as the
standard says), and an existing blank node cannot be named in an update. A removed triple
with blank nodes is deleted by pattern: each set of removed triples joined by blank nodes
becomes one pattern with the blank nodes as variables (``FILTER isBlank``), which removes
every structure of that shape in the graph. Loads skolemise blank nodes, so data graphs
rarely hold any. Virtuoso 7.2 refuses blank nodes even in ``INSERT DATA``; they go as
``INSERT {…} WHERE {}`` there. Its answers name blank nodes ``nodeID://b123``, which
pyoxigraph does not take as a label; they are read as ``_:b123`` (as its N-Triples write them).

**Virtuoso's size limits.** Its ``/sparql`` already prefixes every request with ``define
sql:big-data-const 0``; what limits ``INSERT DATA`` is its SQL compiler, which refuses one
of more than ~1,500 typed triples ("generated SQL text has exceeded 10000 lines"; one block
of ~5,000 fails in the parser, "memory exhausted"). So staging goes by the Graph Store
(any size) or by ``INSERT DATA`` batches of 500. The Graph Store loader in turn refuses a
literal over ~65,000 bytes (HTTP 500, "unsupported type text/plain"), so such lines go by
``INSERT DATA``, which takes literals of megabytes. An INSERT-only operation with several
constant-graph templates fails (``string_output_string``) *after* inserting, so the
change's operation uses one ``GRAPH ?g`` template per side.

**Row limits.** Virtuoso cuts every answer at ``ResultSetMaxRows`` (10000 in the packaged
``virtuoso.ini``): SELECT (with an ``X-SPARQL-MaxRows`` header), CONSTRUCT and even a Graph
Store GET (silently). A query answer that reaches the limit raises :class:`ResultsTruncated`
rather than being returned short. Reading a whole graph (``quads_of``, ``dump``) compares
what came with ``COUNT(*)`` and otherwise pages with ``LIMIT``/``OFFSET``, unordered:
``ORDER BY`` is refused past ``MaxSortedTopRows`` (10000) rows, while Virtuoso's unordered
scan order is stable; the pages are checked to add up to the count.

**Literals.** Language tags come back lower-cased (``en-gb``) from both engines. Virtuoso
stores typed literals by value: ``"007"^^xsd:integer`` comes back as ``"7"``, ``"1.50"``
as ``"1.5"``, a dateTime's ``.5`` seconds as ``.500``; it refuses ill-typed literals and
integers beyond 64 bits, compares values of different types in a FILTER where SPARQL has a
type error, and keeps long strings as BLOBs that string functions (``STRLEN``) refuse.
Canonical dateTimes (``Z`` or an offset, whole or millisecond seconds), numbers, booleans,
other datatypes and strings of any length and any Unicode round-trip. Oxigraph keeps the
lexical form.

**System graphs.** Virtuoso keeps graphs of its own (``virtrdf#``, ``ldp#``, ``owl#``, its
service description and DAV graphs under ``http://localhost:8890/``, the ``DefaultHost`` of
the packaged configuration). ``named_graphs()``, ``stats()`` and ``dump()`` leave out graphs
under those prefixes (pass ``system_graphs`` when the DefaultHost differs) and staging
graphs; ``graph_names()`` lists only ``graph/…`` data graphs.

**Timeouts.** Each call has a deadline (``timeout``; updates ``write_timeout``) enforced by
the client; Virtuoso is also given its ``timeout`` parameter (ms) on queries and its
"anytime" partial answer becomes :class:`RemoteTimeout`. A client that stops waiting for an
update cannot stop it: the outcome is then unknown, and staging graphs are left for
:meth:`RemoteStore.recover` rather than dropped under a possibly running update.

**Leftovers.** A remote has no lock to say who is writing, so a staging graph is named with
its writer (machine, pid and the process's start time, :func:`staging_name`). ``practicebank
load`` and the first write of a store (:meth:`RemoteStore.tidy`) drop the staging graphs of
writers of this machine that have ended, at once (what the embedded store's journal gives
at open), and any older than :data:`STALE_STAGING`; those of a process still running, or of
another machine, are left to their writer. ``recover()`` with no age drops every one, a
concurrent writer's included.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from time import time
from typing import IO, Any

import pyoxigraph as ox

from . import remote_fill
from .journal import ChangeSet
from .namespaces import GRAPH, graph_node, sparql_prefixes
from .remote_fill import RemoteFill, journal_graph, journal_triples
from .sparql_client import (
    GRAPH_ACCEPT,
    RESULTS_ACCEPT,
    RemoteError,
    RemoteTimeout,
    ResultsTruncated,
    SparqlClient,
)
from .sparql_text import has_dataset_clause
from .staging import ON_DISK_STAGING, ScratchStage, Stage
from .store_reads import PROVENANCE_GRAPH, STAGING_PREFIX, SparqlReads
from .store_view import QueryView

log = logging.getLogger(__name__)

Graph = ox.NamedNode | ox.DefaultGraph
#: Staging graphs older than this (seconds) are a killed writer's: the first write of a
#: store drops them (a younger one may belong to a change still running elsewhere).
STALE_STAGING = 3600.0


@dataclass(frozen=True)
class Engine:
    """What a SPARQL server does differently, as far as this store cares."""

    name: str
    #: Runs an update request of several operations as one transaction.
    atomic_requests: bool
    #: Query parameter that makes the default graph the union of the named graphs.
    union_param: str | None = None
    #: Query parameter the server reads as its own query timeout, and the factor from seconds.
    server_timeout: tuple[str, float] | None = None
    #: IRI prefixes of graphs the engine keeps for itself.
    system_graphs: tuple[str, ...] = ()
    #: Rows an answer may hold (assumed until the server says otherwise).
    row_cap: int | None = None
    #: ``INSERT DATA`` may hold blank nodes.
    data_blank_nodes: bool = True
    #: Triples per ``INSERT DATA`` when staging without a Graph Store URL (0: no limit).
    insert_batch: int = 0
    #: ``ASK { GRAPH <g> {} }`` tells an empty named graph from a missing one.
    empty_graphs: bool = False
    #: Has a default graph of its own, besides the union.
    own_default_graph: bool = True
    #: Longest N-Triples line its Graph Store takes (None: any).
    store_max_line: int | None = None


OXIGRAPH = Engine("oxigraph", atomic_requests=True, union_param="union-default-graph",
                  empty_graphs=True)
VIRTUOSO = Engine(
    "virtuoso", atomic_requests=False, server_timeout=("timeout", 1000),
    system_graphs=("http://www.openlinksw.com/", "http://www.w3.org/ns/ldp#",
                   "http://www.w3.org/2002/07/owl#", "http://localhost:8890/"),
    row_cap=10_000, data_blank_nodes=False,
    # its SPARQL compiler refuses an INSERT DATA whose SQL passes 10000 lines (~1500 triples)
    insert_batch=500, own_default_graph=False,
    # its Graph Store loader refuses a literal over ~65,000 bytes (HTTP 500, "unsupported
    # type text/plain"); INSERT DATA takes them
    store_max_line=60_000)
#: Any other server: the standard's behaviour (an update request SHOULD be atomic).
GENERIC = Engine("sparql", atomic_requests=True)
ENGINES = {e.name: e for e in (OXIGRAPH, VIRTUOSO, GENERIC)}


def query_triples(triples: Iterable[ox.Triple]) -> ox.QueryTriples:
    """Triples as pyoxigraph's own ``QueryTriples``, the type every reader of a graph
    answer tells a graph from solutions by (the endpoint's job checks ``isinstance``, and a
    look-alike class was written as SPARQL results: a 500). pyoxigraph's result classes
    cannot be made or subclassed from Python, so the triples go into a scratch store and a
    CONSTRUCT gives them back."""
    scratch = ox.Store()
    scratch.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                   for t in triples)
    return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")


class RemoteStore(SparqlReads):
    """A practicebank store on a SPARQL 1.1 server (see the module docstring for what each
    engine needs). ``update_url`` defaults to ``query_url``; without ``store_url`` graphs
    are read with CONSTRUCT and staged with ``INSERT DATA``. ``engine`` ("oxigraph",
    "virtuoso", "sparql") is found from the ``Server`` header when not given.
    ``inline_limit`` (bytes) is the largest change sent as one request where the engine
    runs requests atomically; larger ones are staged (on Oxigraph a staged change costs
    about three times an inline one: 200k triples in ~24 s against ~8 s on 2 cores, the
    upload, the copy and the drop each a transaction). ``timeout`` (seconds) bounds each
    query and read, ``write_timeout`` each update and upload: once a server runs an update
    it cannot be stopped from here, so the client waits longer before giving up on it.
    Credentials are only sent when the server asks (see :mod:`.sparql_client`).
    """

    kind = "sparql"

    def __init__(self, query_url: str, update_url: str | None = None,
                 store_url: str | None = None, *, user: str | None = None,
                 password: str | None = None, timeout: float = 60.0,
                 write_timeout: float = 600.0, engine: str | None = None,
                 system_graphs: Iterable[str] | None = None,
                 inline_limit: int = 4 << 20) -> None:
        self.client = SparqlClient(query_url, update_url, store_url, user=user,
                                   password=password, timeout=timeout)
        self.timeout, self.write_timeout = timeout, write_timeout
        self.inline_limit = inline_limit
        self._system = tuple(system_graphs) if system_graphs is not None else None
        self._engine: Engine | None = None
        self._row_cap: int | None = None
        if engine is not None:
            self._use(ENGINES[engine])
        self.recovered: str | None = None
        self.replayed = False
        self.dropped_staging = 0
        self._tidied = False

    def __repr__(self) -> str:
        engine = self._engine.name if self._engine else "unknown"
        return f"RemoteStore({self.client.query_url!r}, engine={engine!r})"

    # -- the engine ------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The server's traits, found from its ``Server`` header on first use."""
        if self._engine is None:
            self.client.query("ASK {}", accept=RESULTS_ACCEPT)
            server = self.client.server.lower()
            found = (VIRTUOSO if "virtuoso" in server else
                     OXIGRAPH if "oxigraph" in server else GENERIC)
            self._use(found)
        assert self._engine is not None
        return self._engine

    def _use(self, engine: Engine) -> None:
        self._engine = engine
        self.client.server_timeout = engine.server_timeout
        self._row_cap = engine.row_cap

    @property
    def system_graphs(self) -> tuple[str, ...]:
        return self._system if self._system is not None else self.engine.system_graphs

    def _ours(self, variable: str) -> str:
        """A FILTER keeping graph ``variable`` to graphs that are not the engine's or staging."""
        tests = [f'!STRSTARTS(STR({variable}), "{prefix}")'
                 for prefix in (*self.system_graphs, STAGING_PREFIX)]
        return f"FILTER ({' && '.join(tests)})"

    def is_ours(self, iri: str) -> bool:
        """Whether graph ``iri`` is one of ours: not the engine's own, not staging."""
        return not iri.startswith((*self.system_graphs, STAGING_PREFIX))


    # -- reading ---------------------------------------------------------------------------

    def query(self, sparql: str, *, base_iri: str | None = None,
              default_graph: list[ox.NamedNode] | None = None,
              named_graphs: list[ox.NamedNode] | None = None,
              timeout: float | None = None) -> Any:
        """Run a query on the server; the default graph is the union of the named graphs
        unless ``default_graph`` lists graphs. Returns pyoxigraph's QuerySolutions or
        QueryBoolean or QueryTriples, chosen by the answer's Content-Type.
        Raises :class:`RemoteTimeout` after ``timeout`` seconds (default: the store's)."""
        engine = self.engine
        form = query_form(sparql)
        text = f"BASE <{base_iri}>\n{sparql}" if base_iri else sparql
        params = {}
        if (default_graph is None and named_graphs is None and engine.union_param
                and not has_dataset_clause(sparql)):
            # Oxigraph refuses it with a protocol dataset, and lets it override a FROM
            params[engine.union_param] = "true"
        accept = (GRAPH_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else
                  RESULTS_ACCEPT if form in ("SELECT", "ASK") else
                  f"{RESULTS_ACCEPT}, application/n-triples;q=0.8")
        arguments: dict[str, Any] = {
            "default_graphs": [g.value for g in default_graph or []],
            "named_graphs": [g.value for g in named_graphs or []],
            "params": params, "timeout": timeout}
        try:
            response = self.client.query(text, accept=accept, **arguments)
        except RemoteError as error:
            if error.status != 406 or form is not None:
                raise
            response = self.client.query(text, accept=GRAPH_ACCEPT, **arguments)
        return self._result(response)

    def _result(self, response: Any) -> Any:
        media = response.content_type
        results = ox.QueryResultsFormat.from_media_type(media) if media else None
        if results is not None:
            if response.max_rows is not None:
                self._row_cap = min(self._row_cap or response.max_rows, response.max_rows)
                raise ResultsTruncated(
                    f"the answer reached the server's limit of {response.max_rows} rows and "
                    "may be cut (Virtuoso's ResultSetMaxRows): add LIMIT/OFFSET below it, or "
                    "raise the setting", max_rows=response.max_rows, url=response.url)
            return ox.parse_query_results(_read_blank_nodes(response.body), format=results)
        graph = ox.RdfFormat.from_media_type(media) if media else None
        if graph is None:
            raise RemoteError(f"unexpected answer of type {media or 'unknown'}",
                              status=response.status, url=response.url)
        triples = [q.triple for q in ox.parse(response.body, format=graph)]
        if self._row_cap is not None and len(triples) >= self._row_cap:
            raise ResultsTruncated(
                f"the answer reached the server's limit of {self._row_cap} rows and may be "
                "cut: add LIMIT/OFFSET below it", max_rows=self._row_cap, url=response.url)
        return query_triples(triples)

    # the same SPARQL as the embedded store, run through self.query

    def read(self, sparql: str) -> Any:
        """The shared reads (:mod:`.store_reads`), as any other query."""
        return self.query(sparql)

    def has_graph(self, name: str) -> bool:
        return bool(self.query(f"ASK {{ GRAPH {graph_node(name)} {{ ?s ?p ?o }} }}"))

    def graph_size(self, name: str) -> int:
        return self._size(graph_node(name))

    def _size(self, graph: Graph) -> int:
        if isinstance(graph, ox.DefaultGraph):
            return len(self._default_graph_triples())
        rows = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)

    def named_graphs(self) -> list[ox.NamedNode]:
        """Every named graph holding a triple, but the engine's own and staging graphs."""
        if self.engine.empty_graphs:  # list the graphs, then look for one triple in each
            sparql = ("SELECT ?g WHERE { GRAPH ?g { } "
                      "FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }")
        else:
            sparql = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
        return [row["g"] for row in self.query(sparql)
                if isinstance(row["g"], ox.NamedNode) and self.is_ours(row["g"].value)]

    def contains_named_graph(self, graph: ox.NamedNode) -> bool:
        """Whether ``graph`` holds a triple or, where the engine keeps empty graphs
        (Oxigraph), was created empty. Virtuoso records ``CREATE GRAPH`` but shows no query
        the difference, so there an empty graph does not exist."""
        if self.engine.empty_graphs:
            return bool(self.query(f"ASK {{ GRAPH {graph} {{ }} }}"))
        return bool(self.query(f"ASK {{ GRAPH {graph} {{ ?s ?p ?o }} }}"))

    def quads_of(self, graph: ox.NamedNode | ox.DefaultGraph) -> list[ox.Quad]:
        return [ox.Quad(t.subject, t.predicate, t.object, graph)
                for t in self._triples_of(graph)]

    def view(self) -> QueryView:
        """A read view with pyoxigraph ``Store``'s reading methods, answered by queries."""
        return QueryView(self, timeout=self.timeout)

    def graph_names(self) -> list[str]:
        """Short names of the ``graph/…`` data graphs that hold data."""
        prefix = str(GRAPH)
        return sorted(g.value[len(prefix):] for g in self.named_graphs()
                      if g.value.startswith(prefix))

    def stats(self) -> dict[str, int]:
        """Headline counts, over our graphs only (not the engine's own)."""
        ours = self._ours("?g")

        def distinct(pattern: str) -> int:
            rows = self.query(f"{sparql_prefixes()}SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE "
                              f"{{ GRAPH ?g {{ {pattern} }} {ours} }}")
            return int(next(iter(rows))["n"].value)

        triples = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                             f"{ours} }}")
        return {
            "practices": distinct("?x a pb:Practice"),
            "organisations": distinct("?x a pb:Organisation"),
            "forces": distinct("?x a pb:PoliceForce"),
            "concept_schemes": distinct("?x a skos:ConceptScheme"),
            "concepts": distinct("?x a skos:Concept"),
            "graphs": len(self.graph_names()),
            "triples": int(next(iter(triples))["n"].value),
        }

    def dump(self, output: IO[bytes] | str | None = None, *, format: ox.RdfFormat,
             graph: str | None = None) -> bytes | None:
        """One data graph, or every named graph of ours (a dataset format then), read with
        Graph Store GETs (CONSTRUCT without a Graph Store URL), paged where the server cuts
        answers. Not a snapshot: a write between two graphs' reads shows in the later one.
        One graph's triples are held in memory at a time."""
        if graph is not None:
            return ox.serialize(self._triples_of(graph_node(graph)), output, format)
        if not format.supports_datasets:
            raise ValueError(f"{format.name} cannot hold several graphs; dump one graph or "
                             "use N-Quads or TriG")
        quads = (ox.Quad(t.subject, t.predicate, t.object, g)
                 for g in self.named_graphs() for t in self._triples_of(g))
        return ox.serialize(quads, output, format)

    def _triples_of(self, graph: Graph) -> list[ox.Triple]:
        """Every triple of one graph: in one answer when the server gives it whole (checked
        against COUNT), else in pages under its row limit."""
        if isinstance(graph, ox.DefaultGraph):
            return self._default_graph_triples()
        expected = self._size(graph)
        if expected == 0:
            return []
        if self._row_cap is None or expected < self._row_cap:
            triples = self._fetch(graph)
            if len(triples) >= expected:
                return triples
            if triples:  # the server cut the answer: now we know where
                self._row_cap = len(triples)
        return self._paged(graph, expected)

    def _fetch(self, graph: ox.NamedNode) -> list[ox.Triple]:
        if self.client.store_url:
            response = self.client.graph_get(graph.value)
            if response is None:
                return []
            media = ox.RdfFormat.from_media_type(response.content_type)
            return [q.triple for q in ox.parse(response.body,
                                               format=media or ox.RdfFormat.N_TRIPLES)]
        response = self.client.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}",
            accept=GRAPH_ACCEPT)
        media = ox.RdfFormat.from_media_type(response.content_type)
        return [q.triple for q in ox.parse(response.body, format=media or ox.RdfFormat.N_TRIPLES)]

    def _paged(self, graph: ox.NamedNode, expected: int) -> list[ox.Triple]:
        """LIMIT/OFFSET pages without ORDER BY (see the module docstring), a page one row
        under the server's limit; the distinct triples must add up to ``expected``."""
        page = max(1, (self._row_cap or 10_000) - 1)
        found: dict[ox.Triple, None] = {}
        offset = 0
        while len(found) < expected:
            response = self.client.query(
                f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }} "
                f"LIMIT {page} OFFSET {offset}", accept=GRAPH_ACCEPT)
            media = ox.RdfFormat.from_media_type(response.content_type)
            rows = [q.triple for q in ox.parse(response.body,
                                               format=media or ox.RdfFormat.N_TRIPLES)]
            if not rows:
                break
            found.update(dict.fromkeys(rows))
            offset += len(rows)
            if len(rows) < page:  # the end, or a limit lower than we thought
                page = len(rows)
        if len(found) != expected:
            raise RemoteError(f"read {len(found)} distinct triples of {graph} in pages where "
                              f"COUNT says {expected}: the graph changed while it was read, "
                              "or the server's paging is not stable")
        return list(found)

    def _default_graph_triples(self) -> list[ox.Triple]:
        if not self.engine.own_default_graph:
            return []
        if self.client.store_url:
            response = self.client.graph_get(None)
            if response is None:
                return []
            media = ox.RdfFormat.from_media_type(response.content_type)
            return [q.triple for q in ox.parse(response.body,
                                               format=media or ox.RdfFormat.N_TRIPLES)]
        # without the Graph Store, only right when the server does not make the default graph
        # the union by itself (``oxigraph serve --union-default-graph``)
        response = self.client.query("CONSTRUCT WHERE { ?s ?p ?o }", accept=GRAPH_ACCEPT)
        media = ox.RdfFormat.from_media_type(response.content_type)
        return [q.triple for q in ox.parse(response.body, format=media or ox.RdfFormat.N_TRIPLES)]

    # -- writing ---------------------------------------------------------------------------

    def apply_change(self, name: str, *, added: bytes = b"", removed: bytes = b"",
                     provenance: str | bytes = "") -> None:
        """Remove and add N-Triples in ``graph/{name}`` and add ``provenance`` to
        ``graph/provenance``, as one change on the server (see the module docstring)."""
        target, record = graph_node(name), graph_node(PROVENANCE_GRAPH)
        change = _Change()
        if removed:
            change.remove(target, _triples(removed))
        if added:
            change.added[target] = added
        if provenance:
            data = provenance.encode("utf-8") if isinstance(provenance, str) else provenance
            change.added[record] = data
        self._commit(change)

    def commit_changes(self, change: ChangeSet) -> None:
        """Apply a validated endpoint write (graphs dropped and created, quads removed and
        added) as one change on the server."""
        if not change:
            return
        plan = _Change(dropped=sorted(change.dropped, key=str),
                       created=sorted(change.created, key=str))
        removed: dict[Graph, list[ox.Triple]] = {}
        for quad in change.removed:
            if quad.graph_name not in change.dropped:
                removed.setdefault(quad.graph_name, []).append(quad.triple)
        for graph, triples in removed.items():
            plan.remove(graph, triples)
        added: dict[Graph, list[ox.Triple]] = {}
        for quad in change.added:
            added.setdefault(quad.graph_name, []).append(quad.triple)
        plan.added.update(added)
        self._commit(plan)

    def stage(self, name: str, *, activity: str, in_place: bool = True) -> Stage:
        """A load waits in a scratch store here, where it is settled and validated. Into a
        graph that holds nothing (``in_place``, not a dry run) it is uploaded straight into
        the graph under a journal on the server (:mod:`.remote_fill`); otherwise only its
        difference with the graph is sent, by :meth:`apply_change` (the scratch store on
        disk in the temporary folder when the graph it replaces is large)."""
        size = self.graph_size(name)
        if in_place and size == 0:
            return RemoteFill(self, name, activity)
        beside = Path(tempfile.gettempdir()) if size >= ON_DISK_STAGING else None
        return ScratchStage(self, name, on_disk_beside=beside)

    def begin_fill(self, name: str, *, load: str) -> ox.NamedNode:
        """Journal that the empty graph ``graph/{name}`` is being filled by ``load``
        (:mod:`.remote_fill`); returns the journal graph for :meth:`commit_fill` or
        :meth:`abandon_fill`."""
        self.tidy()
        target = graph_node(name)
        if self.has_graph(name):
            raise ValueError(f"graph/{name} is not empty; only an empty graph is filled")
        journal = journal_graph(staging_name())
        self.client.update(f"INSERT DATA {{ GRAPH {journal} {{ "
                           f"{journal_triples(journal, target, load)} }} }}",
                           timeout=self.write_timeout)
        return journal

    def fill(self, name: str, ntriples: bytes) -> None:
        """Add a piece of a journaled fill to ``graph/{name}``."""
        self._upload(graph_node(name), ntriples, check=False)

    def commit_fill(self, name: str, journal: ox.NamedNode, *, provenance: str | bytes,
                    load: str) -> None:
        """Make a fill permanent: one operation takes the journal's statements out and puts
        the provenance in (the commit point); the emptied journal graph is dropped after."""
        record = provenance.decode("utf-8") if isinstance(provenance, bytes) else provenance
        entry = journal_triples(journal, graph_node(name), load)
        self.client.update(f"DELETE {{ GRAPH {journal} {{ {entry} }} }} INSERT {{ GRAPH "
                           f"{graph_node(PROVENANCE_GRAPH)} {{ {record} }} }} WHERE {{ }}",
                           timeout=self.write_timeout)
        self._drop_quietly([journal])

    def abandon_fill(self, name: str, journal: ox.NamedNode) -> None:
        """Undo a fill: the graph held nothing before, so it is dropped; then the journal."""
        self.client.update(f"DROP SILENT GRAPH {graph_node(name)} ;\n"
                           f"DROP SILENT GRAPH {journal}", timeout=self.write_timeout)

    def tidy(self) -> int:
        """Once per store object, what the embedded store does at open: drop the staging
        graphs a killed writer left (a process of this machine that has ended, or any
        older than :data:`STALE_STAGING`), and empty again a graph a killed load was filling
        (named in ``recovered``). Run by ``practicebank load`` before it loads, by ``serve``
        and by the first write; returns how many staging graphs were dropped."""
        if not self._tidied:
            self.recovered = self.recover(older_than=STALE_STAGING)
            self._tidied = True
        return self.dropped_staging

    def _commit(self, change: _Change) -> None:
        if change.empty:
            return
        self.tidy()
        if self.engine.atomic_requests and change.size() <= self.inline_limit:
            self.client.update(self._inline_update(change), timeout=self.write_timeout)
        else:
            self._commit_staged(change)

    def _inline_update(self, change: _Change) -> str:
        """The change as one request of several operations (for engines that run a request
        as one transaction), in the embedded store's order: drop, remove, add, create."""
        ops = [f"DROP SILENT GRAPH {g}" for g in change.dropped]
        for graph, triples in change.removed.items():
            ops.append(f"DELETE DATA {{ {_in(graph, _nt(triples))} }}")
        for graph, components in change.patterns.items():
            for component in components:
                pattern, filters = _pattern(component, "b")
                ops.append(f"DELETE {{ {_in(graph, pattern)} }} WHERE "
                           f"{{ {_in(graph, pattern)} {filters} }}")
        for graph, data in change.added.items():
            text = data.decode("utf-8") if isinstance(data, bytes) else _nt(data)
            ops.append(f"INSERT DATA {{ {_in(graph, text)} }}")
        ops += [f"CREATE SILENT GRAPH {g}" for g in change.created]
        return " ;\n".join(ops)

    def _commit_staged(self, change: _Change) -> None:
        """Upload, then one operation that makes the change, then clean up."""
        staging_id = staging_name()
        staged: list[ox.NamedNode] = []

        def stage(data: bytes | list[ox.Triple]) -> ox.NamedNode:
            graph = ox.NamedNode(f"{STAGING_PREFIX}{staging_id}/{len(staged)}")
            staged.append(graph)
            self._upload(graph, data)
            return graph

        try:
            removals = {g: stage(t) for g, t in change.removed.items() if t}
            additions = {g: stage(d) for g, d in change.added.items() if d}
        except BaseException:
            self._drop_quietly(staged)
            raise
        atomic = self.engine.atomic_requests
        move = self._move_operation(removals, change.patterns, additions,
                                    [] if atomic else change.dropped)
        cleanup = [f"DROP SILENT GRAPH {g}" for g in staged]
        kept = set(change.added)
        registry = [f"CREATE SILENT GRAPH {g}" for g in change.created]
        if atomic:  # one request, in the embedded store's order
            ops = [f"DROP SILENT GRAPH {g}" for g in change.dropped]
            ops += [move] if move else []
            first, after = " ;\n".join(ops + registry + cleanup), ""
        else:  # the operation alone, then what may safely fail after it
            forget = [f"DROP SILENT GRAPH {g}" for g in change.dropped if g not in kept]
            first, after = move, " ;\n".join(forget + registry + cleanup)
        try:
            if first:
                self.client.update(first, timeout=self.write_timeout)
        except RemoteError as error:
            if isinstance(error, RemoteTimeout) or error.status is None:
                raise RemoteTimeout(
                    f"{error.message}; the change may or may not have been made (the server "
                    "may still be making it); staging graphs are left for recover()",
                    status=error.status, url=error.url, method=error.method) from None
            self._drop_quietly(staged)
            raise
        if after:
            try:
                self.client.update(after, timeout=self.write_timeout)
            except RemoteError as error:  # the change is made; only tidying failed
                log.warning("change made, but dropping its staging graphs failed (%s); "
                            "recover() will", error)

    def _move_operation(self, removals: dict[Graph, ox.NamedNode],
                        patterns: dict[Graph, list[list[ox.Triple]]],
                        additions: dict[Graph, ox.NamedNode],
                        dropped: Sequence[ox.NamedNode]) -> str:
        """One DELETE/INSERT operation doing the whole change. Each UNION branch reads one
        staging graph and binds the target graph to ``?dg`` (delete) or ``?ig`` (insert);
        a template triple left with an unbound variable is skipped, so each branch only
        feeds its own template. One ``GRAPH ?g`` template per side, not one per target:
        Virtuoso 7.2 fails an INSERT-only operation with several constant-graph templates
        (``string_output_string``). The default graph, having no IRI to bind, gets
        templates of its own (Virtuoso has none)."""
        deletes, inserts, branches = set(), set(), []
        for n, (graph, source) in enumerate([*removals.items(), *additions.items()]):
            side = "d" if n < len(removals) else "i"
            if isinstance(graph, ox.DefaultGraph):
                (deletes if side == "d" else inserts).add(f"?{side}s0 ?{side}p0 ?{side}o0")
                triple = f"?{side}s0 ?{side}p0 ?{side}o0"
                branches.append(f"{{ GRAPH {source} {{ {triple} }} }}")
                continue
            (deletes if side == "d" else inserts).add(f"GRAPH ?{side}g {{ ?{side}s ?{side}p "
                                                      f"?{side}o }}")
            branches.append(f"{{ GRAPH {source} {{ ?{side}s ?{side}p ?{side}o }} "
                            f"BIND ({graph} AS ?{side}g) }}")
        if dropped:
            deletes.add("GRAPH ?dg { ?ds ?dp ?do }")
            values = " ".join(str(g) for g in dropped)
            branches.append(f"{{ VALUES ?dg {{ {values} }} GRAPH ?dg {{ ?ds ?dp ?do }} }}")
        k = 0
        for graph, components in patterns.items():
            for component in components:
                pattern, filters = _pattern(component, f"c{k}_")
                k += 1
                deletes.add(_in(graph, pattern))
                branches.append(f"{{ {_in(graph, pattern)} {filters} }}")
        if not branches:
            return ""
        text = ""
        if deletes:
            text += "DELETE {\n  " + "\n  ".join(sorted(deletes)) + "\n}\n"
        if inserts:
            text += "INSERT {\n  " + "\n  ".join(sorted(inserts)) + "\n}\n"
        return text + "WHERE {\n  " + "\n  UNION ".join(branches) + "\n}"

    def _upload(self, graph: ox.NamedNode, data: bytes | list[ox.Triple], *,
                check: bool = True) -> None:
        """Fill a graph: a Graph Store POST (streamed, any size) when there is a Graph Store
        URL, else ``INSERT DATA`` in batches (blank-node-joined triples kept in one batch,
        so they stay one structure). ``check`` counts the graph after a POST, for servers
        that answer 2xx to an upload they did not store."""
        limit = self.engine.store_max_line
        if self.client.store_url:
            body = data if isinstance(data, bytes) else ox.serialize(
                data, format=ox.RdfFormat.N_TRIPLES)
            long_lines = b""
            if limit is not None and len(body) > limit:
                body, long_lines = _split_long_lines(body, limit)
            if body:
                self.client.graph_post(graph.value, body, timeout=self.write_timeout)
                if check and self._size(graph) == 0 and _has_triples(body):
                    raise RemoteError(f"the server accepted the upload into {graph} but "
                                      "stored nothing", url=self.client.store_url or "")
            if not long_lines:
                return
            data = long_lines
        triples = _triples(data) if isinstance(data, bytes) else data
        ground, components = _components(triples)
        batch = self.engine.insert_batch or len(triples) or 1
        ops: list[str] = []
        for start in range(0, len(ground), batch):
            ops.append(f"INSERT DATA {{ {_in(graph, _nt(ground[start:start + batch]))} }}")
        group: list[ox.Triple] = []
        for component in components + [[]]:
            if group and (not component or len(group) + len(component) > batch):
                text = _in(graph, _nt(group))
                ops.append(f"INSERT DATA {{ {text} }}" if self.engine.data_blank_nodes
                           else f"INSERT {{ {text} }} WHERE {{ }}")
                group = []
            group += component
        for op in ops:
            self.client.update(op, timeout=self.write_timeout)

    def _drop_quietly(self, graphs: Sequence[ox.NamedNode]) -> None:
        if not graphs:
            return
        try:
            self.client.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs),
                               timeout=self.timeout)
        except RemoteError as error:
            log.warning("could not drop staging graphs (%s); recover() will", error)

    def recover(self, older_than: float = 0.0) -> str | None:
        """Drop the staging graphs a killed or failed change left behind: those older than
        ``older_than`` seconds, and those whose writer was a process of this machine that
        has ended (see :func:`staging_name`; a younger graph of a process still running, or
        of another machine, may belong to a change in progress). With the default, every
        one, so only while no other process writes. :meth:`tidy` does this with
        :data:`STALE_STAGING`. A staged change never touched a data graph; a fill's journal
        among them (:mod:`.remote_fill`) names a graph that was filled in place, which is
        emptied again unless its load committed. Returns the name of such a graph (as the
        embedded store's ``recover`` does), or None."""
        pattern = "{ }" if self.engine.empty_graphs else "{ ?s ?p ?o }"  # empty ones too
        sparql = (f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {pattern} "
                  f'FILTER STRSTARTS(STR(?g), "{STAGING_PREFIX}") }}')
        now = time()
        stale = [row["g"] for row in self.query(sparql)
                 if staging_age(row["g"].value, now) >= older_than
                 or staging_writer_ended(row["g"].value)]
        undone = remote_fill.undo(self, stale)  # before their journals go
        if undone:
            log.warning("emptied %s again: a load into it was killed before it committed",
                        ", ".join(undone))
        if stale:
            log.info("dropping %d staging graph(s) left by an unfinished change", len(stale))
            self.client.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in stale),
                               timeout=self.write_timeout)
        self.dropped_staging = len(stale)
        return undone[0].removeprefix(str(GRAPH)) if undone else None

    def flush(self) -> None:
        """Nothing to do: the server makes each update durable when it commits it."""

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- the change being made ---------------------------------------------------------------------

@dataclass
class _Change:
    """Graphs dropped and created, ground triples removed, blank-node structures removed by
    pattern, and data added (N-Triples bytes or triples), per graph."""

    dropped: list[ox.NamedNode] = field(default_factory=list)
    created: list[ox.NamedNode] = field(default_factory=list)
    removed: dict[Graph, list[ox.Triple]] = field(default_factory=dict)
    patterns: dict[Graph, list[list[ox.Triple]]] = field(default_factory=dict)
    added: dict[Graph, bytes | list[ox.Triple]] = field(default_factory=dict)

    def remove(self, graph: Graph, triples: list[ox.Triple]) -> None:
        ground, components = _components(triples)
        if ground:
            self.removed.setdefault(graph, []).extend(ground)
        if components:
            self.patterns.setdefault(graph, []).extend(components)

    @property
    def empty(self) -> bool:
        return not (self.dropped or self.created or self.removed or self.patterns
                    or any(self.added.values()))

    def size(self) -> int:
        """Roughly the bytes of the change's text."""
        total = sum(len(d) if isinstance(d, bytes) else 80 * len(d) for d in self.added.values())
        total += 80 * sum(len(t) for t in self.removed.values())
        return total + 80 * sum(len(c) for cs in self.patterns.values() for c in cs)


def staging_name() -> str:
    """A fresh staging id: a version-1 UUID (its time tells ``recover`` how old it is) with
    a random node instead of the host's MAC address, then, where it can be known, the
    writing process (``/{machine}-{pid}-{start}``, see :func:`_writer`), so that the next
    load on this machine can drop what a killed one left at once, while a change still
    running anywhere keeps its graphs. Graph names stay ``{prefix}{uuid}/…``."""
    made = str(uuid.uuid1(node=int.from_bytes(uuid.uuid4().bytes[:6], "big") | 1 << 40))
    writer = _writer(os.getpid())
    return f"{made}/{writer}" if writer else made


@lru_cache(maxsize=1)
def _machine() -> str | None:
    """This machine and process namespace: a hash of the kernel's boot id and the pid
    namespace, so two containers on one host (one boot id, separate pids) differ, and a
    pid is only ever looked up where it means the same process. None off Linux."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return hashlib.sha256(f"{boot} {namespace}".encode()).hexdigest()[:12]


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None when there is none:
    with the pid, it names one process even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _writer(pid: int) -> str | None:
    machine, started = _machine(), _started(pid)
    return f"{machine}-{pid}-{started}" if machine and started else None


def staging_writer_ended(iri: str) -> bool:
    """Whether staging graph ``iri`` was written by a process of this machine that has
    ended (killed, or stopped before it could drop it). False when that cannot be known:
    another machine's, or a name without its writer."""
    parts = iri[len(STAGING_PREFIX):].split("/")
    if len(parts) < 3:
        return False
    machine, _, rest = parts[1].partition("-")
    pid, _, started = rest.partition("-")
    if machine != _machine() or not pid.isdigit():
        return False
    return _started(int(pid)) != started


def staging_age(iri: str, now: float) -> float:
    """Seconds since staging graph ``iri`` was named (infinite when its name tells nothing)."""
    try:
        made = uuid.UUID(iri[len(STAGING_PREFIX):].split("/")[0])
    except ValueError:
        return float("inf")
    if made.version != 1:
        return float("inf")
    return now - (made.time - 0x01B21DD213814000) / 1e7


def query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first keyword after the prologue (BASE,
    PREFIX and Virtuoso's ``define``), skipping comments, IRIs and strings. None when the
    text does not start like a query."""
    for match in _LEXEME.finditer(sparql):
        word = match.group("word")
        if word is None:
            continue
        upper = word.upper()
        if upper in ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"):
            return upper
        if upper not in ("BASE", "PREFIX", "DEFINE"):
            return None
    return None


_LEXEME = re.compile(
    r"""\#[^\n]*|<[^<>"{}|^`\\\s]*>|'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"|"""
    r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|[A-Za-z_][\w.-]*:[\w.:-]*|"""
    r"""(?P<word>[A-Za-z]+)|\S""", re.S)


def _triples(data: bytes | str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]


def _split_long_lines(data: bytes, limit: int) -> tuple[bytes, bytes]:
    """N-Triples lines up to ``limit`` bytes, and the longer ones. When a long line holds a
    blank node, everything goes with the long lines, so no structure is split in two."""
    short, long = [], []
    for line in data.splitlines(keepends=True):
        (long if len(line) > limit else short).append(line)
    if not long:
        return data, b""
    if any(b"_:" in line for line in long):
        return b"", data
    return b"".join(short), b"".join(long)


def _has_triples(data: bytes) -> bool:
    return any(line.strip() and not line.lstrip().startswith(b"#")
               for line in data.splitlines())


def _nt(triples: Iterable[ox.Triple]) -> str:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")


def _in(graph: Graph, text: str) -> str:
    return text if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{ {text} }}"


def _components(triples: Sequence[ox.Triple]
                ) -> tuple[list[ox.Triple], list[list[ox.Triple]]]:
    """The triples without blank nodes, and the others grouped by the blank nodes that join
    them (each group has to be written, or deleted by pattern, in one piece)."""
    parent: dict[ox.BlankNode, ox.BlankNode] = {}

    def root(node: ox.BlankNode) -> ox.BlankNode:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    ground, joined = [], []
    for triple in triples:
        blanks = [t for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]
        if not blanks:
            ground.append(triple)
            continue
        joined.append((triple, blanks[0]))
        for other in blanks[1:]:
            parent[root(other)] = root(blanks[0])
    groups: dict[ox.BlankNode, list[ox.Triple]] = {}
    for triple, blank in joined:
        groups.setdefault(root(blank), []).append(triple)
    return ground, list(groups.values())


def _pattern(component: Sequence[ox.Triple], prefix: str) -> tuple[str, str]:
    """A blank-node structure as a pattern (its blank nodes as variables) and the FILTER
    that keeps those variables to blank nodes."""
    names: dict[ox.BlankNode, str] = {}

    def term(t: Any) -> str:
        if isinstance(t, ox.BlankNode):
            return names.setdefault(t, f"?{prefix}{len(names)}")
        return str(t)

    text = " ".join(f"{term(t.subject)} {term(t.predicate)} {term(t.object)} ."
                    for t in component)
    tests = " && ".join(f"isBlank({v})" for v in names.values())
    return text, f"FILTER ({tests})" if tests else ""


_VIRTUOSO_JSON_BNODE = re.compile(
    rb'("type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*")nodeID://')


def _read_blank_nodes(body: bytes) -> bytes:
    """Virtuoso's blank nodes (``nodeID://b123``) as labels pyoxigraph reads (``b123``)."""
    if b"nodeID://" not in body:
        return body
    body = body.replace(b"<bnode>nodeID://", b"<bnode>")
    return _VIRTUOSO_JSON_BNODE.sub(rb"\1", body)


__all__ = ["ENGINES", "Engine", "RemoteStore", "STALE_STAGING", "query_form", "query_triples"]
