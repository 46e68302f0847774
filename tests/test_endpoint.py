"""The endpoint: SPARQL Protocol requests, content negotiation, the error shape, the pages.

Everything runs through Flask's test client around an in-memory store, except one test
that starts the real granian server in a subprocess and queries it over loopback.
Every response body is parsed with a parser for the format it claims, so a mislabelled
body fails here.
"""

from __future__ import annotations

import csv
import html
import io
import json
import logging
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib.namespace import DCTERMS
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from practicebank.endpoint import create_app
from practicebank.endpoint.db import get_store
from practicebank.endpoint.errors import EndpointError
from practicebank.endpoint.jobs import JobError
from practicebank.endpoint.negotiation import choose_format
from practicebank.endpoint.sparql import handle_query, job_error
from practicebank.formats import Format, by_name, of_kind
from practicebank.store import PracticeStore

TEST_GRAPH = "https://w3id.org/practicebank/graph/test"
OTHER_GRAPH = "https://w3id.org/practicebank/graph/other"
PRACTICE = "https://w3id.org/practicebank/id/practice/"

PREFIXES = """\
@prefix pb: <https://w3id.org/practicebank/def/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix practice: <https://w3id.org/practicebank/id/practice/> .
@prefix rating: <https://w3id.org/practicebank/id/rating/> .
@prefix force: <https://w3id.org/practicebank/id/force/> .
@prefix diw: <https://w3id.org/practicebank/concept/does-it-work/> .
"""

TEST_TURTLE = PREFIXES + """
practice:street-lighting a pb:Practice ;
    dcterms:title "Improved street lighting" ;
    pb:rating rating:street-lighting .
rating:street-lighting a pb:RatingAssessment ;
    pb:ratingValue diw:promising .
diw:promising a skos:Concept ;
    skos:prefLabel "Promising"@en .
practice:cocoon-watch a pb:Practice ;
    dcterms:title "Cocoon neighbourhood watch" .
force:kent a pb:PoliceForce ;
    skos:prefLabel "Kent Police"@en .
"""

OTHER_TURTLE = PREFIXES + """
practice:cafe-quarter a pb:Practice ;
    dcterms:title "Café quarter safer streets" .
"""

TITLES = ["Café quarter safer streets", "Cocoon neighbourhood watch", "Improved street lighting"]

TITLES_QUERY = """\
PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?title WHERE { ?p a pb:Practice ; dcterms:title ?title } ORDER BY ?title"""

TITLES_CONSTRUCT = """\
PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
CONSTRUCT { ?p dcterms:title ?title } WHERE { ?p a pb:Practice ; dcterms:title ?title }"""

EXPECTED_TRIPLES = {
    (rdflib.URIRef(PRACTICE + "street-lighting"), DCTERMS.title,
     rdflib.Literal("Improved street lighting")),
    (rdflib.URIRef(PRACTICE + "cocoon-watch"), DCTERMS.title,
     rdflib.Literal("Cocoon neighbourhood watch")),
    (rdflib.URIRef(PRACTICE + "cafe-quarter"), DCTERMS.title,
     rdflib.Literal("Café quarter safer streets")),
}

SERVE_SCRIPT = """\
import sys
import pyoxigraph as ox
from practicebank.endpoint import create_app
from practicebank.endpoint.server import serve
from practicebank.store import PracticeStore

port, graph, turtle, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
store = PracticeStore(path)
store.ox.load(turtle, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(graph))
del store  # the server's own process opens it
if __name__ == "__main__":  # granian's child process re-imports this script's module
    serve({"STORE_PATH": path}, port=port, threads=2)
"""


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def store() -> PracticeStore:
    """Two practices in the test graph, a third in another graph."""
    store = PracticeStore()
    store.ox.load(TEST_TURTLE, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(TEST_GRAPH))
    store.ox.load(OTHER_TURTLE, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(OTHER_GRAPH))
    return store


