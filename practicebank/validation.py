"""SHACL validation of data before it enters the store, at a cost in proportion to what the
shapes target.

The data to validate sits in one named graph of an Oxigraph store (the load's staging graph).
Validation then:

1. finds the *focus nodes* with SPARQL: the subjects of that graph that some shape targets
   (``sh:targetClass`` with its subclasses, ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``,
   ``sh:targetNode``), also when their type is stated elsewhere (the bundled context, other
   graphs of the store). A file of triples no shape targets costs one query;
2. cuts the focus nodes into chunks and, for each, takes its *neighbourhood* with one
   CONSTRUCT: every triple of the graph about a focus node, and about the nodes they point
   to (what ``sh:class`` and our SPARQL constraints look at);
3. validates each neighbourhood, together with the bundled ontology, vocabularies and
   reference data (the *context*) and the types the store already holds for the nodes it
   points at, with a SHACL engine (:mod:`.engines`), chunks in parallel threads where the
   engine allows.

Only the focus nodes are validated; the context is checked by the test suite. Each result
becomes a :class:`Problem` with the input's row and column where the converter recorded them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.term import Node

from .engines import Engine, cached_context, cached_shapes, choose
from .problems import ERROR, WARNING, Locate, Problem, default_locate
from .shacl_results import SKOLEM_PREFIX, Result, from_graph

SEVERITY = {SH.Violation: ERROR, SH.Warning: WARNING, SH.Info: WARNING}
CHUNK_SIZE = 2000
SCRATCH_GRAPH = ox.NamedNode("urn:practicebank:validate")

# -- what the shapes target --------------------------------------------------------------------

@dataclass(frozen=True)
class Targets:
    """Everything the shapes target, read once from the shapes and the ontology."""

    classes: frozenset[str]        # target classes and all their subclasses
    subjects_of: frozenset[str]
    objects_of: frozenset[str]
    nodes: frozenset[str]
    class_paths: frozenset[str]    # predicates whose values a shape checks with sh:class


@lru_cache(maxsize=1)
def targets() -> Targets:
    shapes, context = cached_shapes(), cached_context()
    classes = {o for o in shapes.objects(None, SH.targetClass)}
    todo = list(classes)
    while todo:  # rdfs:subClassOf*, as SHACL's class targets include subclass instances
        for sub in context.subjects(RDFS.subClassOf, todo.pop()):
            if isinstance(sub, URIRef) and sub not in classes:
                classes.add(sub)
                todo.append(sub)
    class_paths = {shapes.value(s, SH.path) for s in shapes.subjects(SH["class"], None)}
    return Targets(
        classes=_iris(classes),
        subjects_of=_iris(shapes.objects(None, SH.targetSubjectsOf)),
        objects_of=_iris(shapes.objects(None, SH.targetObjectsOf)),
        nodes=_iris(shapes.objects(None, SH.targetNode)),
        class_paths=frozenset(str(p) for p in class_paths if isinstance(p, URIRef)),
    )


def _iris(nodes: Iterable[Node]) -> frozenset[str]:
    return frozenset(str(n) for n in nodes if isinstance(n, URIRef))


@lru_cache(maxsize=1)
def context_types() -> dict[str, frozenset[str]]:
    """The classes the bundled context states for IRIs (blank nodes, such as an OWL class
    expression, can be neither a focus node nor named in a query)."""
    found: dict[str, set[str]] = {}
    for s, t in cached_context().subject_objects(RDF.type):
        if isinstance(s, URIRef) and isinstance(t, URIRef):
            found.setdefault(str(s), set()).add(str(t))
    return {s: frozenset(t) for s, t in found.items()}


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{iri}>" for iri in iris)


def _column(store: ox.Store, query: str, name: str) -> list[str]:
    return [row[name].value for row in store.query(query)]


#: Types stated outside the graph being validated (other graphs of the store, other files of
#: the same command) for some IRIs: IRI -> its classes.
Outside = Callable[[list[str]], Mapping[str, Iterable[str]]]


def focus_nodes(store: ox.Store, graph: ox.NamedNode, outside: Outside | None = None,
                among: Iterable[str] | None = None) -> list[str]:
    """The subjects of ``graph`` (or of those named in ``among``) that a shape targets, in a
    stable order. A subject typed only in the context or outside the graph counts too."""
    t = targets()
    g = graph.value
    limit = ""
    if among is not None:
        among = sorted(set(among))
        if not among:
            return []
        limit = f"VALUES ?s {{ {_values(among)} }} "
    found: set[str] = set()
    found.update(_column(store, f"SELECT DISTINCT ?s WHERE {{ {limit}VALUES ?c "
                                f"{{ {_values(t.classes)} }} GRAPH <{g}> {{ ?s a ?c }} "
                                "FILTER isIRI(?s) }", "s"))
    if t.subjects_of:
        found.update(_column(store, f"SELECT DISTINCT ?s WHERE {{ {limit}VALUES ?p "
                                    f"{{ {_values(t.subjects_of)} }} GRAPH <{g}> {{ ?s ?p ?o }} "
                                    "FILTER isIRI(?s) }", "s"))
    if t.objects_of:
        found.update(_column(store, f"SELECT DISTINCT ?s WHERE {{ VALUES ?p "
                                    f"{{ {_values(t.objects_of)} }} GRAPH <{g}> {{ ?x ?p ?s }} "
                                    "FILTER isIRI(?s) }", "s"))
    if t.nodes:
        found.update(_column(store, f"SELECT DISTINCT ?s WHERE {{ VALUES ?s "
                                    f"{{ {_values(t.nodes)} }} GRAPH <{g}> {{ ?s ?p ?o }} }}", "s"))
    # Subjects typed in the bundled context (forces the police API describes, concepts…).
    in_context = [s for s, types in context_types().items() if types & t.classes]
    if among is not None:
        in_context = [s for s in in_context if s in set(among)]
    for start in range(0, len(in_context), 500):
        found.update(_column(store, f"SELECT DISTINCT ?s WHERE {{ VALUES ?s "
                                    f"{{ {_values(in_context[start:start + 500])} }} "
                                    f"GRAPH <{g}> {{ ?s ?p ?o }} }}", "s"))
    # Subjects typed only elsewhere in the store.
    if outside is not None:
        candidates = [s for s in untyped_subjects(store, graph, among)
                      if s not in found and s not in context_types()]
        for s, types in (outside(candidates).items() if candidates else ()):
            if set(types) & t.classes:
                found.add(s)
    if among is not None:
        found &= set(among)
    return sorted(found)


#: What the rest of the store says about some IRIs, as N-Triples.
Describe = Callable[[list[str]], bytes]


def _object_iris(ntriples: bytes) -> set[str]:
    if not ntriples:
        return set()
    return {t.object.value for t in ox.parse(ntriples, format=ox.RdfFormat.N_TRIPLES)
            if isinstance(t.object, ox.NamedNode)}


def untyped_subjects(store: ox.Store, graph: ox.NamedNode,
                     among: Iterable[str] | None = None) -> list[str]:
    limit = f"VALUES ?s {{ {_values(among)} }} " if among is not None else ""
    return _column(store, f"SELECT DISTINCT ?s WHERE {{ {limit}GRAPH {graph} {{ ?s ?p ?o "
                          f"FILTER NOT EXISTS {{ ?s a ?t }} }} FILTER isIRI(?s) }}", "s")


def referenced_iris(store: ox.Store, graph: ox.NamedNode, focus: list[str]) -> list[str]:
    """IRIs whose types validating ``focus`` may need from outside the graph: focus nodes
    untyped in it, and untyped values of the properties a shape checks with ``sh:class``."""
    t = targets()
    # FILTER ... IN, not a second VALUES: Oxigraph would join the two VALUES lists first.
    paths = ", ".join(f"<{p}>" for p in sorted(t.class_paths))
    objects = _column(store, f"SELECT DISTINCT ?o WHERE {{ VALUES ?s {{ {_values(focus)} }} "
                             f"GRAPH {graph} {{ ?s ?p ?o FILTER (isIRI(?o) && ?p IN ({paths})) "
                             "FILTER NOT EXISTS { ?o a ?t } } }", "o")
    untyped = _column(store, f"SELECT ?s WHERE {{ VALUES ?s {{ {_values(focus)} }} "
                             f"FILTER NOT EXISTS {{ GRAPH {graph} {{ ?s a ?t }} }} }}", "s")
    known = context_types()
    return sorted({i for i in [*objects, *untyped] if i not in known})


# -- neighbourhoods --------------------------------------------------------------------------

def neighbourhood(store: ox.Store, graph: ox.NamedNode, focus: list[str]) -> bytes:
    """N-Triples of every triple of ``graph`` about the focus nodes and the nodes they
    point to."""
    values = _values(focus)
    query = (
        f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ "
        f"{{ SELECT DISTINCT ?x WHERE {{ {{ VALUES ?x {{ {values} }} }} UNION "
        f"{{ VALUES ?s {{ {values} }} GRAPH {graph} {{ ?s ?q ?x }} "
        f"FILTER (!isLiteral(?x)) }} }} }} "
        f"GRAPH {graph} {{ ?x ?p ?o }} }}"
    )
    return store.query(query).serialize(format=ox.RdfFormat.N_TRIPLES)


def types_ntriples(types: Mapping[str, Iterable[str]]) -> bytes:
    return "".join(f"<{s}> <{RDF.type}> <{t}> .\n" for s, ts in types.items()
                   for t in ts).encode("utf-8")


# -- running and reporting --------------------------------------------------------------------

@dataclass
class Validation:
    """What validation found, and the engine's reports when asked to keep them."""

    problems: list[Problem] = field(default_factory=list)
    focus: int = 0
    engine: str = ""
    reports: list[Graph] = field(default_factory=list)

    def report_graph(self) -> Graph:
        """One SHACL validation report for all chunks (``--report ttl``)."""
        merged = Graph()
        merged.bind("sh", SH)
        node = BNode()
        merged.add((node, RDF.type, SH.ValidationReport))
        merged.add((node, SH.conforms, Literal(not any(p.is_error for p in self.problems))))
        for report in self.reports:
            for top in set(report.subjects(RDF.type, SH.ValidationReport)):
                for result in report.objects(top, SH.result):
                    merged.add((node, SH.result, result))
            for s, p, o in report:
                if (s, RDF.type, SH.ValidationReport) not in report:
                    merged.add((s, p, o))
        return merged


