"""Loading files into the store: read, validate, then replace one named graph at once.

This is the library behind ``practicebank load``, ``validate`` and ``serve --demo``.
A load that finds any error raises :class:`ValidationFailed` before the store is touched;
a load that succeeds replaces ``graph/{name}`` and records PROV-O provenance in
``graph/provenance`` in the same transaction.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from . import __version__
from .conversion import Conversion
from .formats import by_name
from .namespaces import GRAPH, ID, PB, slugify
from .problems import Problem, ValidationFailed, errors
from .readers import read_file, read_rdf
from .resources import DEMO_BUNDLES, Bundle
from .store import PracticeStore
from .validation import validate_graph


@dataclass
class LoadResult:
    """What one load did."""

    graph: str
    triples: int
    added: int
    removed: int
    problems: list[Problem] = field(default_factory=list)


def default_graph_name(path: Path) -> str:
    """``data/My Practices.csv`` loads into ``graph/my-practices`` unless --graph says."""
    return slugify(path.name.split(".")[0]) or "data"


def check(conversion: Conversion, *, file: str, strict: bool = False,
          context: Graph | None = None) -> list[Problem]:
    """Conversion problems plus SHACL problems; raise ValidationFailed if any is an error
    (or, with ``strict``, any warning)."""
    problems = list(conversion.problems)
    if not errors(problems) and len(conversion.graph):
        problems += validate_graph(conversion.graph, file=file, rows=conversion.rows,
                                   extra_context=context)
    if errors(problems) or (strict and problems):
        raise ValidationFailed(problems)
    return problems


def validate_files(paths: list[Path], *, format: str | None = None) -> list[Problem]:
    """Every problem in the files, without touching any store. Each file is validated with
    the others as context, so a file may refer to things another one describes."""
    conversions = [(p, read_file(p, format=format, graph_name=default_graph_name(p))[1])
                   for p in paths]
    problems: list[Problem] = []
    for path, conversion in conversions:
        others = Graph()
        for other_path, other in conversions:
            if other_path != path:
                others += other.graph
        try:
            problems += check(conversion, file=str(path), context=others)
        except ValidationFailed as failed:
            problems += failed.problems
    return problems


def store_context(store: PracticeStore, graph: Graph, replacing: str) -> Graph:
    """The types the store already knows for the IRIs ``graph`` points at, outside the
    graph being replaced (it is about to go): enough for ``sh:class`` checks across graphs."""
    objects = {str(o) for o in graph.objects() if isinstance(o, URIRef)}
    context = Graph()
    for s, t in store.types_of(objects, excluding=replacing):
        context.add((URIRef(s), RDF.type, URIRef(t)))
    return context


def load_file(store: PracticeStore, path: Path, *, graph: str | None = None,
              format: str | None = None, strict: bool = False,
              source_url: str | None = None) -> LoadResult:
    """Validate ``path`` and, if it conforms, make it the whole of ``graph/{graph}``."""
    started = _now()
    name = graph or default_graph_name(path)
    data = path.read_bytes() if path.is_file() else b""
    reader, conversion = read_file(path, format=format, graph_name=name)
    problems = check(conversion, file=str(path), strict=strict,
                     context=store_context(store, conversion.graph, name))
    return _commit(store, conversion.graph, name, path.name, data, reader, started,
                   problems, source_url)


def load_bundle(store: PracticeStore, bundle: Bundle, *, validate: bool = True) -> LoadResult:
    """Load one of the bundled files into its graph (validated like any other load)."""
    started = _now()
    data = bundle.read_bytes()
    conversion = read_rdf(data, by_name("ttl"), file=bundle.filename)
    context = store_context(store, conversion.graph, bundle.graph)
    problems = check(conversion, file=bundle.filename, context=context) if validate else []
    return _commit(store, conversion.graph, bundle.graph, bundle.filename, data, "bundle",
                   started, problems, None)


def ensure_demo(store: PracticeStore) -> list[LoadResult]:
    """Load every bundled graph that the store does not hold yet (``serve --demo``)."""
    return [load_bundle(store, b) for b in DEMO_BUNDLES if not store.has_graph(b.graph)]


def _commit(store: PracticeStore, graph: Graph, name: str, filename: str, data: bytes,
            reader: str, started: datetime, problems: list[Problem],
            source_url: str | None) -> LoadResult:
    ntriples = graph.serialize(format="nt", encoding="utf-8")
    activity = ID[f"load/{uuid.uuid4()}"]
    digest = hashlib.sha256(data).hexdigest()
    # Counts are only known after staging; the provenance is written with the swap.
    prov = _provenance(activity, name, filename, digest, reader, started, source_url)
    added, removed = store.replace_graph(name, ntriples, provenance=_counts(prov, activity))
    return LoadResult(name, len(graph), added, removed, problems)


def _provenance(activity: URIRef, name: str, filename: str, digest: str, reader: str,
                started: datetime, source_url: str | None) -> Graph:
    g = Graph()
    target = GRAPH[name]
    source = URIRef(f"urn:sha256:{digest}")
    agent = ID[f"software/practicebank/{__version__}"]
    g.add((activity, RDF.type, PB.Load))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, RDFS.label, Literal(f"Load of {filename} into graph/{name}", lang="en")))
    g.add((activity, PROV.used, source))
    g.add((activity, PB.targetGraph, target))
    g.add((activity, PROV.generated, target))
    g.add((activity, PROV.startedAtTime, Literal(started, datatype=XSD.dateTime)))
    g.add((activity, PROV.wasAssociatedWith, agent))
    g.add((activity, DCTERMS.description, Literal(f"reader: {reader}")))
    g.add((target, PROV.wasGeneratedBy, activity))
    g.add((source, RDF.type, PB.SourceFile))
    g.add((source, DCTERMS.title, Literal(filename)))
    g.add((source, PB.sha256, Literal(digest)))
    if source_url:
        g.add((source, DCTERMS.source, URIRef(source_url)))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal(f"practicebank {__version__}")))
    return g


def _counts(prov: Graph, activity: URIRef):
    """Provenance N-Triples, finished with the end time and counts once they are known."""

    def finish(added: int, removed: int) -> str:
        prov.add((activity, PROV.endedAtTime, Literal(_now(), datatype=XSD.dateTime)))
        prov.add((activity, PB.triplesAdded, Literal(added)))
        prov.add((activity, PB.triplesRemoved, Literal(removed)))
        return prov.serialize(format="nt")

    return finish


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
