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
* ``CLEAR``, ``DROP``, ``CREATE``, ``ADD``, ``COPY``, ``MOVE`` read only the graphs they
  name: those are copied into a scratch store, the operation runs there, and the difference
  is the change.

Two kinds are refused with 501 and a way forward: ``LOAD`` (the server would fetch the
document itself, outside this endpoint's allowlist proxy), and several operations in one
request when one of them is not ``INSERT DATA``/``DELETE DATA`` (each operation sees what
the ones before it did, which a plan made from the server as it is cannot see).
"""

from __future__ import annotations

import pyoxigraph as ox

from practicebank.backend import Store
from practicebank.journal import ChangeSet

from . import shadow_update
from .errors import EndpointError
from .update_ops import DATA_KINDS, Operation
from .write_deadline import Deadline

#: Solutions of a WHERE pattern one update may have on a remote store.
MAX_SOLUTIONS = 100_000
#: Quads the graphs of one graph operation (CLEAR, COPY …) may hold on a remote store.
MAX_COPIED = 1_000_000
GRAPH_OPERATIONS = ("CLEAR", "DROP", "CREATE", "ADD", "COPY", "MOVE")
DEFAULT = ox.DefaultGraph()


def remote_changes(store: Store, text: str, operations: list[Operation] | None, *,
                   base_iri: str | None, deadline: Deadline) -> ChangeSet:
    """The change ``text`` (read as ``operations``) would make on ``store``."""
    if not operations:
        raise not_implemented("This update's structure could not be followed")
    if len(operations) > 1:
        raise not_implemented(
            "Several operations in one update, not all INSERT DATA/DELETE DATA, cannot be "
            "planned on the sparql backend (each would see what the one before did); send "
            "them as one request each")
    op = operations[0]
    if op.kind in ("DELETE WHERE", "MODIFY"):
        return pattern_changes(store, op, base_iri=base_iri, deadline=deadline)
    if op.kind in GRAPH_OPERATIONS:
        return graph_changes(store, text, op, base_iri=base_iri, deadline=deadline)
    if op.kind in DATA_KINDS:  # data the lexer could not split: it names the error
        ox.Store().update(text, base_iri=base_iri)
    raise not_implemented(f"{op.kind} cannot run on the sparql backend (the server would "
                          "fetch the document itself); load the file with `practicebank "
                          "load` instead")


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


# -- CLEAR, DROP, CREATE, ADD, COPY, MOVE ---------------------------------------------------


def graph_changes(store: Store, text: str, op: Operation, *, base_iri: str | None,
                  deadline: Deadline) -> ChangeSet:
    """Run the operation on a scratch copy of the graphs it names; the difference."""
    named = {g for g in store.named_graphs()}
    involved: set[ox.NamedNode | ox.DefaultGraph] = set(named if op.graphs is None
                                                        else op.graphs)
    read = op.parts.get("read")
    if read:
        involved.add(DEFAULT if read == "DEFAULT" else ox.NamedNode(read[1:-1]))
    view = store.view()
    before, after = ox.Store(), ox.Store()
    copied = 0
    for graph in involved:
        if isinstance(graph, ox.NamedNode) and graph in named:
            before.add_graph(graph)
            after.add_graph(graph)
        quads = list(view.quads_for_pattern(None, None, None, graph))
        copied += len(quads)
        if copied > MAX_COPIED:
            raise EndpointError(413, "too_large",
                                f"The graphs this update names hold more than {MAX_COPIED:,} "
                                "triples, too many to plan it on the sparql backend; nothing "
                                "was changed. Run it on the server itself.")
        before.extend(quads)
        after.extend(quads)
        deadline.check()
    after.update(text, base_iri=base_iri)
    dropped, created, removed, added = shadow_update.changes_between(before, after,
                                                                     list(involved))
    return ChangeSet(dropped, created, removed, added)