def validate_store(
    store: ox.Store,
    graph: ox.NamedNode,
    *,
    focus: list[str] | None = None,
    outside: Outside | None = None,
    extra: bytes = b"",
    file: str | None = None,
    rows: Mapping[str, tuple[int | None, str | None]] | None = None,
    locate: Locate = default_locate,
    engine: str | Engine | None = None,
    chunk_size: int = CHUNK_SIZE,
    workers: int | None = None,
    keep_reports: bool = False,
    progress: Callable[[int], None] | None = None,
    described: Describe | None = None,
) -> Validation:
    """Validate the focus nodes of ``graph`` in ``store`` (all targeted subjects unless
    ``focus`` names some); ``outside`` gives the types the rest of the world states for
    IRIs the graph mentions, ``extra`` is more N-Triples to validate with. ``described``
    gives what the rest of the store says about a node: a focus node typed only elsewhere
    (a graph that adds a link to a practice another graph describes) is validated with its
    whole description, not with the one link, which alone would lack its title."""
    chosen = engine if isinstance(engine, Engine) else choose(engine)
    if focus is None:
        focus = focus_nodes(store, graph, outside)
    result = Validation(focus=len(focus), engine=chosen.name)
    if not focus:
        return result
    chunks = [focus[i:i + chunk_size] for i in range(0, len(focus), chunk_size)]

    def run(chunk: list[str]) -> tuple[list[Result], Graph | None]:
        data = neighbourhood(store, graph, chunk) + extra
        elsewhere = b""
        if described is not None:
            typed_elsewhere = untyped_subjects(store, graph, chunk)
            elsewhere = described(typed_elsewhere) if typed_elsewhere else b""
        if outside is not None:
            iris = set(referenced_iris(store, graph, chunk)) | _object_iris(elsewhere)
            data += types_ntriples(outside(sorted(iris)) if iris else {})
        if keep_reports:
            report = chosen.run(data + elsewhere, chunk)
            return from_graph(report), report
        return chosen.results(data + elsewhere, chunk), None

    threads = 1 if not chosen.parallel else (workers or min(4, os.cpu_count() or 1))
    where = {str(k): v for k, v in (rows or {}).items()}
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for chunk, (results, report) in zip(chunks, pool.map(run, chunks), strict=True):
            result.problems += problems_from(results, file=file, rows=where, locate=locate)
            if report is not None:
                result.reports.append(report)
            if progress is not None:
                progress(len(chunk))
    result.problems.sort(key=lambda p: (p.row or 0, p.focus or "", p.path or "", p.message))
    return result


