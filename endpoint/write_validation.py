"""Validating a write before it is applied: the store as it would be, around what changes.

A write changes few nodes of a large store, and SHACL results depend on a node's own
description in its graph, the descriptions of the nodes it points at (``sh:class``, our
SPARQL constraints) and the types the store states for those anywhere. So, for each data
graph, the nodes to validate are:

* the subjects of removed or added quads in that graph (their descriptions changed);
* the nodes of that graph that point at those subjects (what they point at changed);
* the nodes of any data graph that point at a node whose types changed anywhere: a practice
  whose organisation was deleted must now fail its ``sh:class pb:Organisation``. This is
  what makes removals validated like additions.

Their descriptions *after* the write are put together from the store (before) and the
change, in a scratch store in memory, with blank nodes as skolem IRIs (so a blank node
typed ``schema:Person`` is a focus node like any other), and validated with the same
:func:`~practicebank.validation.validate_store` as a load, given the types the
store would state after the write. Nothing is written to the store until this has passed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from practicebank.journal import ChangeSet
from practicebank.problems import Problem
from practicebank.store_reads import STAGING_PREFIX
from practicebank.validation import CHUNK_SIZE, SKOLEM_PREFIX, focus_nodes, validate_store

from .write_deadline import Deadline
from .write_plans import is_data_graph

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SCRATCH = ox.NamedNode("urn:practicebank:write")
Node = ox.NamedNode | ox.BlankNode


def check_change(store: ox.Store, change: ChangeSet, deadline: Deadline) -> list[Problem]:
    """Every SHACL problem the data graphs would have where ``change`` touches them."""
    if not any(is_data_graph(g) for g in change.graphs()):
        return []
    after = After(store, change)
    problems: list[Problem] = []
    for graph, nodes in sorted(after.focus().items(), key=lambda item: item[0].value):
        deadline.check()
        scratch = after.scratch(graph, nodes)
        among = [_name(n) for n in nodes]
        focus = focus_nodes(scratch, SCRATCH, after.types, among=among)
        for start in range(0, len(focus), 2 * CHUNK_SIZE):  # two chunks run at once
            deadline.check()
            problems += validate_store(scratch, SCRATCH, focus=focus[start:start + 2 * CHUNK_SIZE],
                                       outside=after.types, file=f"graph <{graph.value}>").problems
    return problems


class After:
    """The store as it would be after ``change``, read through the store as it is."""

    def __init__(self, store: ox.Store, change: ChangeSet) -> None:
        self.store = store
        self.dropped = change.dropped
        self.removed = set(change.removed)
        self.added: dict[tuple, list[ox.Quad]] = defaultdict(list)
        self.added_types: dict[Node, list[ox.Quad]] = defaultdict(list)
        for quad in change.added:
            self.added[(quad.graph_name, quad.subject)].append(quad)
            if quad.predicate == RDF_TYPE:
                self.added_types[quad.subject].append(quad)
        self.changed = [*change.removed, *change.added]

    def kept(self, quads: Iterable[ox.Quad]) -> list[ox.Quad]:
        return [q for q in quads if q not in self.removed and q.graph_name not in self.dropped]

    def description(self, node: Node, graph: ox.NamedNode) -> list[ox.Quad]:
        """The quads about ``node`` in ``graph`` after the change."""
        return (self.kept(self.store.quads_for_pattern(node, None, None, graph))
                + self.added.get((graph, node), []))

    def focus(self) -> dict[ox.NamedNode, set[Node]]:
        """The nodes to validate, per data graph (see the module docstring)."""
        found: dict[ox.NamedNode, set[Node]] = defaultdict(set)
        subjects: dict[Node, set] = defaultdict(set)  # node -> graphs it changed in
        retyped: set[Node] = set()
        for quad in self.changed:
            if isinstance(quad.subject, ox.NamedNode | ox.BlankNode):
                subjects[quad.subject].add(quad.graph_name)
                if is_data_graph(quad.graph_name) and quad.graph_name not in self.dropped:
                    found[quad.graph_name].add(quad.subject)
                if quad.predicate == RDF_TYPE:
                    retyped.add(quad.subject)
        for node, graphs in subjects.items():
            for quad in self.kept(self.store.quads_for_pattern(None, None, node, None)):
                graph = quad.graph_name
                if is_data_graph(graph) and (graph in graphs or node in retyped) and \
                        isinstance(quad.subject, ox.NamedNode | ox.BlankNode):
                    found[graph].add(quad.subject)
        return found

    def scratch(self, graph: ox.NamedNode, nodes: set[Node]) -> ox.Store:
        """The descriptions after the change of ``nodes`` and of the nodes they point at, in
        graph ``graph``, as one scratch graph with blank nodes skolemised."""
        quads, seen, todo = [], set(), list(nodes)
        level = {n: 0 for n in nodes}
        while todo:
            node = todo.pop()
            if node in seen:
                continue
            seen.add(node)
            for quad in self.description(node, graph):
                quads.append(ox.Quad(_skolem(quad.subject), quad.predicate,
                                     _skolem(quad.object), SCRATCH))
                target = quad.object
                # One step out, and on through blank nodes (they belong to their owner).
                if isinstance(target, ox.NamedNode | ox.BlankNode) and target not in seen and (
                        level[node] == 0 or isinstance(target, ox.BlankNode)):
                    level.setdefault(target, level[node] + 1)
                    todo.append(target)
        scratch = ox.Store()
        scratch.extend(quads)
        return scratch

    def types(self, iris: list[str]) -> dict[str, set[str]]:
        """The types the store would state for ``iris`` after the change, in any named graph
        (as :meth:`~practicebank.store.PracticeStore.types_of` gives a load: queries
        see the union of the named graphs, never the default graph)."""
        found: dict[str, set[str]] = {}
        for iri in iris:
            node = _node(iri)
            quads = [*self.kept(self.store.quads_for_pattern(node, RDF_TYPE, None, None)),
                     *self.added_types.get(node, [])]
            kinds = {q.object.value for q in quads if _counts(q.graph_name)}
            if kinds:
                found[iri] = kinds
        return found


def _skolem(term):
    return ox.NamedNode(SKOLEM_PREFIX + term.value) if isinstance(term, ox.BlankNode) else term


def _name(node: Node) -> str:
    return SKOLEM_PREFIX + node.value if isinstance(node, ox.BlankNode) else node.value


def _node(iri: str) -> Node:
    if iri.startswith(SKOLEM_PREFIX):
        return ox.BlankNode(iri[len(SKOLEM_PREFIX):])
    return ox.NamedNode(iri)


def _counts(graph) -> bool:
    """Whether types stated in ``graph`` count: named graphs other than a load's staging."""
    return isinstance(graph, ox.NamedNode) and not graph.value.startswith(STAGING_PREFIX)