@pytest.fixture
def app(store: PracticeStore) -> Flask:
    return create_app({"TESTING": True, "STORE": store})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- parsers: one per format in the table, so a new format needs a parser here ---------------

RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"


def titles_from_json(body: bytes) -> list[str]:
    return [row["title"]["value"] for row in json.loads(body)["results"]["bindings"]]


def titles_from_xml(body: bytes) -> list[str]:
    root = ET.fromstring(body)
    return [
        binding.find(f"{RESULTS_NS}literal").text
        for binding in root.iter(f"{RESULTS_NS}binding")
        if binding.get("name") == "title"
    ]


def titles_from_csv(body: bytes) -> list[str]:
    header, *rows = csv.reader(io.StringIO(body.decode("utf-8")))
    assert header == ["title"]
    return [row[0] for row in rows]


def titles_from_tsv(body: bytes) -> list[str]:
    header, *rows = csv.reader(io.StringIO(body.decode("utf-8")), delimiter="\t",
                               quoting=csv.QUOTE_NONE)
    assert header == ["?title"]
    assert all(row[0].startswith('"') and row[0].endswith('"') for row in rows)
    return [row[0][1:-1] for row in rows]  # TSV writes literals in Turtle syntax


TITLE_PARSERS = {
    "json": titles_from_json,
    "xml": titles_from_xml,
    "csv": titles_from_csv,
    "tsv": titles_from_tsv,
}

RDFLIB_FORMATS = {
    "ttl": "turtle",
    "nt": "nt",
    "jsonld": "json-ld",
    "rdfxml": "xml",
    "nq": "nquads",
    "trig": "trig",
}


def triples(body: bytes, fmt: Format) -> set:
    graph = rdflib.Graph()
    graph.parse(data=body, format=RDFLIB_FORMATS[fmt.name])
    return set(graph)


def error_of(response) -> dict:
    """The JSON error shape, checked for exactly its two fields."""
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error", "message"}
    assert body["message"].strip()
    return body


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- SELECT and ASK: result formats ---------------------------------------------------------


@pytest.mark.parametrize("fmt", of_kind("results"), ids=lambda f: f.name)
def test_every_results_format_is_served_under_its_media_type(client, fmt):
    response = client.get("/sparql", query_string={"query": TITLES_QUERY},
                          headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type
    assert TITLE_PARSERS[fmt.name](response.data) == TITLES


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/*", "json"),
        ("text/*", "csv"),
        ("application/json", "json"),
        ("application/xml", "xml"),
        ("application/sparql-results+json; charset=utf-8", "json"),
        ("text/csv;q=0.5, application/sparql-results+xml", "xml"),
        ("application/sparql-results+xml;q=0.2, text/tab-separated-values;q=0.9", "tsv"),
        ("text/csv;q=0.1, */*;q=0.5", "json"),
        ("text/turtle, text/csv;q=0.3", "csv"),
        ("application/sparql-results+json;q=0, */*", "xml"),
    ],
)
def test_select_accept_table(client, accept, expected):
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", query_string={"query": TITLES_QUERY}, headers=headers)
    fmt = by_name(expected)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type
    assert TITLE_PARSERS[expected](response.data) == TITLES


@pytest.mark.parametrize(("query", "expected"), [
    ("ASK { ?p a <https://w3id.org/practicebank/def/Practice> }", True),
    ("ASK { ?p a <https://w3id.org/practicebank/def/Nothing> }", False),
])
def test_ask_true_and_false(client, query, expected):
    response = client.get("/sparql", query_string={"query": query})
    assert response.headers["Content-Type"] == by_name("json").content_type
    assert json.loads(response.data) == {"head": {}, "boolean": expected}

    xml_response = client.get("/sparql", query_string={"query": query},
                              headers={"Accept": "application/sparql-results+xml"})
    boolean = ET.fromstring(xml_response.data).find(f"{RESULTS_NS}boolean")
    assert boolean.text == str(expected).lower()