def problems_from(results: list[Result], *, file: str | None,
                  rows: Mapping[str, tuple[int | None, str | None]],
                  locate: Locate = default_locate) -> list[Problem]:
    """The results as problems, placed at the input's row and column where known."""
    problems = []
    for found in results:
        row, column = rows.get(str(found.focus), (None, None))
        problems.append(Problem(
            severity=SEVERITY.get(URIRef(found.severity), ERROR),
            message=_message(found.messages, found.shape),
            file=file,
            focus=found.focus,
            path=found.path,
            value=found.value,
            shape=_shape_name(found.shape),
            **locate(row, column),
        ))
    return problems


def validate_graph(
    data: Graph,
    *,
    file: str | None = None,
    rows: Mapping[Node, tuple[int, str | None]] | None = None,
    extra_context: Graph | None = None,
    engine: str | Engine | None = None,
) -> list[Problem]:
    """Validate an rdflib graph against the shapes; return its problems (empty when it
    conforms). Every subject of ``data`` that a shape targets is checked, with the context
    and ``extra_context`` (other files of the same command, types the store holds)."""
    # Blank nodes are validated as skolem IRIs (pyshacl takes IRIs only as focus nodes).
    data = data.skolemize()
    where = {str(_skolem(node)): w for node, w in (rows or {}).items()}
    scratch = ox.Store()
    scratch.load(data.serialize(format="nt", encoding="utf-8"),
                 format=ox.RdfFormat.N_TRIPLES, to_graph=SCRATCH_GRAPH)
    extra = b""
    types: dict[str, set[str]] = {}
    if extra_context is not None and len(extra_context):
        extra = extra_context.skolemize().serialize(format="nt", encoding="utf-8")
        for s, t in extra_context.subject_objects(RDF.type):
            types.setdefault(str(s), set()).add(str(t))
    return validate_store(scratch, SCRATCH_GRAPH, file=file, rows=where, extra=extra,
                          engine=engine, outside=lambda iris: types).problems


