"""The dataset described in the graph: VoID and DCAT 3, made again after every commit.

Harvesters (data portals, VoID crawlers, federated query planners) find a dataset through
its description: what it is, under which licence, how big, where to query and download
it, what it links to. Written by hand it goes stale at the first load, so it is computed
from the store and kept in the named graph ``graph/dataset`` (:data:`DESCRIPTION_GRAPH`),
which :func:`refresh` replaces whole after every commit (a load, an endpoint write). It is
regenerated, never loaded: no provenance or history records it, and its own triples are
left out of its figures. Being a named graph, it answers SPARQL like any other.

What it says:

* the whole dataset (:data:`DATASET`) and each ``graph/{name}`` graph as a ``dcat:Dataset``
  and ``void:Dataset`` (the graphs as its ``void:subset``/``dcat:hasPart``), with title,
  licence (:func:`licence_of`: OGL v3 for data, CC BY 4.0 for the ontology and the
  vocabularies), publisher and creator, and the VoID figures;
* ``dcterms:modified`` (the commit), ``dcterms:issued`` (the first load recorded);
* distributions: the SPARQL endpoint (a ``dcat:DataService``) and the dumps;
* linksets to ONS geographies, data.police.uk and Wikidata, and between concept schemes
  (the rating scales' SKOS mappings), with their link counts.

Measuring a graph costs full scans of it, so a refresh measures only what the commit changed
(``changed``): the other graphs keep the figures and partitions the stored description gives
them, and an endpoint write's exact change updates its graphs' figures by arithmetic and one
look per subject it touched (:func:`apply_change`). The union's figures are derived from the
graphs' (sums, unions, and for distinct subjects and instances the largest graph's plus what
the smaller ones add to it), so the largest graph is never scanned for them. Each figure is
one query over all the graphs it needs (``GROUP BY ?g``), never one per graph, and none calls
a function on every triple: Oxigraph 0.5 reads a term's text from disk for each call
(``isIRI`` on 2.3 M triples takes ten times a plain ``COUNT``), so per-subject tests run on
distinct subjects, and links are counted on the link properties of :data:`LINK_PREDICATES`
only, each distinct object read once (web pages, ``schema:url``, and provenance,
``prov:wasDerivedFrom``, are not links between datasets). A refresh that finds the stored
description older than the last load measures everything.

Definitions: ``void:triples`` of the whole is the sum over its graphs (a triple held by two
graphs counts twice); ``void:entities`` counts distinct IRI subjects, and in a class
partition the distinct instances of the class; ``void:classes`` counts distinct objects of
``rdf:type``. A statement another graph already makes (a graph describing itself as a
``dcat:Dataset`` with a title and licence) is not repeated: a triple held by two graphs
would slow every query of the union (:mod:`.merged_default`).
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyoxigraph as ox

from .journal import ChangeSet
from .namespaces import BASE, CONCEPT, GRAPH, ORG, PB, PREFIXES, QB, SCHEMA, graph_node
from .store_reads import PROVENANCE_GRAPH

if TYPE_CHECKING:
    from .backend import Store

log = logging.getLogger(__name__)

#: The short name of the graph that holds the description, and the graph.
DESCRIPTION_NAME = "dataset"
DESCRIPTION_IRI = str(GRAPH[DESCRIPTION_NAME])
DESCRIPTION_GRAPH = ox.NamedNode(DESCRIPTION_IRI)
#: The whole dataset.
DATASET = BASE + "id/dataset/practicebank"
PROJECT = BASE + "id/organisation/practicebank-project"
SPARQL_ENDPOINT = BASE + "sparql"
LANDING_PAGE = BASE + "dataset"
WELL_KNOWN = BASE + ".well-known/void"
DUMP = BASE + "dumps/practicebank-latest.nq.gz"
SPARQL_DISTRIBUTION = DATASET + "/distribution/sparql"

OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
#: Graphs published under CC BY 4.0; every other graph is data, under OGL v3.
CC_BY_GRAPHS = frozenset({"ontology", "vocabularies"})

#: Why a load into graph/dataset does nothing (a warning of the skipped load).
NOT_LOADED = ("graph/dataset holds the description of the dataset, made from the store after "
              "every change: nothing was loaded. Load the file into another graph "
              "(--graph NAME).")
TITLE = "practicebank: UK crime-reduction practice"
DESCRIPTION = (
    "A linked-data knowledge graph of UK crime-reduction and community-safety practice: what "
    "was tried, by which police force or organisation with which partners, for which "
    "problem, how well it worked and who recognised it. The figures count every graph under "
    f"{GRAPH} except graph/dataset, the graph that holds this description: it is made again "
    "after every change to the store and is never loaded.")
RIGHTS = (
    "The data is published under the Open Government Licence v3.0. The ontology "
    "(graph/ontology) and the SKOS vocabularies (graph/vocabularies) are published under "
    "the Creative Commons Attribution 4.0 International licence (CC BY 4.0).")
KEYWORDS = ("crime reduction", "community safety", "policing", "evidence-based practice",
            "linked data")
GRAPH_DESCRIPTIONS = {
    "ontology": "The practicebank OWL ontology: classes and properties of the model.",
    "vocabularies": "The SKOS concept schemes (ratings, topics, crime categories …) and "
                    "the mappings between them.",
    "provenance": "The PROV-O record of every load and the changesets of what each changed.",
}

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
VOID = "http://rdfs.org/ns/void#"
FOAF = "http://xmlns.com/foaf/0.1/"
PROV = "http://www.w3.org/ns/prov#"
IANA = "https://www.iana.org/assignments/media-types/"
#: The vocabularies the data is written in (``void:vocabulary``).
VOCABULARIES = (str(PB), SKOS, DCT, PROV, str(SCHEMA), str(ORG), str(QB))
#: Prefixes of the serialised description.
OUTPUT_PREFIXES = {"void": VOID, "dcat": DCAT, "dcterms": DCT, "foaf": FOAF, "xsd": XSD,
                   "rdfs": RDFS, "skos": SKOS, "pb": str(PB), "graph": str(GRAPH)}

MAPPINGS = tuple(SKOS + p for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                    "relatedMatch"))
#: The properties that link to other datasets: identity, mappings, see-also, and the
#: ontology's geography and identifier properties.
LINK_PREDICATES = (OWL + "sameAs", RDFS + "seeAlso", DCT + "source", f"{SCHEMA}sameAs",
                   f"{PB}policeForceArea", f"{PB}statisticalGeography", f"{PB}wikidata",
                   *MAPPINGS)


@dataclass(frozen=True)
class Target:
    """A dataset we link to, known by the IRIs of its resources."""

    key: str
    title: str
    uri_space: str
    homepage: str


TARGETS = (
    Target("ons-statistical-geography", "ONS statistical geographies",
           "http://statistics.data.gov.uk/id/statistical-geography/",
           "https://statistics.data.gov.uk/"),
    Target("data-police-uk", "data.police.uk", "https://data.police.uk/",
           "https://data.police.uk/"),
    Target("wikidata", "Wikidata", "http://www.wikidata.org/entity/",
           "https://www.wikidata.org/"),
)


def licence_of(name: str) -> str:
    """The licence of graph ``graph/{name}``: CC BY 4.0 for the model, OGL v3 for data."""
    return CC_BY if name in CC_BY_GRAPHS else OGL


def graph_dump(name: str) -> str:
    """Where the Turtle dump of ``graph/{name}`` is published."""
    return f"{BASE}dumps/graphs/{name}-latest.ttl.gz"


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Figures:
    """The VoID figures of one graph or of the whole."""

    triples: int = 0
    entities: int = 0
    subjects: int = 0
    properties: int = 0
    classes: int = 0


@dataclass
class Part:
    """One graph's figures and partitions (triples per property, instances per class):
    what the next refresh reuses when the graph has not changed."""

    figures: Figures = field(default_factory=Figures)
    properties: dict[str, int] = field(default_factory=dict)
    classes: dict[str, int] = field(default_factory=dict)


@dataclass
class Linkset:
    """Links from the dataset (or a concept scheme) to another dataset by one property."""

    key: str
    predicate: str
    subjects: str  # the dataset the links start from
    objects: str   # the dataset they point into
    triples: int


@dataclass
class Measured:
    """Everything the description says that is read from the store."""

    graphs: dict[str, Part] = field(default_factory=dict)
    whole: Part = field(default_factory=Part)
    linksets: list[Linkset] = field(default_factory=list)
    schemes: dict[str, str] = field(default_factory=dict)  # scheme -> its dataset IRI
    examples: list[str] = field(default_factory=list)
    issued: ox.Literal | None = None


def measure(store: Store, *, reuse: dict[str, Part] | None = None) -> Measured:
    """Read the figures of every ``graph/…`` graph but the description's from ``store``;
    graphs in ``reuse`` (unchanged since it was measured) are taken from it, not scanned."""
    names = [n for n in store.graph_names() if n != DESCRIPTION_NAME]
    kept = {n: part for n, part in (reuse or {}).items() if n in names}
    found = Measured(graphs={n: kept.get(n) or Part() for n in names})
    found.issued = _issued(store)
    todo = [n for n in names if n not in kept]
    if todo:
        _measure_graphs(store, todo, found)
    if names:
        _measure_whole(store, found)
        graphs = _values(names)
        _links(store, graphs, found)
        found.examples = [row["s"].value
                          for row in _read(store, EXAMPLES.format(graphs=graphs))]
    return found


def _read(store: Store, sparql: str) -> Any:
    """The shared reads' entrance (:class:`~.store_reads.SparqlReads`): every query here
    names its graphs, so neither store needs to build its merged default graph."""
    return store.read(_PREFIXES + sparql)


def _values(names: Iterable[str]) -> str:
    return " ".join(str(graph_node(n)) for n in names)


def _int(row: Any, key: str) -> int:
    term = row[key]
    return int(term.value) if term is not None else 0


def _measure_graphs(store: Store, names: list[str], found: Measured) -> None:
    """Triples per property, distinct subjects (and IRI ones), instances per class: one
    query each for all of ``names``."""
    graphs, by_iri = _values(names), {str(GRAPH[n]): n for n in names}
    for row in _read(store, PROPERTIES.format(graphs=graphs)):
        part = found.graphs[by_iri[row["g"].value]]
        part.properties[row["p"].value] = _int(row, "n")
    for row in _read(store, SUBJECTS.format(graphs=graphs)):
        figures = found.graphs[by_iri[row["g"].value]].figures
        figures.subjects, figures.entities = _int(row, "subjects"), _int(row, "entities")
    for row in _read(store, CLASS_PARTITIONS.format(graphs=graphs)):
        if isinstance(row["c"], ox.NamedNode):
            found.graphs[by_iri[row["g"].value]].classes[row["c"].value] = _int(row, "n")
    for name in names:
        part = found.graphs[name]
        part.figures.triples = sum(part.properties.values())
        part.figures.properties, part.figures.classes = len(part.properties), len(part.classes)


def _measure_whole(store: Store, found: Measured) -> None:
    """The union's figures from the graphs': sums and unions where they are exact, and
    for distinct subjects and instances the largest graph's plus what the others hold that
    it lacks (a query over the smaller graphs only: no full scan)."""
    whole = found.whole
    for part in found.graphs.values():
        for key, n in part.properties.items():
            whole.properties[key] = whole.properties.get(key, 0) + n
    largest = max(found.graphs, key=lambda n: found.graphs[n].figures.triples)
    big = found.graphs[largest]
    whole.classes = dict(big.classes)
    whole.figures = Figures(triples=sum(p.figures.triples for p in found.graphs.values()),
                            subjects=big.figures.subjects, entities=big.figures.entities,
                            properties=len(whole.properties))
    others = _values(n for n in found.graphs if n != largest)
    if others:
        probe = {"graphs": others, "largest": graph_node(largest)}
        row = next(iter(_read(store, OTHER_SUBJECTS.format(**probe))))
        whole.figures.subjects += _int(row, "subjects")
        whole.figures.entities += _int(row, "entities")
        for row in _read(store, OTHER_INSTANCES.format(**probe)):
            if isinstance(row["c"], ox.NamedNode):
                key = row["c"].value
                whole.classes[key] = whole.classes.get(key, 0) + _int(row, "n")
    whole.figures.classes = len(whole.classes)


def _links(store: Store, graphs: str, found: Measured) -> None:
    predicates = " ".join(f"<{p}>" for p in LINK_PREDICATES)
    targets = {t.key: t for t in TARGETS}
    for row in _read(store, LINKS.format(graphs=graphs, predicates=predicates,
                                         test=_prefix_test(TARGETS))):
        target, predicate = targets[row["target"].value], row["p"].value
        found.linksets.append(Linkset(f"{target.key}-{_curie(predicate)}", predicate,
                                      DATASET, _target_iri(target), _int(row, "n")))
    mappings = " ".join(f"<{p}>" for p in MAPPINGS)
    for row in _read(store, SCHEME_MAPPINGS.format(graphs=graphs, predicates=mappings)):
        start, end, predicate = row["from"].value, row["to"].value, row["p"].value
        for scheme in (start, end):
            found.schemes.setdefault(scheme, f"{DATASET}/scheme/{_scheme_key(scheme)}")
        found.linksets.append(Linkset(
            f"{_scheme_key(start)}-{_curie(predicate)}-{_scheme_key(end)}", predicate,
            found.schemes[start], found.schemes[end], _int(row, "n")))
    found.linksets.sort(key=lambda link: link.key)


def _issued(store: Store) -> ox.Literal | None:
    rows = list(_read(store, ISSUED.format(provenance=graph_node(PROVENANCE_GRAPH))))
    return rows[0]["first"] if rows and isinstance(rows[0]["first"], ox.Literal) else None


def _prefix_test(targets: Iterable[Target]) -> str:
    """A SPARQL expression naming the target whose IRI space ``?x`` starts with."""
    test = "?none"
    for target in reversed(list(targets)):
        test = f'IF(STRSTARTS(?x, "{target.uri_space}"), "{target.key}", {test})'
    return test


def stored_parts(triples: Iterable[ox.Triple]) -> dict[str, Part]:
    """Each graph's figures and partitions as a description (``triples``) gives them:
    what :func:`measure` may reuse. A graph missing any figure is left out (measured)."""
    index: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        index[t.subject.value][t.predicate.value].append(t.object.value)

    def number(subject: str, key: str) -> int | None:
        values = index.get(subject, {}).get(VOID + key, [])
        return int(values[0]) if len(values) == 1 else None

    def partitions(subject: str, kind: str, key: str, count: str) -> dict[str, int] | None:
        found = {}
        for partition in index[subject].get(VOID + kind, []):
            keys, n = index[partition].get(VOID + key, []), number(partition, count)
            if len(keys) != 1 or n is None:
                return None
            found[keys[0]] = n
        return found

    parts = {}
    for iri in index.get(DATASET, {}).get(DCAT + "hasPart", []):
        numbers = [number(iri, key) for key in FIGURE_KEYS]
        properties = partitions(iri, "propertyPartition", "property", "triples")
        classes = partitions(iri, "classPartition", "class", "entities")
        if None in numbers or properties is None or classes is None:
            continue
        parts[iri.removeprefix(str(GRAPH))] = Part(Figures(*numbers), properties, classes)
    return parts


#: Above this many quads in one graph, a write's graph is measured again rather than updated
#: from the change (one look per subject would cost more than the scan).
DELTA_LIMIT = 50_000
#: The VoID figures in the order of :class:`Figures`' fields.
FIGURE_KEYS = ("triples", "entities", "distinctSubjects", "properties", "classes")

_PREFIXES = "".join(f"PREFIX {n}: <{i}>\n" for n, i in {**PREFIXES, "void": VOID}.items())

PROPERTIES = ("SELECT ?g ?p (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
              "GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g ?p")
SUBJECTS = ("SELECT ?g (COUNT(*) AS ?subjects) (SUM(IF(isIRI(?s), 1, 0)) AS ?entities) "
            "WHERE {{ SELECT DISTINCT ?g ?s WHERE {{ VALUES ?g {{ {graphs} }} "
            "GRAPH ?g {{ ?s ?p ?o }} }} }} GROUP BY ?g")
CLASS_PARTITIONS = ("SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
                    "GRAPH ?g {{ ?s a ?c }} }} GROUP BY ?g ?c")
OTHER_SUBJECTS = ("SELECT (COUNT(*) AS ?subjects) (SUM(IF(isIRI(?s), 1, 0)) AS ?entities) "
                  "WHERE {{ SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {graphs} }} "
                  "GRAPH ?g {{ ?s ?p ?o }} "
                  "FILTER NOT EXISTS {{ GRAPH {largest} {{ ?s ?p2 ?o2 }} }} }} }}")
OTHER_INSTANCES = ("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
                   "GRAPH ?g {{ ?s a ?c }} FILTER NOT EXISTS {{ GRAPH {largest} "
                   "{{ ?s a ?c }} }} }} GROUP BY ?c")
#: Grouped by object first, so that each distinct object's IRI is read once.
LINKS = ("SELECT ?target ?p (SUM(?k) AS ?n) WHERE {{ {{ SELECT ?p ?o (COUNT(*) AS ?k) "
         "WHERE {{ VALUES ?p {{ {predicates} }} VALUES ?g {{ {graphs} }} "
         "GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?p ?o }} FILTER(isIRI(?o)) "
         "BIND(STR(?o) AS ?x) BIND({test} AS ?target) FILTER(BOUND(?target)) }} "
         "GROUP BY ?target ?p")
SCHEME_MAPPINGS = ("SELECT ?from ?p ?to (COUNT(*) AS ?n) WHERE {{ VALUES ?p {{ {predicates} }} "
                   "VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?a ?p ?b }} "
                   "?a skos:inScheme ?from . ?b skos:inScheme ?to . FILTER(?from != ?to) }} "
                   "GROUP BY ?from ?p ?to")
EXAMPLES = ("SELECT ?s WHERE {{ "
            "{{ SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {graphs} }} "
            "GRAPH ?g {{ ?s a pb:Practice }} }} LIMIT 3 }} UNION "
            "{{ SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {graphs} }} "
            "GRAPH ?g {{ ?s a pb:PoliceForce }} }} LIMIT 1 }} UNION "
            "{{ SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {graphs} }} "
            "GRAPH ?g {{ ?s a skos:Concept }} }} LIMIT 1 }} FILTER(isIRI(?s)) }}")
SUBJECT_TRIPLES = ("SELECT ?s (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ {subjects} }} "
                   "GRAPH {graph} {{ ?s ?p ?o }} }} GROUP BY ?s")
LAST_LOAD = ("SELECT (MAX(?end) AS ?last) WHERE {{ GRAPH {provenance} "
             "{{ ?load a pb:Load ; prov:endedAtTime ?end }} }}")
ISSUED = ("SELECT (MIN(?t) AS ?first) WHERE {{ GRAPH {provenance} "
          "{{ ?load a pb:Load ; prov:startedAtTime ?t }} }}")
SELF = ("CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?s {{ {subjects} }} GRAPH ?g {{ ?s ?p ?o }} "
        "FILTER(?g != {description} && ?g != {provenance}) }}")
ABOUT = "SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {subjects} }} GRAPH ?g {{ ?s ?p ?o }} " \
        "FILTER(?g != {description}) }}"


# -- describing ------------------------------------------------------------------------------


def describe(found: Measured, *, modified: datetime | None = None) -> list[ox.Triple]:
    """The description of what ``found`` measured, as triples (no blank nodes, so that
    every node has an IRI to link to and a page)."""
    out: list[ox.Triple] = []

    def add(subject: str, predicate: str, *objects: ox.NamedNode | ox.Literal | str) -> None:
        for o in objects:
            term = ox.NamedNode(o) if isinstance(o, str) else o
            out.append(ox.Triple(ox.NamedNode(subject), ox.NamedNode(predicate), term))

    when = _datetime(modified or datetime.now(UTC))
    add(DESCRIPTION_IRI, RDF + "type", VOID + "DatasetDescription")
    add(DESCRIPTION_IRI, DCT + "title", _en("Description of the practicebank dataset"))
    add(DESCRIPTION_IRI, FOAF + "primaryTopic", DATASET)
    add(DESCRIPTION_IRI, DCT + "modified", when)
    add(DESCRIPTION_IRI, RDFS + "comment", _en(
        "Made from the store after every change and never loaded; its own triples are not "
        "counted in the figures it gives."))

    add(DATASET, RDF + "type", DCAT + "Dataset", VOID + "Dataset")
    add(DATASET, DCT + "title", _en(TITLE))
    add(DATASET, DCT + "description", _en(DESCRIPTION))
    add(DATASET, DCT + "license", OGL)
    add(DATASET, DCT + "rights", _en(RIGHTS))
    add(DATASET, DCT + "publisher", PROJECT)
    add(DATASET, DCT + "creator", PROJECT)
    add(DATASET, DCT + "modified", when)
    if found.issued is not None:
        add(DATASET, DCT + "issued", found.issued)
    add(DATASET, DCAT + "keyword", *(_en(k) for k in KEYWORDS))
    add(DATASET, DCAT + "landingPage", LANDING_PAGE)
    add(DATASET, VOID + "sparqlEndpoint", SPARQL_ENDPOINT)
    add(DATASET, VOID + "uriSpace", ox.Literal(BASE + "id/"))
    add(DATASET, VOID + "vocabulary", *VOCABULARIES)
    add(DATASET, VOID + "dataDump", DUMP)
    add(DATASET, VOID + "exampleResource", *found.examples)
    _figures(add, DATASET, found.whole, DATASET)
    _distributions(add, found)
    for name, part in found.graphs.items():
        _graph(add, name, part)
    _linksets(add, found)
    return out


def _figures(add, subject: str, part: Part, partitions: str) -> None:
    """The figures of ``subject`` and its partitions, named under ``partitions`` (void:Datasets
    by the range of ``void:propertyPartition`` and ``void:classPartition``: not typed, to
    keep the description small beside a small store)."""
    for key, value in zip(FIGURE_KEYS, astuple(part.figures), strict=True):
        add(subject, VOID + key, _integer(value))
    for predicate, triples in sorted(part.properties.items()):
        partition = f"{partitions}/property/{_curie(predicate)}"
        add(subject, VOID + "propertyPartition", partition)
        add(partition, VOID + "property", predicate)
        add(partition, VOID + "triples", _integer(triples))
    for cls, instances in sorted(part.classes.items()):
        partition = f"{partitions}/class/{_curie(cls)}"
        add(subject, VOID + "classPartition", partition)
        add(partition, VOID + "class", cls)
        add(partition, VOID + "entities", _integer(instances))


def _distributions(add, found: Measured) -> None:
    add(DATASET, DCAT + "distribution", SPARQL_DISTRIBUTION, DUMP)
    add(SPARQL_DISTRIBUTION, RDF + "type", DCAT + "Distribution")
    add(SPARQL_DISTRIBUTION, DCT + "title", _en("SPARQL endpoint"))
    add(SPARQL_DISTRIBUTION, DCAT + "accessURL", SPARQL_ENDPOINT)
    add(SPARQL_DISTRIBUTION, DCAT + "accessService", SPARQL_ENDPOINT)
    add(SPARQL_DISTRIBUTION, DCT + "license", OGL)
    add(SPARQL_ENDPOINT, RDF + "type", DCAT + "DataService")
    add(SPARQL_ENDPOINT, DCT + "title", _en("practicebank SPARQL 1.1 endpoint"))
    add(SPARQL_ENDPOINT, DCAT + "endpointURL", SPARQL_ENDPOINT)
    add(SPARQL_ENDPOINT, DCAT + "endpointDescription", SPARQL_ENDPOINT)
    add(SPARQL_ENDPOINT, DCT + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
    add(SPARQL_ENDPOINT, DCAT + "servesDataset", DATASET)
    add(SPARQL_ENDPOINT, DCT + "publisher", PROJECT)
    add(SPARQL_ENDPOINT, DCT + "license", OGL)
    _dump(add, DUMP, "Every graph, N-Quads (gzip)", "application/n-quads", OGL)


def _dump(add, iri: str, title: str, media_type: str, licence: str) -> None:
    add(iri, RDF + "type", DCAT + "Distribution")
    add(iri, DCT + "title", _en(title))
    add(iri, DCAT + "downloadURL", iri)
    add(iri, DCAT + "accessURL", iri)
    add(iri, DCAT + "mediaType", IANA + media_type)
    add(iri, DCAT + "compressFormat", IANA + "application/gzip")
    add(iri, DCT + "license", licence)


def _graph(add, name: str, part: Part) -> None:
    iri, licence = str(GRAPH[name]), licence_of(name)
    add(DATASET, VOID + "subset", iri)
    add(DATASET, DCAT + "hasPart", iri)
    add(iri, RDF + "type", DCAT + "Dataset", VOID + "Dataset")
    add(iri, DCT + "title", _en(f"graph/{name}"))
    add(iri, DCT + "description", _en(GRAPH_DESCRIPTIONS.get(
        name, f"The data loaded into the named graph graph/{name}.")))
    add(iri, DCT + "license", licence)
    add(iri, DCT + "publisher", PROJECT)
    add(iri, DCT + "creator", PROJECT)
    add(iri, DCT + "isPartOf", DATASET)
    add(iri, VOID + "sparqlEndpoint", SPARQL_ENDPOINT)
    add(iri, VOID + "dataDump", graph_dump(name))
    add(iri, DCAT + "distribution", graph_dump(name))
    _figures(add, iri, part, f"{DATASET}/graph/{name}")
    _dump(add, graph_dump(name), f"graph/{name}, Turtle (gzip)", "text/turtle", licence)


def _linksets(add, found: Measured) -> None:
    used = {link.objects for link in found.linksets}
    for target in TARGETS:
        iri = _target_iri(target)
        if iri in used:
            add(iri, RDF + "type", VOID + "Dataset")
            add(iri, DCT + "title", _en(target.title))
            add(iri, VOID + "uriSpace", ox.Literal(target.uri_space))
            add(iri, FOAF + "homepage", target.homepage)
    for scheme, iri in sorted(found.schemes.items()):
        add(iri, RDF + "type", VOID + "Dataset")
        add(iri, DCT + "title", _en(f"Concept scheme {_scheme_key(scheme)}"))
        add(iri, VOID + "rootResource", scheme)
        add(iri, VOID + "uriSpace", ox.Literal(scheme + "/"))
        add(iri, DCT + "isPartOf", str(GRAPH["vocabularies"]))
    for link in found.linksets:
        iri = f"{DATASET}/linkset/{link.key}"
        add(DATASET, VOID + "subset", iri)
        add(iri, RDF + "type", VOID + "Linkset")
        add(iri, VOID + "target", link.subjects, link.objects)
        add(iri, VOID + "subjectsTarget", link.subjects)
        add(iri, VOID + "objectsTarget", link.objects)
        add(iri, VOID + "linkPredicate", link.predicate)
        add(iri, VOID + "triples", _integer(link.triples))


def _target_iri(target: Target) -> str:
    return f"{BASE}id/dataset/{target.key}"


def _scheme_key(scheme: str) -> str:
    local = scheme[len(str(CONCEPT)):] if scheme.startswith(str(CONCEPT)) else ""
    return quote(local, safe="-_.") if local else _digest(scheme)


def _curie(iri: str) -> str:
    """A readable, stable path segment for a property or class: ``pb-Practice``."""
    for prefix, namespace in sorted(PREFIXES.items(), key=lambda p: -len(p[1])):
        if iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}-{quote(iri[len(namespace):], safe='-_.')}"
    return _digest(iri)


def _digest(iri: str) -> str:
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:16]


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def _integer(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer"))


def _datetime(moment: datetime) -> ox.Literal:
    moment = moment.astimezone(UTC)
    spec = "milliseconds" if moment.microsecond else "seconds"
    return ox.Literal(moment.isoformat(timespec=spec), datatype=ox.NamedNode(XSD + "dateTime"))


def said_elsewhere(store: Store, triples: list[ox.Triple]) -> list[ox.Triple]:
    """``triples`` less those another graph already states, and less a title for a node
    another graph already titles (a graph that describes itself keeps its own title)."""
    subjects = sorted({t.subject.value for t in triples})
    if not subjects:
        return triples
    known: set[ox.Triple] = set()
    titled: set[str] = set()
    values = " ".join(f"<{s}>" for s in subjects)
    for row in _read(store, ABOUT.format(subjects=values, description=DESCRIPTION_GRAPH)):
        known.add(ox.Triple(row["s"], row["p"], row["o"]))
        if row["p"].value == DCT + "title":
            titled.add(row["s"].value)
    return [t for t in triples if t not in known
            and not (t.predicate.value == DCT + "title" and t.subject.value in titled)]


# -- keeping it current ----------------------------------------------------------------------


def refresh(store: Store, *, modified: datetime | None = None,
            changed: Iterable[str] | None = None, change: ChangeSet | None = None) -> int:
    """Replace ``graph/dataset`` with the description of the store as it is now, in one
    change; ``modified`` is the time of the commit it follows (default: now). Returns the
    number of triples written. Raises what the store raises.

    ``changed`` names the graphs the commit changed (short names): the others keep the
    figures the stored description gives them, so a commit to a small graph scans no big
    one. With the commit's exact ``change`` (an endpoint write), the changed graphs' figures
    are updated from it too (:func:`apply_change`), so a small write to a big graph scans
    nothing. ``None`` measures every graph, and so does a refresh that finds the stored
    description behind a load (a refresh that failed or was killed)."""
    reuse = None
    if changed is not None and DESCRIPTION_NAME not in (changed := set(changed)):
        current = description(store)
        if not _behind_a_load(store, current):
            parts = stored_parts(current)
            reuse = {n: part for n, part in parts.items() if n not in changed or (
                change is not None and apply_change(store, n, part, change))}
    triples = said_elsewhere(store, describe(measure(store, reuse=reuse), modified=modified))
    store.commit_changes(ChangeSet(
        dropped={DESCRIPTION_GRAPH},
        added=[ox.Quad(t.subject, t.predicate, t.object, DESCRIPTION_GRAPH) for t in triples]))
    return len(triples)


def refresh_after_commit(store: Store, *, modified: datetime | None = None,
                         changed: Iterable[str] | None = None,
                         change: ChangeSet | None = None) -> int | None:
    """:func:`refresh`, for the places that commit: the commit already stands, so a failed
    refresh is logged as a warning and never fails it. The stale description is dropped if
    it can be, so that the endpoint computes one meanwhile and the next commit measures
    every graph again."""
    try:
        return refresh(store, modified=modified, changed=changed, change=change)
    except Exception:  # the commit stands whatever went wrong here; say so and go on
        log.warning("The dataset description (graph/dataset) could not be refreshed after "
                    "a commit; it is out of date until the next one.", exc_info=True)
    try:
        store.commit_changes(ChangeSet(dropped={DESCRIPTION_GRAPH}))
    except Exception:  # already said above
        log.warning("The stale dataset description could not be dropped either.")
    return None


def apply_change(store: Store, name: str, part: Part, change: ChangeSet) -> bool:
    """Bring ``part`` (graph/``name`` as it was before ``change``) up to date from the
    change's exact quads: triples per property and instances per class by arithmetic, and
    for each subject it touched one look at what else the graph holds about it. False (the
    graph is then measured) when that cannot be done exactly: the graph was dropped, a
    subject is a blank node (no query can name it), the change is very large, or a count
    goes negative (the stored figures were stale)."""
    graph = graph_node(name)
    added = [q for q in change.added if q.graph_name == graph]
    removed = [q for q in change.removed if q.graph_name == graph]
    touched: dict[ox.NamedNode, int] = defaultdict(int)  # subject -> triples added - removed
    if graph in change.dropped or len(added) + len(removed) > DELTA_LIMIT:
        return False
    for quads, sign in ((added, 1), (removed, -1)):
        for q in quads:
            if not isinstance(q.subject, ox.NamedNode):
                return False
            touched[q.subject] += sign
            _bump(part.properties, q.predicate.value, sign)
            if q.predicate.value == RDF + "type" and isinstance(q.object, ox.NamedNode):
                _bump(part.classes, q.object.value, sign)
    figures = part.figures
    subjects = list(touched)
    for start in range(0, len(subjects), 500):
        values = " ".join(str(s) for s in subjects[start:start + 500])
        after = {row["s"]: _int(row, "n") for row in _read(store, SUBJECT_TRIPLES.format(
            subjects=values, graph=graph))}
        for subject in subjects[start:start + 500]:
            now = after.get(subject, 0)
            change_in_presence = (now > 0) - (now - touched[subject] > 0)
            figures.subjects += change_in_presence
            figures.entities += change_in_presence
    figures.triples = sum(part.properties.values())
    figures.properties, figures.classes = len(part.properties), len(part.classes)
    counts = [*part.properties.values(), *part.classes.values(), figures.subjects]
    return min(counts, default=0) >= 0


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    counts[key] = counts.get(key, 0) + by
    if counts[key] == 0:
        del counts[key]


def changed_graphs(graphs: Iterable[ox.NamedNode | ox.DefaultGraph]) -> set[str]:
    """The short names of the ``graph/…`` graphs among ``graphs`` (a write's): what a
    refresh must measure again. Empty when the write changed none (no refresh needed)."""
    prefix = str(GRAPH)
    return {g.value[len(prefix):] for g in graphs
            if isinstance(g, ox.NamedNode) and g.value.startswith(prefix)}


def _behind_a_load(store: Store, current: list[ox.Triple]) -> bool:
    """Whether a load ended after the stored description was made: its refresh never
    happened, so no stored figure can be trusted."""
    made = [t.object.value for t in current if t.subject.value == DESCRIPTION_IRI
            and t.predicate.value == DCT + "modified"]
    rows = list(_read(store, LAST_LOAD.format(provenance=graph_node(PROVENANCE_GRAPH))))
    last = rows[0]["last"] if rows else None
    if not made:
        return True
    if not isinstance(last, ox.Literal):
        return False
    try:
        return datetime.fromisoformat(last.value) > datetime.fromisoformat(made[0])
    except (ValueError, TypeError):  # unreadable, or one without a time zone: measure all
        return True


def description(store: Store) -> list[ox.Triple]:
    """The stored description, or an empty list when there is none yet."""
    return [q.triple for q in store.quads_of(DESCRIPTION_GRAPH)]


def document(store: Store, triples: list[ox.Triple]) -> list[ox.Triple]:
    """``triples`` (the stored description, or one just computed) with what the graphs it
    describes say about themselves (a title, a source: what the description leaves to
    them), from any graph but ``graph/provenance``: the description as served."""
    parts = sorted({t.object.value for t in triples if t.subject.value == DATASET
                    and t.predicate.value == DCAT + "hasPart"})
    if not parts:
        return list(triples)
    seen = set(triples)
    extra = dict.fromkeys(t for t in _read(store, SELF.format(
        subjects=" ".join(f"<{p}>" for p in parts), description=DESCRIPTION_GRAPH,
        provenance=graph_node(PROVENANCE_GRAPH))) if t not in seen)
    return [*triples, *extra]


__all__ = ["DATASET", "DESCRIPTION_GRAPH", "DESCRIPTION_NAME", "apply_change",
           "changed_graphs", "describe",
           "description", "document", "licence_of", "measure", "refresh",
           "refresh_after_commit", "said_elsewhere", "stored_parts"]
