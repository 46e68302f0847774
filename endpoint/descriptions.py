"""What the server says about one resource: its concise bounded description and context.

A description (what a dereferenced IRI answers, in every format) holds:

- the resource's **concise bounded description**: every triple with it as subject, and,
  recursively, those of the blank nodes they lead to (Patrick Stickler's CBD, without
  reification), each with the graph(s) it came from;
- the **label and type of every resource it links to**, so a client needs no second request
  to show a link;
- its **incoming links**, a page at a time (a concept may be the rating of 30,000 practices).

Everything here is a bounded number of index lookups, each capped, so a description cannot
run away the way a query can, and it is read in the server process without a worker hop:
on the embedded store, straight from the committed snapshot's indexes
(:class:`IndexSource`); on a remote store, as a few small SPARQL queries
(:class:`SparqlSource`). Triples held by several graphs come back once (the default graph
is the RDF merge), and the hidden and staging graphs of :mod:`practicebank.merged_default`
and the remote staging area never show.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import pyoxigraph as ox

from practicebank.merged_default import HIDDEN, MergedView
from practicebank.namespaces import ID

T = TypeVar("T")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: Label properties, best first: the first a resource has names it.
LABELS = tuple(ox.NamedNode(iri) for iri in (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://purl.org/dc/terms/title",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "https://schema.org/name",
    "http://xmlns.com/foaf/0.1/name",
    "http://www.w3.org/2004/02/skos/core#notation",
))
#: Graphs that are machinery, never data: the merge partition and remote staging.
HIDDEN_GRAPH_PREFIX = "urn:practicebank:"
#: Triples one description may hold (the CBD and the blank nodes it reaches).
MAX_TRIPLES = 5000
#: Blank-node hops followed from the resource.
MAX_DEPTH = 6
#: Incoming links per page.
INCOMING_PAGE = 100
#: Resources whose labels and types are looked up (the links of the description).
MAX_LINKED = 400


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple


class Source(Protocol):
    """Where descriptions are read from: the union of the store's graphs, as quads."""

    def quads(self, subject: ox.NamedNode | ox.BlankNode | None,
              predicate: ox.NamedNode | None, obj: Term | None,
              limit: int) -> list[ox.Quad]:
        """Up to ``limit`` quads matching the pattern, in any graph but the hidden ones."""


class IndexSource:
    """A pyoxigraph store (a read-only snapshot, or an in-memory store) read by index.

    ``cache`` (a :class:`LinkedCache` for the committed state this store shows) keeps the
    labels and types of linked resources between requests."""

    def __init__(self, store: ox.Store | MergedView, cache: LinkedCache | None = None) -> None:
        self.store = store  # queries go through a MergedView: their union is the merge
        self.cache = cache
        # A partitioned snapshot comes as a MergedView, which keeps its hidden graphs out of
        # queries but not out of quads_for_pattern: they are read from the store under it
        # and filtered below, or a triple in two graphs would show twice.
        merged = isinstance(store, MergedView)
        self._indexes = store.store if merged else store
        # Only a partitioned snapshot has hidden graphs (merged_default): reading a term
        # from disk costs microseconds, so graph names are only looked at when they can be.
        # Whether it is partitioned is a fact of the committed state, so the cache keeps it.
        partitioned = cache.partitioned if cache is not None else None
        if partitioned is None:
            partitioned = merged or any(self._indexes.contains_named_graph(g)
                                        for g in HIDDEN_GRAPHS)
            if cache is not None:
                cache.partitioned = partitioned
        self.partitioned = partitioned

    def quads(self, subject, predicate, obj, limit: int) -> list[ox.Quad]:
        found = self._indexes.quads_for_pattern(subject, predicate, obj, None)
        if not self.partitioned:
            return list(itertools.islice(found, limit))
        out: list[ox.Quad] = []
        if limit <= 0:
            return out
        for q in found:
            if not _hidden(q.graph_name):
                out.append(q)
                if len(out) >= limit:
                    break
        return out


