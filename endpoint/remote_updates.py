"""What an update would change on a remote store, found without running it there.

A write is validated before it is kept, so its effect must be known first. On the embedded
store the update runs on a copy (:mod:`.write_plans`); a remote server cannot be copied, so
an update is planned from what SPARQL Update itself says it does (SPARQL 1.1 Update §3):

* ``INSERT DATA``/``DELETE DATA`` are read as data, like on the embedded store.
* ``DELETE/INSERT … WHERE`` and ``DELETE WHERE``: the ``WHERE`` pattern is evaluated once,
  on the server, as a ``SELECT`` (``USING`` becomes ``FROM``, ``WITH`` the default graph),
  and each solution fills in the templates here, in a scratch Oxigraph store
  (``INSERT { template } WHERE { VALUES … }``). The quads removed are the deleted ones the
  server holds (and that are not inserted again), the quads added the inserted ones it lacks.
* ``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``COPY``, ``MOVE``, several operations in one
  request (each sees what the ones before it did, which a plan made from the server as it
  is cannot see), and an update whose structure :mod:`.update_ops` does not follow: the
  graphs it can read or write are copied into a scratch store (every graph of ours when
  that cannot be known), the update runs there, and the difference is the change. There,
  as on the embedded store, a ``WHERE`` without ``GRAPH``, ``USING`` or ``WITH`` reads the
  server's own default graph (empty on Virtuoso), where a single ``DELETE/INSERT`` planned
  on the server reads the union of the graphs, as a query does: name the graphs (``GRAPH``,
  ``WITH``, ``USING``) for the same answer everywhere.

``LOAD`` is refused with 501 and a way forward (the server would fetch the document itself,
outside this endpoint's allowlist proxy).
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from practicebank.backend import Store
from practicebank.journal import ChangeSet
from practicebank.sparql_text import tokenize

from . import shadow_update
from .engine_terms import resolve_iri
from .errors import EndpointError
from .update_ops import Operation
from .write_deadline import Deadline

#: Solutions of a WHERE pattern one update may have on a remote store.
MAX_SOLUTIONS = 100_000
#: Quads the graphs of one graph operation (CLEAR, COPY …) may hold on a remote store.
MAX_COPIED = 1_000_000
DEFAULT = ox.DefaultGraph()


def remote_changes(store: Store, text: str, operations: list[Operation] | None, *,
                   base_iri: str | None, deadline: Deadline) -> ChangeSet:
    """The change ``text`` (read as ``operations``, None when its structure was not
    followed) would make on ``store``."""
    if operations is None:
        # a syntax error is named here (the 400 it is), before anything is copied: Oxigraph
        # reads the whole update before it runs any of it, on a store holding nothing
        ox.Store().update(text, base_iri=base_iri)
        return scratch_changes(store, text, None, base_iri=base_iri, deadline=deadline)
    if not operations:  # declarations only: nothing to do
        return ChangeSet()
    if any(op.kind == "LOAD" for op in operations):
        raise not_implemented("LOAD cannot run on the sparql backend (the server would fetch "
                              "the document itself); load the file with `practicebank load` "
                              "instead")
    if len(operations) == 1 and operations[0].kind in ("DELETE WHERE", "MODIFY"):
        return pattern_changes(store, operations[0], base_iri=base_iri, deadline=deadline)
    return scratch_changes(store, text, operations, base_iri=base_iri, deadline=deadline)


def not_implemented(what: str) -> EndpointError:
    return EndpointError(501, "not_implemented", f"{what}. Nothing was changed.")


# -- DELETE/INSERT … WHERE ------------------------------------------------------------------


def pattern_changes(store: Store, op: Operation, *, base_iri: str | None,
                    deadline: Deadline) -> ChangeSet:
    """Evaluate the WHERE pattern on the server, fill in the templates here."""
    parts = op.parts
    dataset = parts.get("from") or (f"FROM {parts['with']}" if "with" in parts else "")
    select = (f"{op.prologue}SELECT * {dataset} WHERE {parts['where']} "
              f"LIMIT {MAX_SOLUTIONS + 1}")
    solutions = store.query(select, base_iri=base_iri, timeout=max(deadline.left(), 0.01))
    names = [v.value for v in solutions.variables]
    rows = [[row[name] for name in names] for row in solutions]
    deadline.check()
    if len(rows) > MAX_SOLUTIONS:
        raise EndpointError(413, "too_many_solutions",
                            f"The update's WHERE pattern matches more than {MAX_SOLUTIONS:,} "
                            "solutions; nothing was changed. Narrow it, or change the data "
                            "in parts.")
    if any(isinstance(term, ox.BlankNode) for row in rows for term in row):
        raise not_implemented("The update's WHERE pattern matches blank nodes, which cannot "
                              "be named back to the server; match IRIs instead")
    values = _values(names, rows)
    deleted = _fill(op, "delete", values, base_iri)
    inserted = _fill(op, "insert", values, base_iri)
    deadline.check()
    present = held(store, deleted + inserted, deadline)
    new = dict.fromkeys(inserted)
    return ChangeSet(removed=[q for q in dict.fromkeys(deleted) if q in present and q not in new],
                     added=[q for q in new if q not in present])


def _values(names: list[str], rows: list[list]) -> str:
    head = " ".join(f"?{name}" for name in names)
    body = " ".join("(" + " ".join("UNDEF" if t is None else str(t) for t in row) + ")"
                    for row in rows)
    return f"VALUES ({head}) {{ {body} }}"


def _fill(op: Operation, template: str, values: str, base_iri: str | None) -> list[ox.Quad]:
    """The quads ``template`` gives for each solution in ``values``, in a scratch store."""
    if template not in op.parts:
        return []
    scratch = ox.Store()
    with_ = f"WITH {op.parts['with']} " if "with" in op.parts else ""
    scratch.update(f"{op.prologue}{with_}INSERT {op.parts[template]} WHERE {{ {values} }}",
                   base_iri=base_iri)
    return list(scratch)


def held(store: Store, quads: list[ox.Quad], deadline: Deadline,
         chunk: int = 400) -> set[ox.Quad]:
    """Which of ``quads`` the store holds, asked a few hundred at a time."""
    view = store.view()
    named = [q for q in dict.fromkeys(quads) if isinstance(q.graph_name, ox.NamedNode)
             and not _has_blank_node(q)]
    found = {q for q in dict.fromkeys(quads) if isinstance(q.graph_name, ox.DefaultGraph)
             and not _has_blank_node(q) and q in view}
    for start in range(0, len(named), chunk):
        part = named[start:start + chunk]
        rows = " ".join(f"({q.subject} {q.predicate} {q.object} {q.graph_name})" for q in part)
        answer = store.query(f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p ?o ?g) {{ {rows} }} "
                             "GRAPH ?g { ?s ?p ?o } }", timeout=max(deadline.left(), 0.01))
        found |= {ox.Quad(r["s"], r["p"], r["o"], r["g"]) for r in answer}
        deadline.check()
    return found


def _has_blank_node(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


# -- on a scratch copy: graph operations, several operations, the rest -------------------


def scratch_changes(store: Store, text: str, operations: list[Operation] | None, *,
                    base_iri: str | None, deadline: Deadline) -> ChangeSet:
    """Run the update on a scratch copy of the graphs it can read or write (every graph of
    ours, and the default graph, when that cannot be known); the difference."""
    named = set(store.named_graphs())
    involved = graphs_involved(operations, base_iri)
    if involved is None:
        involved = {DEFAULT, *named}
    before, after = ox.Store(), ox.Store()
    copied = 0
    for graph in involved:
        if isinstance(graph, ox.NamedNode) and (graph in named
                                                or store.contains_named_graph(graph)):
            before.add_graph(graph)  # an empty graph exists too (CREATE would fail)
            after.add_graph(graph)
        quads = list(store.quads_of(graph))
        copied += len(quads)
        if copied > MAX_COPIED:
            raise EndpointError(413, "too_large",
                                f"The graphs this update reads or writes hold more than "
                                f"{MAX_COPIED:,} triples, too many to plan it on the sparql "
                                "backend; nothing was changed. Send one operation per "
                                "request, name its graphs (GRAPH <…>), or run it on the "
                                "server itself.")
        before.extend(quads)
        after.extend(quads)
        deadline.check()
    after.update(text, base_iri=base_iri)
    deadline.check()
    dropped, created, removed, added = shadow_update.changes_between(before, after,
                                                                     list(involved))
    return ChangeSet(dropped, created, removed, added)


def graphs_involved(operations: list[Operation] | None, base_iri: str | None
                    ) -> set[ox.NamedNode | ox.DefaultGraph] | None:
    """The graphs ``operations`` can write or read, or None when that cannot be known (any
    graph: ``GRAPH ?g``, ``ALL``, ``NAMED``, an update not followed)."""
    if operations is None:
        return None
    found: set[ox.NamedNode | ox.DefaultGraph] = set()
    for op in operations:
        if op.graphs is None:
            return None
        found |= op.graphs
        read = op.parts.get("read")
        if read:  # what CREATE, ADD, COPY and MOVE read besides what they write
            found.add(DEFAULT if read == "DEFAULT" else ox.NamedNode(read[1:-1]))
        if "where" in op.parts:
            reads = _pattern_reads(op, base_iri)
            if reads is None:
                return None
            found |= reads
    return found


def _pattern_reads(op: Operation, base_iri: str | None
                   ) -> set[ox.NamedNode | ox.DefaultGraph] | None:
    """The graphs a DELETE/INSERT's ``WHERE`` reads: its default graph (``WITH``, the
    ``USING`` graphs, or the store's) and each ``GRAPH <g>``; None for ``GRAPH ?g``."""
    found: set[ox.NamedNode | ox.DefaultGraph] = set()
    using = re.findall(r"FROM (NAMED )?<([^>]*)>", op.parts.get("from", ""))
    found |= {ox.NamedNode(iri) for _, iri in using}
    if "with" in op.parts:
        found.add(ox.NamedNode(op.parts["with"][1:-1]))
    if not any(not named for named, _ in using):
        found.add(DEFAULT)  # the default graph is read unless USING names it
    tokens = tokenize(op.parts["where"])
    for i, token in enumerate(tokens[:-1]):
        if not token.is_word("GRAPH"):
            continue
        name = tokens[i + 1]
        if name.kind not in ("iri", "pname"):
            return None
        try:
            found.add(ox.NamedNode(resolve_iri(name.text, op.prologue, base_iri=base_iri)))
        except ValueError:
            return None
    return found
