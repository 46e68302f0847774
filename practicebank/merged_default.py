"""The default graph as the RDF merge of all graphs: each triple once, however many hold it.

Every load lives in a named graph of its own, and queries see the union of all graphs as
their default graph. pyoxigraph (0.5.13, the newest 0.5) evaluates that union, and a
``default_graph=[…]`` list alike, as the graphs' quads one after another with the graph
name dropped: a triple held by two graphs matches twice, so ``COUNT(*)``, ``SUM`` and every
join through it count it twice, where SPARQL's default graph is a set, the RDF merge.
(Oxigraph's main branch deduplicates those iterators since its PR #1920, for 0.6.)
Deduplicating every triple pattern would cost every query; a triple in two graphs is rare
(each load is its own file), so the cost is only paid when it happens:

1. :class:`Overlaps` knows a superset of the graphs that share a triple with another graph:
   worked out once per server (each graph but the largest is probed, since a shared triple
   is in at least one of the others: 0.04-0.08 s on the 1.9-million-triple benchmark
   store), then kept up to date by each endpoint write (:func:`note_change`: each added
   quad looked up, about 10 µs a quad, or the other graphs looked up in the written one
   when they are smaller). In the normal case it is empty, and queries run exactly as
   before: no per-query work at all on a snapshot, a dictionary lookup in process.
2. When it is not, every published snapshot is *partitioned* (:func:`prepare_snapshot`):
   the largest overlapping graph stays as it is, and a hidden graph (:data:`PART`) gets
   the triples of the other overlapping graphs (and of small graphs that share nothing)
   that the largest lacks. The default graph is then the list of pairwise disjoint graphs
   in :data:`PLAN`, whose concatenation is the merge; :class:`MergedView` passes it as
   ``default_graph`` and restricts named graphs to the real ones, so the hidden graphs
   never show. The copy is made in the snapshot (a checkpoint of its own), never in the
   store: on the benchmark store, with a small graph overlapping the big one, publishing
   took 0.14 s more and queries ran 1.0-1.5 times as long.
3. Queries in the server process (an in-memory store, ``--workers -1``) get the same
   partition on a copy of the store made once per write (:func:`live_view`).

Graphs named by blank nodes are left out: the endpoint cannot create one.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .journal import ChangeSet
from .sparql_text import has_dataset_clause

if TYPE_CHECKING:
    from .store import PracticeStore

PREFIX = "urn:practicebank:merge:"
#: The hidden graph holding the overlapping graphs' triples that the largest of them lacks.
PART = ox.NamedNode(PREFIX + "part")
#: The hidden graph listing the graphs that make up the default graph.
PLAN = ox.NamedNode(PREFIX + "plan")
HIDDEN = frozenset({PART, PLAN})
_MEMBER = ox.NamedNode(PREFIX + "member")
_DEFAULT_GRAPH = ox.NamedNode(PREFIX + "default-graph")  # stands for the store's own
DEFAULT = ox.DefaultGraph()
#: Graph sizes are counted up to this: enough to tell which is the largest in practice.
SIZE_CAP = 100_000
#: How many triples of small graphs that share nothing a partition copies (see partition).
FOLD_BUDGET = 20_000

Graph = ox.NamedNode | ox.DefaultGraph


# -- which graphs overlap --------------------------------------------------------------------


def _pattern(graph: Graph) -> str:
    """``?s ?p ?o`` in ``graph``, for a query on the store's own dataset (no union)."""
    return "?s ?p ?o" if isinstance(graph, ox.DefaultGraph) else f"GRAPH {graph} {{ ?s ?p ?o }}"


def _graphs(store: ox.Store) -> list[Graph]:
    return [DEFAULT, *(g for g in store.named_graphs()
                       if isinstance(g, ox.NamedNode) and g not in HIDDEN)]


def size_at_most(store: ox.Store, graph: Graph, cap: int = SIZE_CAP) -> int:
    rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT ?s WHERE {{ {_pattern(graph)} }} "
                       f"LIMIT {cap} }}")
    return int(next(iter(rows))["n"].value)


def sharing(store: ox.Store, graph: Graph) -> set[Graph]:
    """The other graphs that hold a triple of ``graph`` (Oxigraph scans ``graph`` and looks
    each triple up: measured about 4 µs a triple)."""
    if isinstance(graph, ox.DefaultGraph):
        rows = store.query("SELECT DISTINCT ?h WHERE { ?s ?p ?o GRAPH ?h { ?s ?p ?o } }")
        return {row["h"] for row in rows if isinstance(row["h"], ox.NamedNode)} - HIDDEN
    rows = store.query(f"SELECT DISTINCT ?h WHERE {{ {_pattern(graph)} GRAPH ?h {{ ?s ?p ?o }} "
                       f"FILTER (?h != {graph}) }}")
    found: set[Graph] = {row["h"] for row in rows if isinstance(row["h"], ox.NamedNode)}
    if store.query(f"ASK {{ {_pattern(graph)} ?s ?p ?o }}"):
        found.add(DEFAULT)
    return found - HIDDEN


