"""The results of a SHACL validation report, read from either form an engine gives.

pyshacl gives an rdflib report graph. pyshacl-turbo computes its report in Rust as
N-Triples text and then parses that text into an rdflib graph in Python. That parse cost
more than the validation itself: a 2,000-node chunk of generated practices (one warning per
assessment) took 1.8 s to validate and 1.6 s more to become an rdflib graph. So the turbo
engine hands over the text, and :func:`from_ntriples` reads it with Oxigraph's parser and
keeps only the fields a :class:`~practicebank.problems.Problem` needs. :func:`from_graph`
reads an rdflib report (pyshacl's, or turbo's when the report itself is kept for
``--report``). ``tests/test_engines.py`` checks that both give the same results.

A result's terms are *shown* as a report names them: IRIs and literals as their text, blank
nodes as ``_:id``, and skolem IRIs (how validation names the data's blank nodes) as the
blank node they stand for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

#: What rdflib puts before a blank node's id when it skolemises it.
SKOLEM_PREFIX = str(BNode("x").skolemize())[:-1]


@dataclass(frozen=True)
class Result:
    """One validation result: what a problem is made of."""

    severity: str                 # the severity's IRI (sh:Violation, sh:Warning, sh:Info)
    focus: str | None
    path: str | None
    value: str | None
    messages: tuple[str, ...]     # every sh:resultMessage, sorted
    shape: Node | None            # the source shape as the shapes graph names it


#: The predicates of a result read into a Result.
FIELDS = (SH.resultSeverity, SH.focusNode, SH.resultPath, SH.value, SH.resultMessage,
          SH.sourceShape)


def from_graph(report: Graph) -> list[Result]:
    """The results of an rdflib report graph, read one predicate at a time (a lookup per
    field per result took two thirds of a large file's validation)."""
    fields: dict[Node, dict[Node, list[Node]]] = {}
    for predicate in FIELDS:
        for result, value in report.subject_objects(predicate):
            fields.setdefault(result, {}).setdefault(predicate, []).append(value)
    return [Result(severity=str(found[SH.resultSeverity][0]),
                   focus=show(_first(found, SH.focusNode)),
                   path=show(_first(found, SH.resultPath)),
                   value=show(_first(found, SH.value)),
                   messages=tuple(sorted(str(m) for m in found.get(SH.resultMessage, []))),
                   shape=_first(found, SH.sourceShape))
            for found in fields.values() if SH.resultSeverity in found]


def from_ntriples(report: str, shape_nodes: Mapping[str, Node]) -> list[Result]:
    """The results of a report given as N-Triples text. ``shape_nodes`` maps the blank node
    ids the text uses for the shapes graph's blank nodes (property shapes) to those nodes."""
    wanted = {str(p): p for p in FIELDS}
    fields: dict[str, dict[Node, list[ox.NamedNode | ox.BlankNode | ox.Literal]]] = {}
    for triple in ox.parse(report, format=ox.RdfFormat.N_TRIPLES, rename_blank_nodes=False):
        predicate = wanted.get(triple.predicate.value)
        if predicate is not None:
            fields.setdefault(triple.subject.value, {}).setdefault(predicate, []) \
                .append(triple.object)
    results = []
    for found in fields.values():
        if SH.resultSeverity not in found:
            continue
        shape = _first(found, SH.sourceShape)
        results.append(Result(
            severity=found[SH.resultSeverity][0].value,
            focus=_show_term(_first(found, SH.focusNode)),
            path=_show_term(_first(found, SH.resultPath)),
            value=_show_term(_first(found, SH.value)),
            messages=tuple(sorted(m.value for m in found.get(SH.resultMessage, []))),
            shape=(None if shape is None else URIRef(shape.value)
                   if isinstance(shape, ox.NamedNode) else shape_nodes.get(shape.value)
                   or BNode(shape.value)),
        ))
    return results


def _first(found: Mapping, predicate: Node):
    values = found.get(predicate)
    return values[0] if values else None


def show(node: Node | None) -> str | None:
    """How a report names an rdflib node: IRIs and literals as text, blank nodes as _:id."""
    if node is None:
        return None
    if isinstance(node, URIRef) and node.startswith(SKOLEM_PREFIX):
        return "_:" + node[len(SKOLEM_PREFIX):]
    if isinstance(node, URIRef | Literal):
        return str(node)
    return node.n3()


def _show_term(term: ox.NamedNode | ox.BlankNode | ox.Literal | None) -> str | None:
    """:func:`show` for an Oxigraph term."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode) and term.value.startswith(SKOLEM_PREFIX):
        return "_:" + term.value[len(SKOLEM_PREFIX):]
    return term.value