def _message(messages: tuple[str, ...], shape: Node | None) -> str:
    """The result's message (of its sorted messages). Where an engine gives both the shape's
    own sh:message and a constraint component's (pyshacl-turbo does for our SPARQL-based
    components), the more specific one, the component's, is the one pyshacl gives."""
    if len(messages) > 1:
        generic = _shape_messages(shape)
        messages = tuple(m for m in messages if m not in generic) or messages
    return messages[0] if messages else "Constraint not met."


@lru_cache(maxsize=4096)
def _shape_messages(shape: Node | None) -> frozenset[str]:
    return frozenset(str(m) for m in cached_shapes().objects(shape, SH.message))


def _skolem(node: Node) -> Node:
    return node.skolemize() if isinstance(node, BNode) else node


@lru_cache(maxsize=4096)
def _shape_name(shape: Node | None) -> str | None:
    """The named node shape a result came from (property shapes are blank nodes of the
    shapes graph, the same in every report, so the answer is kept)."""
    if isinstance(shape, URIRef):
        return str(shape)
    parent = cached_shapes().value(None, SH.property, shape) if shape is not None else None
    return str(parent) if isinstance(parent, URIRef) else None


__all__ = ["SKOLEM_PREFIX", "Validation", "focus_nodes", "validate_graph", "validate_store",
           "XSD"]