class SparqlSource:
    """A store that only answers SPARQL (a remote server): one SELECT per pattern."""

    def __init__(self, store) -> None:
        self.store = store

    def quads(self, subject, predicate, obj, limit: int) -> list[ox.Quad]:
        s = "?s" if subject is None else str(subject)
        p = "?p" if predicate is None else str(predicate)
        o = "?o" if obj is None else str(obj)
        rows = self.store.query(
            f"SELECT * WHERE {{ GRAPH ?g {{ {s} {p} {o} }} }} LIMIT {int(limit)}")
        out = []
        for row in rows:
            graph = row["g"]
            if _hidden(graph) or (hasattr(self.store, "is_ours")
                                  and not self.store.is_ours(graph.value)):
                continue
            out.append(ox.Quad(subject or row["s"], predicate or row["p"],
                               obj if obj is not None else row["o"], graph))
        return out


HIDDEN_GRAPHS = tuple(HIDDEN)


def _hidden(graph: object) -> bool:
    return isinstance(graph, ox.NamedNode) and graph.value.startswith(HIDDEN_GRAPH_PREFIX)


@dataclass
class Linked:
    """What a description says about a resource it links to."""

    label: ox.Literal | None = None
    types: list[ox.NamedNode] = field(default_factory=list)
    #: Those facts as triples about the resource (made once: a Linked is shared, per
    #: committed state, by every description that links to the resource).
    said: tuple[ox.Triple, ...] | None = field(default=None, compare=False, repr=False)

    def triples(self, iri: ox.NamedNode) -> tuple[ox.Triple, ...]:
        """Its label (as ``rdfs:label``, which every client reads) and types, about ``iri``."""
        said = self.said
        if said is None:
            label = () if self.label is None else (ox.Triple(iri, LABELS[2], self.label),)
            said = self.said = (*label, *(ox.Triple(iri, RDF_TYPE, kind) for kind in self.types))
        return said


@dataclass
class Description:
    """One resource described: see the module docstring."""

    subject: ox.NamedNode
    #: Triples of the CBD, each once, with the graphs that hold it.
    triples: dict[ox.Triple, set[ox.NamedNode | ox.DefaultGraph]]
    linked: dict[ox.NamedNode, Linked]
    #: (subject, predicate) of links into the resource: this page of them.
    incoming: list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode]]
    incoming_page: int = 0
    incoming_more: bool = False
    truncated: bool = False
    #: Records that exist for the resource's sake (its assessments, recognitions,
    #: participations …), with their own triples, shown with it: see :data:`PART_KINDS`.
    parts: dict[ox.NamedNode, list[ox.Triple]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.triples) or bool(self.incoming)

    def about(self, node: ox.NamedNode | ox.BlankNode) -> list[ox.Triple]:
        """The triples with ``node`` as subject, in the order they were read."""
        if node in self.parts:
            return self.parts[node]
        return [t for t in self.triples if t.subject == node]

    def values(self, node: ox.NamedNode | ox.BlankNode, predicate: ox.NamedNode) -> list[Term]:
        return [t.object for t in self.about(node) if t.predicate == predicate]

    def label_of(self, node: ox.NamedNode | ox.BlankNode) -> ox.Literal | None:
        if node == self.subject or isinstance(node, ox.BlankNode) or node in self.parts:
            return best_label(self.about(node))
        linked = self.linked.get(node)
        return linked.label if linked else None

    def types_of(self, node: ox.NamedNode | ox.BlankNode) -> list[ox.NamedNode]:
        if node == self.subject or isinstance(node, ox.BlankNode) or node in self.parts:
            return [o for o in self.values(node, RDF_TYPE) if isinstance(o, ox.NamedNode)]
        linked = self.linked.get(node)
        return linked.types if linked else []

    def graph(self) -> Iterator[ox.Triple]:
        """Every triple to serialise: the CBD, then the labels and types of linked resources
        and the incoming links of this page."""
        yield from self.triples
        for triples in self.parts.values():
            yield from triples
        for iri, linked in self.linked.items():
            yield from linked.triples(iri)
        for s, p in self.incoming:
            yield ox.Triple(s, p, self.subject)


def best_label(triples: Iterable[ox.Triple], language: str = "en") -> ox.Literal | None:
    """The best label among ``triples`` (their predicates in :data:`LABELS` order, English
    or untagged first)."""
    best: tuple[int, int, ox.Literal] | None = None
    for t in triples:
        if t.predicate in LABELS and isinstance(t.object, ox.Literal):
            rank = (LABELS.index(t.predicate),
                    0 if t.object.language in (None, "", language) else 1)
            if best is None or rank < best[:2]:
                best = (*rank, t.object)
    return best[2] if best else None


