"""Writes through the endpoint: who may write, and how a write is validated or undone.

Every write (SPARQL Update, Graph Store PUT/POST/DELETE) runs in the server process, the
one owner of the read-write store, one at a time. Writes into *data graphs* (named graphs
under ``https://w3id.org/practicebank/graph/``, where every load goes) are held to the
SHACL shapes like a load; other graphs (scratch data, the W3C test graphs) are not.

A write is applied, then checked, then kept or undone:

1. note the graphs the write can touch (:func:`touched_graphs`, from rdflib's parse of an
   update; "every graph" when a template has ``GRAPH ?g`` or the update cannot be read);
2. keep the store as it was: the current read-only snapshot for an on-disk store (free), a
   copy of the touched graphs for an in-memory one;
3. apply the write (pyoxigraph makes each step atomic);
4. diff each touched data graph against the snapshot and validate the nodes whose
   descriptions changed, with the types the store knows as context;
5. on a violation, put every touched graph back as it was and answer 422 with the report.

Queries never see steps 3-5: workers read snapshots, and a new one is only published once the
write is kept (in-process queries wait on a readers-writer lock).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import pyoxigraph as ox
from flask import Request
from practicebank.loaders.namespaces import GRAPH
from practicebank.loaders.problems import ValidationFailed, errors
from practicebank.loaders.store import PracticeStore
from practicebank.loaders.validation import validate_graph
from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from .errors import EndpointError
from .executors import RWLock

DATA_GRAPH_PREFIX = str(GRAPH)
DEFAULT = ox.DefaultGraph()
T = TypeVar("T")

#: A set of graphs a write can touch, or None for "any graph".
Touched = set[ox.NamedNode | ox.DefaultGraph] | None


def is_data_graph(graph: object) -> bool:
    return isinstance(graph, ox.NamedNode) and graph.value.startswith(DATA_GRAPH_PREFIX)


# -- who may write -----------------------------------------------------------------------------


def require_write_token(request: Request, token: str) -> None:
    """401 without the right bearer token; 403 when the server has no token (read-only)."""
    if not token:
        raise EndpointError(
            403, "writes_disabled",
            "This server is read-only: writes are enabled by setting PRACTICEBANK_WRITE_TOKEN "
            "on the server.")
    given = request.headers.get("Authorization", "")
    scheme, _, credentials = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(credentials.strip().encode(),
                                                            token.encode()):
        raise EndpointError(
            401, "unauthorized",
            "Writes need the header 'Authorization: Bearer <token>' with the server's write "
            "token." if not given else "The bearer token is not the server's write token.",
            headers={"WWW-Authenticate": 'Bearer realm="practicebank"'})


# -- what an update touches --------------------------------------------------------------------


def touched_graphs(update: str, *, base_iri: str | None = None) -> Touched:
    """The graphs ``update`` can write to, or None when that cannot be known statically."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        operations = translateUpdate(parseUpdate(update), base_iri).algebra
        graphs: set = set()
        for op in operations:
            targets = _targets(op)
            if targets is None:
                return None
            graphs |= targets
    except (ParseException, ValueError, TypeError, KeyError, AttributeError):
        return None  # not readable by rdflib: assume the worst
    return graphs


def _targets(op) -> set | None:
    get = partial(dict.get, op)  # CompValue.get resolves variables; the plain dict one does not

    def term(value) -> object:
        if value is None or value == "DEFAULT":
            return DEFAULT
        if isinstance(value, URIRef):
            return ox.NamedNode(str(value))
        return None  # ALL, NAMED, a variable: any graph

    name = op.name
    if name in ("InsertData", "DeleteData", "DeleteWhere", "Modify"):
        clauses = [op] if name != "Modify" else [c for c in (get("delete"), get("insert"))
                                                  if c is not None]
        found = set()
        for clause in clauses:
            if dict.get(clause, "triples"):
                found.add(term(get("withClause")) if name == "Modify" else DEFAULT)
            for graph in (dict.get(clause, "quads") or {}):
                found.add(term(graph))
        return None if None in found else found
    if name in ("Clear", "Drop", "Load"):
        target = term(get("graphiri"))
        return None if target is None else {target}
    if name == "Create":
        return set()
    if name in ("Add", "Copy", "Move"):
        source, target = (term(g) for g in get("graph"))
        found = {target, source} if name == "Move" else {target}
        return None if None in found else found
    return None


# -- applying, checking, undoing ---------------------------------------------------------------


class Writer:
    """Serialises writes on ``store`` and keeps only those that leave data graphs valid.

    ``before`` returns a read-only view of the store as last committed (the current snapshot)
    or None, in which case touched graphs are copied first. ``on_commit`` runs after a write
    is kept (publish a snapshot, bump ETags).
    """

    def __init__(self, store: PracticeStore, lock: RWLock, *,
                 before: Callable[[], ox.Store | None],
                 on_commit: Callable[[], None]) -> None:
        self.store = store
        self.lock = lock
        self.before = before
        self.on_commit = on_commit

    def write(self, touched: Touched, action: Callable[[], T]) -> T:
        """Run ``action`` (which writes) as one validated write; raises ValidationFailed."""
        with self.lock.writing():
            before = self.before() or self._copy(touched)
            try:
                result = action()
                self._validate(before, touched)
            except BaseException:
                self._restore(before, touched)
                raise
            self.on_commit()
            return result

    def _copy(self, touched: Touched) -> ox.Store:
        copy = ox.Store()
        graphs = self._graphs(self.store.ox, touched)
        for graph in graphs:
            copy.extend(self.store.ox.quads_for_pattern(None, None, None, graph))
        return copy

    @staticmethod
    def _graphs(*stores_and_touched) -> list:
        *stores, touched = stores_and_touched
        if touched is not None:
            return list(touched)
        found = {DEFAULT}
        for store in stores:
            found.update(store.named_graphs())
        return list(found)

    def _validate(self, before: ox.Store, touched: Touched) -> None:
        for graph in self._graphs(before, self.store.ox, touched):
            if not is_data_graph(graph):
                continue
            old = set(before.quads_for_pattern(None, None, None, graph))
            new = set(self.store.ox.quads_for_pattern(None, None, None, graph))
            changed = old ^ new
            if not changed:
                continue
            problems = self._check(graph, {q.subject for q in changed})
            if errors(problems):
                raise ValidationFailed(problems)

    def _check(self, graph: ox.NamedNode, subjects: set) -> list:
        """SHACL problems of the (new) descriptions of ``subjects`` in ``graph``."""
        lines, seen, todo = [], set(), list(subjects)
        while todo:
            subject = todo.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for quad in self.store.ox.quads_for_pattern(subject, None, None, graph):
                lines.append(f"{quad.subject} {quad.predicate} {quad.object} .\n")
                if isinstance(quad.object, ox.BlankNode):
                    todo.append(quad.object)
        if not lines:
            return []  # everything about them was removed
        data = Graph().parse(data="".join(lines), format="nt")
        objects = {str(o) for o in data.objects() if isinstance(o, URIRef)}
        context = Graph()
        for iri, kind in self.store.types_of(objects):
            context.add((URIRef(iri), RDF.type, URIRef(kind)))
        return validate_graph(data, file=f"graph <{graph.value}>", extra_context=context)

    def _restore(self, before: ox.Store, touched: Touched) -> None:
        for graph in self._graphs(before, self.store.ox, touched):
            if isinstance(graph, ox.DefaultGraph):
                self.store.ox.clear_graph(graph)
            elif self.store.ox.contains_named_graph(graph):
                self.store.ox.remove_graph(graph)
            self.store.ox.extend(before.quads_for_pattern(None, None, None, graph))
