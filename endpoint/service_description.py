"""The SPARQL 1.1 Service Description of ``/sparql``, pointing at the dataset it serves.

Returned for a GET of ``/sparql`` without a query, in the RDF format ``Accept`` asks for
(Turtle by default; HTML as a table for browsers). It says what the endpoint supports
(languages, result and input formats, features such as the union default graph and basic
federated query) and which dataset it serves: ``sd:defaultDataset`` is the dataset's stable
IRI (:data:`~practicebank.dataset_description.DATASET`), whatever host the request came in
by, so the service description, the VoID/DCAT description in ``graph/dataset`` (served at
``/.well-known/void``, ``rdfs:seeAlso``) and every harvester name the same node, with the
same title, licence and rights statement. The named graphs and their sizes come from the
runtime's cache, recomputed once per committed write.
"""

from __future__ import annotations

import io

import pyoxigraph as ox
from flask import Response, request

from practicebank.dataset_description import (
    DATASET,
    DESCRIPTION_IRI,
    OGL,
    RIGHTS,
    SPARQL_ENDPOINT,
    TITLE,
    VOCABULARIES,
    VOID,
    WELL_KNOWN,
)
from practicebank.formats import of_kind
from practicebank.namespaces import BASE, GRAPH

from .html_results import write_html
from .negotiation import HTML, negotiate
from .runtime import get_runtime

SD = "http://www.w3.org/ns/sparql-service-description#"
DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FORMATS_NS = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

#: W3C format IRIs (http://www.w3.org/ns/formats/) of what we write and read.
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                  "SPARQL_Results_TSV", "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "N-Quads",
                  "TriG")
INPUT_FORMATS = ("Turtle", "N-Triples", "RDF_XML", "JSON-LD")
#: What ``sd:BasicFederatedQuery`` means here beyond the spec (endpoint/bind_join.py). An
#: ``rdfs:comment`` on the service, since SD's own features name no join strategy and a
#: feature IRI of ours would be one no client knows.
FEDERATION_NOTE = (
    "SERVICE calls go only to this server's allowlist, each with a per-call timeout within "
    "the query's deadline. A SERVICE with an IRI endpoint at the top level of the WHERE "
    "group, or as the only pattern of a top-level OPTIONAL, is evaluated as a bind join when "
    "every SERVICE of the query is: the local solutions' bindings of the variables it shares "
    "with the SERVICE pattern go to the remote in VALUES blocks (bind_join_batch rows per "
    "request, at most bind_join_max_bindings in all). Any other shape is sent to the remote "
    "as written. See docs/federation.md.")


def n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def describe(endpoint: str, stats: dict) -> list[ox.Triple]:
    """The service description of ``endpoint`` (the URL it was reached by) as triples."""
    service = n(endpoint)
    dataset = n(DATASET)
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
    add(service, RDFS + "comment", ox.Literal(FEDERATION_NOTE, language="en"))
    for fmt in RESULT_FORMATS:
        add(service, SD + "resultFormat", n(FORMATS_NS + fmt))
    for fmt in INPUT_FORMATS:
        add(service, SD + "inputFormat", n(FORMATS_NS + fmt))
    add(service, SD + "defaultEntailmentRegime", n("http://www.w3.org/ns/entailment/Simple"))
    add(service, SD + "defaultDataset", dataset)

    for kind in (SD + "Dataset", VOID + "Dataset", DCAT + "Dataset"):
        add(dataset, str(RDF_TYPE.value), n(kind))
    add(dataset, DCT + "title", ox.Literal(TITLE, language="en"))
    add(dataset, DCT + "license", n(OGL))
    add(dataset, DCT + "rights", ox.Literal(RIGHTS, language="en"))
    add(dataset, VOID + "sparqlEndpoint", n(SPARQL_ENDPOINT))
    add(dataset, VOID + "uriSpace", ox.Literal(BASE + "id/"))
    for vocabulary in VOCABULARIES:
        add(dataset, VOID + "vocabulary", n(vocabulary))
    add(dataset, VOID + "triples", _int(dataset_triples(stats)))
    add(dataset, RDFS + "seeAlso", n(WELL_KNOWN))
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


def dataset_triples(stats: dict) -> int:
    """The dataset's ``void:triples`` as ``graph/dataset`` counts them: the ``graph/…``
    graphs but the description's own (not the engine's graphs or other named graphs)."""
    return sum(count for name, count in stats["graphs"].items()
               if name.startswith(str(GRAPH)) and name != DESCRIPTION_IRI)


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
                     prefixes={"sd": SD, "void": VOID, "dcterms": DCT, "dcat": DCAT,
                               "formats": FORMATS_NS, "rdfs": RDFS})
    return Response(out.getvalue(), status=200, content_type=fmt.content_type)