# -- CONSTRUCT and DESCRIBE: RDF formats ----------------------------------------------------


@pytest.mark.parametrize("fmt", of_kind("rdf"), ids=lambda f: f.name)
def test_every_rdf_format_is_served_under_its_media_type(client, fmt):
    response = client.get("/sparql", query_string={"query": TITLES_CONSTRUCT},
                          headers={"Accept": fmt.media_type})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type
    assert triples(response.data, fmt) == EXPECTED_TRIPLES


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "ttl"),
        ("*/*", "ttl"),
        ("text/turtle", "ttl"),
        ("application/x-turtle", "ttl"),
        ("text/plain", "nt"),
        ("application/n-triples", "nt"),
        ("application/ld+json", "jsonld"),
        ('application/ld+json; profile="http://www.w3.org/ns/json-ld#expanded"', "jsonld"),
        ("application/rdf+xml", "rdfxml"),
        ("application/rdf+xml;q=0.4, application/ld+json;q=0.9", "jsonld"),
        ("text/turtle;q=0.5, application/n-triples", "nt"),
        ("application/sparql-results+json, */*;q=0.1", "ttl"),
    ],
)
def test_construct_accept_table(client, accept, expected):
    headers = {"Accept": accept} if accept is not None else {}
    response = client.get("/sparql", query_string={"query": TITLES_CONSTRUCT}, headers=headers)
    fmt = by_name(expected)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == fmt.content_type
    assert triples(response.data, fmt) == EXPECTED_TRIPLES


def test_describe_is_a_graph_in_turtle(client):
    query = f"DESCRIBE <{PRACTICE}cocoon-watch>"
    response = client.get("/sparql", query_string={"query": query})
    assert response.headers["Content-Type"] == by_name("ttl").content_type
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    assert (rdflib.URIRef(PRACTICE + "cocoon-watch"), DCTERMS.title,
            rdflib.Literal("Cocoon neighbourhood watch")) in graph


# -- format= beats Accept --------------------------------------------------------------------


def test_format_parameter_overrides_accept(client):
    response = client.get("/sparql", query_string={"query": TITLES_QUERY, "format": "csv"},
                          headers={"Accept": "application/sparql-results+xml"})
    assert response.headers["Content-Type"] == by_name("csv").content_type
    assert titles_from_csv(response.data) == TITLES


def test_format_parameter_in_a_form_post(client):
    response = client.post("/sparql", data={"query": TITLES_QUERY, "format": "tsv"})
    assert response.headers["Content-Type"] == by_name("tsv").content_type
    assert titles_from_tsv(response.data) == TITLES


def test_format_parameter_alias_and_media_type(client):
    by_alias = client.get("/sparql", query_string={"query": TITLES_CONSTRUCT, "format": "json-ld"})
    assert by_alias.headers["Content-Type"] == by_name("jsonld").content_type
    by_type = client.get("/sparql", query_string={"query": TITLES_CONSTRUCT,
                                                  "format": "application/n-triples"})
    assert by_type.headers["Content-Type"] == by_name("nt").content_type


def test_format_parameter_of_the_wrong_kind_is_406(client):
    response = client.get("/sparql", query_string={"query": TITLES_QUERY, "format": "ttl"})
    assert response.status_code == 406
    message = error_of(response)["message"]
    assert "format=json" in message and "format=csv" in message


# -- the three request shapes ----------------------------------------------------------------


def test_get_form_post_and_direct_post_give_the_same_answer(client):
    get = client.get("/sparql", query_string={"query": TITLES_QUERY})
    form = client.post("/sparql", data={"query": TITLES_QUERY})
    direct = client.post("/sparql", data=TITLES_QUERY.encode("utf-8"),
                         content_type="application/sparql-query")
    for response in (get, form, direct):
        assert response.status_code == 200
        assert titles_from_json(response.data) == TITLES