def describe(source: Source, iri: str, *, incoming_page: int = 0,
             page_size: int = INCOMING_PAGE, last_page: int | None = None) -> Description:
    """The description of ``iri`` read from ``source`` (bounded: see the module constants);
    ``last_page`` is the deepest page of incoming links offered (no "more" past it)."""
    subject = ox.NamedNode(iri)
    triples: dict[ox.Triple, set] = {}
    # What the triples link to (predicates, IRIs), in the order first read: their labels
    # and types are looked up below. Gathered as the triples are read (a pyoxigraph term
    # is a new Python object each time it is asked for, so each is asked for once).
    wanted: dict = {}
    own_objects: list = []  # the objects of the resource's own triples: parts, perhaps
    truncated = False
    frontier: list[ox.NamedNode | ox.BlankNode] = [subject]
    seen: set = {subject}
    named, blank = ox.NamedNode, ox.BlankNode
    for _depth in range(MAX_DEPTH + 1):
        next_frontier = []
        for node in frontier:
            room = MAX_TRIPLES - len(triples)
            quads = source.quads(node, None, None, room + 1)
            if len(quads) > room:
                truncated, quads = True, quads[:room]
            own = node is subject
            for q in quads:
                triple = q.triple
                graphs = triples.get(triple)
                if graphs is not None:
                    graphs.add(q.graph_name)
                    continue
                triples[triple] = {q.graph_name}
                obj = triple.object
                wanted[triple.predicate] = None
                kind = type(obj)
                if kind is named:
                    wanted[obj] = None
                elif kind is blank and obj not in seen:
                    seen.add(obj)
                    next_frontier.append(obj)
                if own:
                    own_objects.append(obj)
        if not next_frontier or truncated:
            truncated = truncated or bool(next_frontier)
            break
        frontier = next_frontier

    start = incoming_page * page_size
    incoming_pairs = read_incoming(source, subject, start + page_size + 1)
    page = incoming_pairs[start:start + page_size]
    more = len(incoming_pairs) > start + page_size and (
        last_page is None or incoming_page < last_page)

    parts = read_parts(source, subject,
                       own_objects + [s for s, _ in incoming_pairs[:MAX_PARTS * 2]])
    for triples_of_part in parts.values():
        for t in triples_of_part:
            wanted[t.predicate] = None
            obj = t.object
            if type(obj) is named:
                wanted[obj] = None
    for s, p in page:
        wanted[p] = None
        if type(s) is named:
            wanted[s] = None
    linked: dict[ox.NamedNode, Linked] = {}
    cache = getattr(source, "cache", None)
    known = cache.entries if cache is not None else {}
    for node in wanted:
        if node == subject or node in parts:
            continue
        if len(linked) >= MAX_LINKED:
            break
        found = known.get(node)
        linked[node] = found if found is not None else look_up(source, node)
    return Description(subject, triples, linked, page, incoming_page, more, truncated, parts)


def read_incoming(source: Source, subject: ox.NamedNode,
                  wanted: int) -> list[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode]]:
    """At least ``wanted`` distinct (subject, predicate) links into ``subject`` if it has as
    many, in index order; remembered per commit when there are many (see LinkedCache)."""
    cache = getattr(source, "cache", None)
    known = cache.incoming.get(subject) if cache is not None else None
    if known is not None and (known[1] or len(known[0]) >= wanted):
        return known[0]
    limit = max(wanted * 2, INCOMING_PAGE * 4) + 64  # read ahead: the next pages are likely
    quads = source.quads(None, None, subject, limit)
    pairs = list(dict.fromkeys((q.subject, q.predicate) for q in quads))
    if cache is not None and len(pairs) > INCOMING_PAGE:
        if len(cache.incoming) >= 256:
            cache.incoming.clear()
        cache.incoming[subject] = (pairs, len(quads) < limit)
    return pairs


#: Kinds of record (``id/{kind}/…``) shown inside the description of the resource they are
#: about: a practice's assessments, recognitions, participations and evaluations (and an
#: evaluation's results), a concept's mappings to other schemes with their notes.
PART_KINDS = ("assessment", "recognition", "participation", "mapping", "evaluation")
#: Parts read per description, and triples per part.
MAX_PARTS = 40
MAX_PART_TRIPLES = 200