def overlapping_graphs(store: ox.Store) -> set[Graph]:
    """Every graph that shares a triple with another. Each graph but the largest is probed:
    a triple held by two graphs is in at least one that is not the largest."""
    graphs = _graphs(store)
    largest = max(graphs, key=lambda g: size_at_most(store, g))
    found: set[Graph] = set()
    for graph in graphs:
        if graph != largest and (others := sharing(store, graph)):
            found |= others | {graph}
    return found


class Overlaps:
    """A superset of the graphs of one store that share a triple with another graph.

    Any superset will do: the graphs left out share nothing, which is all the partition
    needs. So removals never shrink it (a later server start does); a dropped graph leaves
    it, and added quads are looked up, so it grows whenever an overlap appears.
    """

    def __init__(self, store: ox.Store) -> None:
        self.graphs = overlapping_graphs(store)
        self.version = 0  # counts the writes noted, for the in-process copy
        self.lock = threading.Lock()
        self.copy: tuple[int, object] | None = None  # (version, view) for live_view

    @property
    def any(self) -> bool:
        """True when some triple may be in two graphs (two graphs are needed for one)."""
        return len(self.graphs) >= 2

    def note(self, store: ox.Store, change: ChangeSet) -> None:
        """Bring this up to date after ``change`` was applied to ``store``: each added
        quad is looked up in every graph (about 10 µs a quad), unless the other graphs
        hold fewer triples than the graph was given, which are then looked up in it."""
        self.graphs -= change.dropped
        added: dict[Graph, list[ox.Quad]] = {}
        for quad in change.added:
            added.setdefault(quad.graph_name, []).append(quad)
        for graph, quads in added.items():
            others = _smaller_rest(store, graph, len(quads))
            if others is not None:
                shared = {other for other in others if _shares(store, other, graph)}
            else:
                shared = {q.graph_name for quad in quads for q in store.quads_for_pattern(
                    quad.subject, quad.predicate, quad.object, None)} - {graph}
            shared = {g for g in shared if isinstance(g, Graph)} - HIDDEN
            if shared:
                self.graphs |= shared | {graph}
        self.version += 1


def _smaller_rest(store: ox.Store, graph: Graph, n: int) -> list[Graph] | None:
    """The graphs other than ``graph`` if together they hold fewer than ``n`` triples
    (counting no further than that), else None. Not worth asking for a few quads."""
    if n < 1000:
        return None
    others, left = [g for g in _graphs(store) if g != graph], n
    for other in others:
        left -= size_at_most(store, other, left)
        if left <= 0:
            return None
    return others


def _shares(store: ox.Store, graph: Graph, target: Graph) -> bool:
    """True when a triple of ``graph`` is also in ``target``."""
    return any(ox.Quad(q.subject, q.predicate, q.object, target) in store
               for q in store.quads_for_pattern(None, None, None, graph))


_TRACKERS: weakref.WeakKeyDictionary[PracticeStore, Overlaps] = weakref.WeakKeyDictionary()
_TRACKERS_LOCK = threading.Lock()


def overlaps_of(store: PracticeStore) -> Overlaps:
    """The :class:`Overlaps` of ``store``, worked out in full on first use."""
    tracker = _TRACKERS.get(store)
    if tracker is None:
        with _TRACKERS_LOCK:
            tracker = _TRACKERS.get(store)
            if tracker is None:
                tracker = _TRACKERS[store] = Overlaps(store.ox)
    return tracker


def note_change(store, change: ChangeSet) -> None:
    """Call after every write applied to ``store`` (an embedded store; any other is left
    alone). Before the first use nothing is kept: that use works it out in full."""
    tracker = _TRACKERS.get(store)
    if tracker is not None:
        tracker.note(store.ox, change)


def forget(store: PracticeStore) -> None:
    """Call after a write whose quads are not listed (a load): the next query works the
    overlaps out again, in full."""
    _TRACKERS.pop(store, None)


# -- the partition, and queries over it ------------------------------------------------------


