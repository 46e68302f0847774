"""The SPARQL 1.1 Service Description of ``/sparql``, with a VoID description of the data.

Returned for a GET of ``/sparql`` without a query, in the RDF format ``Accept`` asks for
(Turtle by default; HTML as a table for browsers). It says what the endpoint supports
(languages, result and input formats, features such as the union default graph and basic
federated query) and, with VoID and DCAT terms, what the dataset is: its graphs and their
sizes, licence, vocabularies and where the data lives. Counts come from the runtime's cache,
recomputed once per committed write.
"""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Response, request

from practicebank.formats import of_kind
from practicebank.namespaces import BASE, PB

from .html_results import write_html
from .negotiation import HTML, negotiate
from .runtime import get_runtime

SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
DCT = "http://purl.org/dc/terms/"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
OGL = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"

#: W3C format IRIs (http://www.w3.org/ns/formats/) of what we write and read.
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N-Quads",
                  "TriG")
INPUT_FORMATS = ("Turtle", "N-Triples", "RDF_XML", "JSON-LD")


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def describe(endpoint: str, stats: dict) -> list[ox.Triple]:
    """The service description of ``endpoint`` as triples."""
    service = n(endpoint)
    dataset = n(endpoint + "#dataset")
    default_graph = ox.BlankNode("defaultGraph")
    t: list[ox.Triple] = []

    def add(s, p: str, o) -> None:
        t.append(ox.Triple(s, n(p), o))

    add(service, str(RDF_TYPE.value), n(SD + "Service"))
    add(service, SD + "endpoint", service)
    for language in ("SPARQL11Query", "SPARQL11Update"):
        add(service, SD + "supportedLanguage", n(SD + language))
    for feature in ("UnionDefaultGraph", "BasicFederatedQuery"):
        add(service, SD + "feature", n(SD + feature))
    for fmt in RESULT_FORMATS:
        add(service, SD + "resultFormat", n(FORMATS_NS + fmt))
    for fmt in INPUT_FORMATS:
        add(service, SD + "inputFormat", n(FORMATS_NS + fmt))
    add(service, SD + "defaultEntailmentRegime", n("http://www.w3.org/ns/entailment/Simple"))
    add(service, SD + "defaultDataset", dataset)

    add(dataset, str(RDF_TYPE.value), n(SD + "Dataset"))
    add(dataset, str(RDF_TYPE.value), n(VOID + "Dataset"))
    add(dataset, DCT + "title", ox.Literal("practicebank: UK crime-reduction practice",
                                           language="en"))
    add(dataset, DCT + "license", n(OGL))
    add(dataset, VOID + "sparqlEndpoint", service)
    add(dataset, VOID + "uriSpace", ox.Literal(BASE + "id/"))
    add(dataset, VOID + "vocabulary", n(str(PB)))
    add(dataset, VOID + "triples", ox.Literal(str(stats["triples"]), datatype=n(
        "http://www.w3.org/2001/XMLSchema#integer")))
    add(dataset, SD + "defaultGraph", default_graph)
    add(default_graph, str(RDF_TYPE.value), n(SD + "Graph"))
    add(default_graph, VOID + "triples", _int(stats["triples"]))  # the union of all graphs
    for i, (name, count) in enumerate(sorted(stats["graphs"].items())):
        named = ox.BlankNode(f"named{i}")
        graph = ox.BlankNode(f"graph{i}")
        add(dataset, SD + "namedGraph", named)
        add(named, str(RDF_TYPE.value), n(SD + "NamedGraph"))
        add(named, SD + "name", n(name))
        add(named, SD + "graph", graph)
        add(graph, str(RDF_TYPE.value), n(SD + "Graph"))
        add(graph, VOID + "triples", _int(count))
    return t


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=n("http://www.w3.org/2001/XMLSchema#integer"))


def service_description_response() -> Response:
    """The service description of the endpoint this request reached, negotiated."""
    fmt = negotiate(request, [*of_kind("rdf"), HTML])
    triples = describe(request.base_url, get_runtime().stats())
    out = io.BytesIO()
    if fmt.kind == "html":
        write_html(iter(triples), out)
    else:
        ox.serialize(triples, out, fmt.rdf_format,
                     prefixes={"sd": SD, "void": VOID, "dcterms": DCT, "formats": FORMATS_NS})
    return Response(out.getvalue(), status=200, content_type=fmt.content_type)