def read_parts(source: Source, subject: ox.NamedNode,
               candidates: Iterable[object]) -> dict[ox.NamedNode, list[ox.Triple]]:
    """The triples of the part records among ``candidates`` (see :data:`PART_KINDS`)."""
    prefixes = tuple(f"{ID_BASE}{kind}/" for kind in PART_KINDS)
    parts: dict[ox.NamedNode, list[ox.Triple]] = {}
    for node in candidates:
        if (not isinstance(node, ox.NamedNode) or node == subject or node in parts
                or not node.value.startswith(prefixes)):
            continue
        if len(parts) >= MAX_PARTS:
            break
        quads = source.quads(node, None, None, MAX_PART_TRIPLES)
        parts[node] = list(dict.fromkeys(q.triple for q in quads))
    return parts


#: Triples read to find a linked resource's label and types (labels and types come early:
#: a resource has few triples, and the SPO index orders by predicate id, not by size).
LOOK_UP_TRIPLES = 256


def look_up(source: Source, node: ox.NamedNode) -> Linked:
    """A resource's best label and its types, from one index lookup (cached per commit when
    the source says which commit it reads)."""
    cache = getattr(source, "cache", None)
    if cache is not None:
        found = cache.get(node)
        if found is not None:
            return found
    triples = [q.triple for q in source.quads(node, None, None, LOOK_UP_TRIPLES)]
    types = list(dict.fromkeys(t.object for t in triples
                               if t.predicate == RDF_TYPE and isinstance(t.object, ox.NamedNode)))
    linked = Linked(best_label(triples), types)
    if len(triples) == LOOK_UP_TRIPLES and linked.label is None:  # a big resource: ask
        labels = [ox.Triple(q.subject, q.predicate, q.object)
                  for p in LABELS for q in source.quads(node, p, None, 4)]
        linked = Linked(best_label(labels), types or [
            q.object for q in source.quads(node, RDF_TYPE, None, 16)])
    if cache is not None:
        cache.put(node, linked)
    return linked


class LinkedCache:
    """Labels and types of linked resources, for one committed state of the store.

    Most links of a page go to the same few hundred resources (concepts, forces, terms of
    the ontology), so remembering them saves most of a page's lookups. The cache is
    dropped whole when the store changes (a new ``version``) or grows past ``size``."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self.version: object = None
        self.entries: dict[ox.NamedNode, Linked] = {}
        #: Incoming links read so far of resources linked from more than one page's worth
        #: (a concept used by thousands of practices), and whether the list is whole: a
        #: reader paging through them reads each link once per commit, not once per page.
        self.incoming: dict[ox.NamedNode, tuple[list, bool]] = {}
        #: Whether the store has hidden graphs (None: not looked yet).
        self.partitioned: bool | None = None
        #: Other small facts pages read about shared resources (a graph's last load, an
        #: organisation's region), by key: see :func:`remembered`.
        self.facts: dict[tuple, object] = {}

    def for_version(self, version: object) -> LinkedCache:
        if version != self.version:
            self.version, self.entries, self.incoming = version, {}, {}
            self.partitioned, self.facts = None, {}
        return self

    def get(self, node: ox.NamedNode) -> Linked | None:
        return self.entries.get(node)

    def put(self, node: ox.NamedNode, linked: Linked) -> None:
        if len(self.entries) >= self.size:
            self.entries = {}
        self.entries[node] = linked


def remembered(source: Source, key: tuple, make: Callable[[], T]) -> T:
    """``make()``, read once per committed state when ``source`` says which state it reads
    (its :class:`LinkedCache`), for facts many pages show: the same few graphs' loads, the
    same few hundred organisations' regions."""
    cache = getattr(source, "cache", None)
    if cache is None:
        return make()
    facts = cache.facts
    if key in facts:
        return facts[key]  # type: ignore[return-value]
    if len(facts) >= cache.size:
        facts.clear()
    value = facts[key] = make()
    return value


#: The graph a resource's own record came from, for "where this record came from".
def source_graphs(description: Description) -> list[ox.NamedNode]:
    """The named graphs holding the resource's own triples, most triples first."""
    counts: dict[ox.NamedNode, int] = {}
    for t, graphs in description.triples.items():
        if t.subject != description.subject:
            continue
        for g in graphs:
            if isinstance(g, ox.NamedNode):
                counts[g] = counts.get(g, 0) + 1
    return sorted(counts, key=lambda g: -counts[g])


#: Where records' IRIs start (``id/{kind}/…``).
ID_BASE = str(ID)