def partition(store: ox.Store, graphs: Iterable[Graph]) -> bool:
    """Add :data:`PART` and :data:`PLAN` to ``store`` (a copy of the real store: a snapshot)
    for the overlapping ``graphs``. False when there was nothing to do.

    Each graph in the default graph's list costs an index lookup per triple pattern
    (measured on the benchmark store: 5 times slower joins with 10 graphs), so small
    graphs that share nothing go into :data:`PART` as well, up to :data:`FOLD_BUDGET`
    triples: the list is then the largest overlapping graph, the hidden one, and the large
    graphs that share nothing.
    """
    groups = [g for g in graphs if isinstance(g, ox.DefaultGraph) or store.contains_named_graph(g)]
    if len(groups) < 2:
        return False
    sizes = {g: size_at_most(store, g) for g in _graphs(store)}
    largest = max(groups, key=sizes.__getitem__)
    folded, budget = [g for g in groups if g != largest], FOLD_BUDGET
    for graph in sorted(sizes.keys() - set(groups), key=sizes.__getitem__):
        if sizes[graph] > budget:
            break
        folded.append(graph)
        budget -= sizes[graph]
    store.update(" ;\n".join(
        f"INSERT {{ GRAPH {PART} {{ ?s ?p ?o }} }} WHERE {{ {_pattern(g)} "
        f"FILTER NOT EXISTS {{ {_pattern(largest)} }} }}" for g in folded))
    members = [g for g in sizes if g not in folded and g != largest] + [largest, PART]
    store.extend(ox.Quad(PLAN, _MEMBER, _DEFAULT_GRAPH if isinstance(g, ox.DefaultGraph) else g,
                         PLAN) for g in members)
    return True


class MergedView:
    """A partitioned store as its queries should see it: the default graph the merge, the
    hidden graphs nowhere. Everything else is the store's own."""

    def __init__(self, store: ox.Store, owned_folder: str | None = None) -> None:
        self.folder = owned_folder  # a temporary copy's, removed with the view
        self.store = store
        self.members = [DEFAULT if q.object == _DEFAULT_GRAPH else q.object
                        for q in store.quads_for_pattern(PLAN, _MEMBER, None, PLAN)]
        self.named = [g for g in store.named_graphs() if g not in HIDDEN]

    def query(self, query: str, *, use_default_graph_as_union: bool = False,
              default_graph=None, named_graphs=None, **options):
        if use_default_graph_as_union:
            use_default_graph_as_union, default_graph = False, self.members
        if named_graphs is None and not has_dataset_clause(query):  # else the query's own
            named_graphs = self.named
        return self.store.query(query, use_default_graph_as_union=use_default_graph_as_union,
                                default_graph=default_graph, named_graphs=named_graphs,
                                **options)

    def contains_named_graph(self, graph) -> bool:
        return graph not in HIDDEN and self.store.contains_named_graph(graph)

    def named_graphs(self):
        return iter(self.named)

    def __getattr__(self, name: str):
        if name in ("store", "folder"):  # not set yet (a failed __init__)
            raise AttributeError(name)
        return getattr(self.store, name)

    def __del__(self) -> None:
        if getattr(self, "folder", None) is not None:
            self.__dict__.pop("store", None)  # closes it, before its files go
            shutil.rmtree(self.folder, ignore_errors=True)


def view_of(store: ox.Store) -> ox.Store | MergedView:
    """``store`` itself, or its :class:`MergedView` when it was partitioned."""
    return MergedView(store) if store.contains_named_graph(PLAN) else store


def open_snapshot(path: str) -> ox.Store | MergedView:
    """Open a snapshot read-only, as :func:`view_of` says to query it."""
    return view_of(ox.Store.read_only(path))


def prepare_snapshot(store: PracticeStore, path: str) -> None:
    """Partition the fresh snapshot at ``path`` of ``store`` if some graphs overlap."""
    tracker = overlaps_of(store)
    if not tracker.any:
        return
    copy = ox.Store(path)  # a checkpoint is a store of its own, and nobody has it open yet
    partition(copy, tracker.graphs)
    copy.flush()
    del copy


def live_view(store: PracticeStore) -> ox.Store | MergedView:
    """What a query in the server process runs on: the live store, or, when graphs
    overlap, a partitioned copy of it made once per write (a checkpoint for a store on
    disk, an in-memory copy otherwise). Call with the store's readers lock held. The copy
    is only as fresh as the writes reported by :func:`note_change`, as the Writer reports
    every write the server makes."""
    tracker = overlaps_of(store)
    if not tracker.any:
        return store.ox
    with tracker.lock:
        if tracker.copy is None or tracker.copy[0] != tracker.version:
            tracker.copy = (tracker.version, _partitioned_copy(store, tracker.graphs))
        return tracker.copy[1]


def _partitioned_copy(store: PracticeStore, graphs: set[Graph]) -> ox.Store | MergedView:
    if store.path is None:
        copy = ox.Store()
        copy.bulk_extend(store.ox)
        for graph in store.ox.named_graphs():
            copy.add_graph(graph)  # empty graphs too
        return MergedView(copy) if partition(copy, graphs) else copy
    folder = tempfile.mkdtemp(prefix="practicebank-merge-")
    store.ox.backup(f"{folder}/store")
    copy = ox.Store(f"{folder}/store")
    if partition(copy, graphs):
        return MergedView(copy, owned_folder=folder)
    del copy
    shutil.rmtree(folder, ignore_errors=True)
    return store.ox
