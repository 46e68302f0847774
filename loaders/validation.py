"""SHACL validation of RDF before it enters the store.

The data is validated together with the bundled ontology, vocabularies and reference data
(the *context*), so that ``sh:class`` checks on concepts and forces work the same on an empty
store. Only the nodes the data itself describes are validated (pyshacl's ``focus_nodes``):
the context is checked by the test suite, not on every load, which makes a small load
about twenty times faster.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import pyshacl
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from .problems import ERROR, WARNING, Problem
from .resources import CONTEXT_BUNDLES, bundle_graph, shapes_graph

SKOLEM_PREFIX = str(BNode("x").skolemize())[:-1]  # what rdflib puts before a blank node id
SEVERITY = {SH.Violation: ERROR, SH.Warning: WARNING, SH.Info: WARNING}


@lru_cache(maxsize=1)
def cached_shapes() -> Graph:
    return shapes_graph()


@lru_cache(maxsize=1)
def cached_context() -> Graph:
    return bundle_graph(*CONTEXT_BUNDLES)


def validate_graph(
    data: Graph,
    *,
    file: str | None = None,
    rows: Mapping[Node, tuple[int, str | None]] | None = None,
    extra_context: Graph | None = None,
) -> list[Problem]:
    """Validate ``data`` against the shapes; return its problems (empty when it conforms).

    ``rows`` maps focus nodes to the (row, column) of the input they came from, so a CSV
    load can say which row a shape failed on. ``extra_context`` adds what else is known
    (other files of the same command, the types the store holds for referenced nodes).
    """
    # pyshacl takes IRIs only as focus nodes, so blank nodes are validated as skolem IRIs.
    data = data.skolemize()
    rows = {_skolem(node): where for node, where in (rows or {}).items()}
    combined = Graph()
    for source in (data, cached_context(), extra_context or ()):
        for triple in source:
            combined.add(triple)
    conforms, report, _ = pyshacl.validate(
        combined,
        shacl_graph=cached_shapes(),
        inference="none",
        # Only the nodes the data describes are checked; the context is checked by the tests.
        focus_nodes=list(set(data.subjects())),
        allow_warnings=True,
        abort_on_first=False,
    )
    if conforms and not any(report.subjects(SH.resultSeverity, SH.Warning)):
        return []
    problems = []
    for result in report.subjects(SH.resultSeverity, None):
        focus = report.value(result, SH.focusNode)
        row, column = rows.get(focus, (None, None))
        problems.append(
            Problem(
                severity=SEVERITY.get(report.value(result, SH.resultSeverity), ERROR),
                message=str(report.value(result, SH.resultMessage) or "Constraint not met."),
                file=file,
                row=row,
                column=column,
                focus=_show(focus),
                path=_show(report.value(result, SH.resultPath)),
                value=_show(report.value(result, SH.value)),
                shape=_shape_name(report, result),
            )
        )
    problems.sort(key=lambda p: (p.row or 0, p.focus or "", p.path or "", p.message))
    return problems


def _skolem(node: Node) -> Node:
    return node.skolemize() if isinstance(node, BNode) else node


def _show(node: Node | None) -> str | None:
    """How a node is named in a report: IRIs and literals as text, blank nodes as _:id."""
    if node is None:
        return None
    if isinstance(node, URIRef) and node.startswith(SKOLEM_PREFIX):
        return "_:" + node[len(SKOLEM_PREFIX):]
    if isinstance(node, URIRef | Literal):
        return str(node)
    return node.n3()


def _shape_name(report: Graph, result: Node) -> str | None:
    """The named node shape a result came from (property shapes are blank nodes)."""
    shape = report.value(result, SH.sourceShape)
    if isinstance(shape, URIRef):
        return str(shape)
    shapes = cached_shapes()
    parent = shapes.value(None, SH.property, shape) if shape is not None else None
    return str(parent) if isinstance(parent, URIRef) else None