def test_head_has_the_headers_of_get_and_no_body(client):
    response = client.head("/sparql", query_string={"query": TITLES_QUERY},
                           headers={"Accept": "text/csv"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == by_name("csv").content_type
    assert response.data == b""


def test_direct_post_is_utf8_and_ignores_the_charset_parameter(client):
    query = 'SELECT ?title WHERE { BIND("Tŷ Hafan – café" AS ?title) }'
    response = client.post("/sparql", data=query.encode("utf-8"),
                           content_type="application/sparql-query; charset=utf-8")
    assert titles_from_json(response.data) == ["Tŷ Hafan – café"]


def test_direct_post_that_is_not_utf8_is_400(client):
    response = client.post("/sparql", data='SELECT ("é" AS ?x) {}'.encode("latin-1"),
                           content_type="application/sparql-query")
    assert response.status_code == 400
    assert "UTF-8" in error_of(response)["message"]


def test_default_graph_uri_restricts_the_default_graph(client):
    def titles(**params):
        response = client.get("/sparql", query_string={"query": TITLES_QUERY, **params})
        assert response.status_code == 200
        return titles_from_json(response.data)

    assert titles() == TITLES  # the union of every graph
    assert titles(**{"default-graph-uri": TEST_GRAPH}) == [
        "Cocoon neighbourhood watch", "Improved street lighting"]
    assert titles(**{"default-graph-uri": OTHER_GRAPH}) == ["Café quarter safer streets"]
    assert titles(**{"default-graph-uri": [TEST_GRAPH, OTHER_GRAPH]}) == TITLES


def test_named_graph_uri_limits_graph_patterns(client):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = client.post("/sparql", data={"query": query, "named-graph-uri": OTHER_GRAPH})
    graphs = [row["g"]["value"] for row in json.loads(response.data)["results"]["bindings"]]
    assert graphs == [OTHER_GRAPH]


def test_graph_uri_that_is_not_an_iri_is_400(client):
    response = client.get("/sparql", query_string={"query": TITLES_QUERY,
                                                   "default-graph-uri": "not an iri"})
    assert response.status_code == 400
    assert "default-graph-uri" in error_of(response)["message"]


# -- errors ----------------------------------------------------------------------------------


def test_syntax_error_is_400_with_the_parsers_line_and_column(client):
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE {\n  ?s ?p "})
    assert response.status_code == 400
    body = error_of(response)
    assert body["error"] == "syntax_error"
    assert re.search(r"\b2:\d+\b", body["message"]), body["message"]


def test_errors_are_plain_text_when_the_client_prefers_text(client):
    response = client.get("/sparql", query_string={"query": "SELECT"},
                          headers={"Accept": "text/plain"})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("syntax_error: ")


@pytest.mark.parametrize("query", [None, "", "   \n"])
def test_missing_query_is_400_saying_how_to_send_one(client, query):
    # A GET without any query= is the service description; an empty one, or a POST
    # without a query, is the error.
    if query is None:
        response = client.post("/sparql", data="",
                               content_type="application/x-www-form-urlencoded")
    else:
        response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    body = error_of(response)
    assert body["error"] == "missing_query"
    assert "application/sparql-query" in body["message"] and "query=" in body["message"]


def test_two_query_parameters_are_400(client):
    response = client.get("/sparql", query_string=[("query", "ASK {}"), ("query", "ASK {}")])
    assert response.status_code == 400
    assert "exactly one" in error_of(response)["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", None])
def test_other_post_content_types_are_415(client, content_type):
    response = client.post("/sparql", data=b"ASK {}", content_type=content_type)
    assert response.status_code == 415
    body = error_of(response)
    assert body["error"] == "unsupported_media_type"
    assert "application/sparql-query" in body["message"]


def test_nothing_acceptable_is_406_naming_what_is(client):
    response = client.get("/sparql", query_string={"query": TITLES_QUERY},
                          headers={"Accept": "image/png"})
    assert response.status_code == 406
    body = error_of(response)
    assert body["error"] == "not_acceptable"
    assert "application/sparql-results+json" in body["message"]
    assert "text/csv" in body["message"]


def test_results_types_are_not_acceptable_for_a_graph(client):
    response = client.get("/sparql", query_string={"query": TITLES_CONSTRUCT},
                          headers={"Accept": "text/csv"})
    assert response.status_code == 406
    assert "text/turtle" in error_of(response)["message"]


@pytest.mark.parametrize("shape", ["direct", "form"])
def test_oversize_body_is_413(store, shape):
    app = create_app({"TESTING": True, "STORE": store, "MAX_CONTENT_LENGTH": 64})
    client = app.test_client()
    query = TITLES_QUERY + " #" + "x" * 100
    if shape == "direct":
        response = client.post("/sparql", data=query.encode(),
                               content_type="application/sparql-query")
    else:
        response = client.post("/sparql", data={"query": query})
    assert response.status_code == 413
    body = error_of(response)
    assert body["error"] == "payload_too_large"
    assert "64 bytes" in body["message"]


def test_a_short_body_passes_the_same_limit(store):
    app = create_app({"TESTING": True, "STORE": store, "MAX_CONTENT_LENGTH": 64})
    response = app.test_client().post("/sparql", data=b"ASK {}",
                                      content_type="application/sparql-query")
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_write_methods_on_sparql_are_405(client, method):
    response = client.open("/sparql", method=method, data=b"x")
    assert response.status_code == 405
    assert error_of(response)["error"] == "method_not_allowed"
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed and method not in allowed


def test_unknown_path_is_404_in_the_error_shape(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"


def test_store_fault_is_a_logged_500_without_internals(app, caplog):
    # A fault inside the store cannot be caused on demand; the mapping from the worker's
    # report to the client's answer is what can go wrong, so it is tested directly.
    with app.test_request_context("/sparql"), caplog.at_level(logging.ERROR):
        error = job_error(JobError(500, "internal_error", "store fault: disk on fire"))
    assert error.code == 500 and error.kind == "internal_error"
    assert "disk on fire" not in error.message  # internals stay in the log
    assert any("disk on fire" in record.getMessage() for record in caplog.records)


def test_unreachable_remote_endpoint_is_502_naming_it(store):
    app = create_app({"TESTING": True, "STORE": store,
                      "SERVICE_ALLOWLIST": "http://127.0.0.1:1/"})
    query = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    response = app.test_client().get("/sparql", query_string={"query": query})
    assert response.status_code == 502
    body = error_of(response)
    assert body["error"] == "remote_endpoint_failed"
    assert "http://127.0.0.1:1/sparql" in body["message"]


# -- CORS and Vary ---------------------------------------------------------------------------


def test_answers_are_public_and_vary_with_accept(client):
    ok = client.get("/sparql", query_string={"query": TITLES_QUERY})
    bad = client.get("/sparql", query_string={"query": "SELECT"})
    for response in (ok, bad):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Accept" in response.vary


def test_cors_preflight(client):
    response = client.options("/sparql", headers={
        "Origin": "https://example.org",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type",
    })
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


# -- the protocol handler and the negotiator without a request -------------------------------


def test_handle_query_needs_no_request(store):
    offered = []

    def last(formats):
        offered.append([f.name for f in formats])
        return formats[-1]

    response = handle_query(store, TITLES_CONSTRUCT, last)
    # Negotiated once, for the kind of answer the query's form gives (a graph).
    assert offered == [[f.name for f in of_kind("rdf")] + ["html"]]
    assert response.headers["Content-Type"] == by_name("html").content_type

    response = handle_query(store, TITLES_QUERY, lambda formats: formats[0],
                            default_graph=[ox.NamedNode(OTHER_GRAPH)])
    assert titles_from_json(response.get_data()) == ["Café quarter safer streets"]


def test_handle_query_raises_400_on_a_syntax_error(store):
    with pytest.raises(EndpointError) as caught:
        handle_query(store, "SELEC ?x", lambda formats: formats[0])
    assert caught.value.code == 400
    assert "1:" in caught.value.message


@pytest.mark.parametrize(
    ("accept", "requested", "expected"),
    [
        ("", None, "json"),
        ("text/csv, application/sparql-results+xml", None, "xml"),  # equal q: table order
        ("text/csv;q=0.9, application/sparql-results+xml", None, "xml"),
        ("text/tab-separated-values;charset=utf-8", None, "tsv"),
        ("image/png", "srx", "xml"),  # format= wins, aliases count
        ("*/*", "CSV", "csv"),
    ],
)
def test_choose_format(accept, requested, expected):
    parsed = parse_accept_header(accept, MIMEAccept)
    assert choose_format(of_kind("results"), accept=parsed, requested=requested).name == expected


def test_choose_format_refuses_with_406():
    with pytest.raises(EndpointError) as caught:
        choose_format(of_kind("rdf"), accept=parse_accept_header("text/csv", MIMEAccept))
    assert caught.value.code == 406


# -- pages -----------------------------------------------------------------------------------


def test_landing_page_shows_the_counts(client, store):
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    stats = store.stats()
    assert stats["practices"] == 3
    for key in ("practices", "forces", "organisations", "concepts", "triples"):
        assert f'<data value="{stats[key]}">' in page.split(f'id="count-{key}"')[1][:80]
    assert 'id="count-concept-schemes"' in page
    assert '<form method="get" action="/sparql">' in page
    assert 'href="/sparql"' in page


def test_landing_page_counts_are_kept_until_a_write_changes_them(store):
    """The counts are five COUNT queries: computed once per committed write, not per visit,
    so a change the server did not make is not seen, and one it made is."""
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t"}).test_client()

    def organisations() -> int:
        page = client.get("/").get_data(as_text=True)
        return int(re.search(r'id="count-organisations"><data value="(\d+)"', page).group(1))

    before = organisations()
    outside = "<urn:x:outside> a <https://w3id.org/practicebank/def/Organisation> ."
    store.ox.update(f"INSERT DATA {{ GRAPH <urn:x:scratch> {{ {outside} }} }}")
    assert organisations() == before  # not by the server: the cached counts stand
    response = client.post("/store?graph=urn:x:scratch", data=outside.replace("outside", "in"),
                           content_type="text/turtle",
                           headers={"Authorization": "Bearer t"})
    assert response.status_code in (201, 204), response.data
    assert organisations() == before + 2  # a committed write: counted again


def test_landing_page_example_query_runs(client):
    page = client.get("/").get_data(as_text=True)
    textarea = re.search(r'<textarea[^>]*name="query"[^>]*>(.*?)</textarea>', page, re.S)
    pre = re.search(r"<pre><code>(.*?)</code></pre>", page, re.S)
    query = html.unescape(textarea.group(1))
    assert html.unescape(pre.group(1)) == query
    formats = re.findall(r'<option value="([^"]+)"', page)
    assert formats == [f.name for f in of_kind("results")]

    response = client.get("/sparql", query_string={"query": query, "format": formats[0]})
    rows = json.loads(response.data)["results"]["bindings"]
    assert [row["title"]["value"] for row in rows] == TITLES
    assert {row["title"]["value"]: row.get("rating", {}).get("value") for row in rows} == {
        "Café quarter safer streets": None,
        "Cocoon neighbourhood watch": None,
        "Improved street lighting": "Promising",
    }


def test_stylesheet_is_served(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_health(client, store):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "ready": True, "warming": False,
                                   "triples": len(store.ox), "workers": 0, "threads": 0,
                                   "busy": 0}


# -- configuration and the store accessor ----------------------------------------------------


def test_store_path_is_opened_lazily_and_once(tmp_path):
    path = tmp_path / "store"
    app = create_app({"TESTING": True, "STORE_PATH": str(path), "WORKERS": -1})
    assert not path.exists()
    response = app.test_client().get("/health")
    assert response.get_json()["triples"] == 0
    assert path.exists()
    with app.app_context():
        assert get_store() is get_store()


def test_config_order_defaults_then_env_then_mapping(monkeypatch, store):
    monkeypatch.setenv("PRACTICEBANK_MAX_CONTENT_LENGTH", "2048")
    monkeypatch.setenv("PRACTICEBANK_STORE", "/srv/practicebank/store")
    from_env = create_app()
    assert from_env.config["MAX_CONTENT_LENGTH"] == 2048
    assert from_env.config["STORE_PATH"] == "/srv/practicebank/store"
    assert "STORE" not in from_env.config  # the env's path is not mistaken for a store
    from_mapping = create_app({"MAX_CONTENT_LENGTH": 10, "STORE": store})
    assert from_mapping.config["MAX_CONTENT_LENGTH"] == 10
    assert from_mapping.config["STORE"] is store


def test_default_body_limit_is_one_mebibyte(monkeypatch):
    monkeypatch.delenv("PRACTICEBANK_MAX_CONTENT_LENGTH", raising=False)
    assert create_app().config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_each_app_is_independent(store):
    first, second = create_app({"STORE": store}), create_app({"STORE_PATH": "elsewhere"})
    assert first is not second
    assert "STORE" not in second.config


# -- one real server -------------------------------------------------------------------------


def test_serve_answers_real_http(tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVE_SCRIPT, str(port), TEST_GRAPH, TEST_TURTLE + OTHER_TURTLE,
             str(tmp_path / "store")],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as health:
                    assert json.load(health)["status"] == "ok"
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "server did not answer within 30 s"
                time.sleep(0.1)

        url = f"{base}/sparql?" + urllib.parse.urlencode({"query": TITLES_QUERY})
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.headers["Content-Type"] == by_name("json").content_type
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert titles_from_json(response.read()) == TITLES
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert f"practicebank endpoint on http://127.0.0.1:{port}/sparql" in log.read_text()


# -- which answers may stream: a cut copy of a "closed" format does not parse ----------------

CUT_DATA = ox.Store()
for i in range(40):
    CUT_DATA.add(ox.Quad(ox.NamedNode(f"urn:x:s{i}"), ox.NamedNode("urn:x:p"),
                         ox.Literal(f"value {i}")))


def _serialised(fmt: Format) -> bytes:
    if fmt.kind == "results":
        return CUT_DATA.query("SELECT * WHERE { ?s ?p ?o }").serialize(format=fmt.results_format)
    return CUT_DATA.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(format=fmt.rdf_format)


def _parses(fmt: Format, data: bytes) -> bool:
    """Whether Oxigraph's parser (Python's for CSV, which Oxigraph does not read) accepts
    ``data`` as a whole document of ``fmt``."""
    try:
        if fmt.name == "csv":
            list(csv.reader(io.StringIO(data.decode(errors="strict"))))
        elif fmt.kind == "results":
            parsed = ox.parse_query_results(data, format=fmt.results_format)
            list(parsed)
        else:
            list(ox.parse(data, format=fmt.rdf_format))
    except (SyntaxError, ValueError):  # UnicodeDecodeError is a ValueError
        return False
    return True


@pytest.mark.parametrize("fmt", of_kind("results") + of_kind("rdf"),
                         ids=lambda f: f.name)
def test_a_closed_format_cut_short_never_parses_and_an_open_one_may(fmt):
    """The endpoint streams large answers only in formats flagged ``closed``, because a
    deadline that cuts one leaves a document no parser accepts; the others are sent whole."""
    data = _serialised(fmt)
    assert _parses(fmt, data)
    cuts = [data[:n] for n in range(1, len(data))]
    if fmt.closed:
        assert not any(_parses(fmt, cut) for cut in cuts)
    else:
        assert any(_parses(fmt, cut) for cut in cuts)  # a cut at a line end passes for whole
