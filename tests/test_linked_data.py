"""Every IRI under the public base dereferences: 303s, documents, headers, 404s, escaping.

Most tests go through Flask's test client on an in-memory store holding the demo data (what
``serve --demo`` loads); the real clients (rdflib fetching an IRI, the crawler's HTTP) go to a
live server on loopback.
"""

from __future__ import annotations

import html.parser
import json
import re
import urllib.parse

import pyoxigraph as ox
import pytest
import rdflib
from endpoint_live import LiveServer

from practicebank.endpoint import create_app
from practicebank.endpoint.compact_json import context_document
from practicebank.endpoint.descriptions import INCOMING_PAGE
from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
LOCAL = "http://localhost/"
PRACTICE = "id/practice/clear-hold-build"
#: One resource of every kind the graph holds, by path under the base.
KINDS = {
    "practice": PRACTICE,
    "force": "id/force/avon-and-somerset",
    "organisation": "id/organisation/college-of-policing",
    "concept": "concept/does-it-work/promising",
    "scheme": "concept/topic",
    "graph": "graph/sample",
    "term": "def/Practice",
    "property": "def/rating",
}
RDF_DOCUMENTS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
                 "jsonld": ox.RdfFormat.JSON_LD, "rdf": ox.RdfFormat.RDF_XML}
MEDIA = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json",
         "nt": "application/n-triples", "rdf": "application/rdf+xml", "json": "application/json"}


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


def first(store: PracticeStore, query: str) -> str:
    return next(iter(store.query(query)))[0].value


@pytest.fixture(scope="module")
def kinds(demo_store) -> dict[str, str]:
    """KINDS, plus records found in the data: an evaluation, an assessment, a recognition."""
    found = dict(KINDS)
    for kind, cls in (("evaluation", "Evaluation"), ("assessment", "RatingAssessment"),
                      ("recognition", "TilleyAward")):
        iri = first(demo_store, f"SELECT ?x WHERE {{ ?x a <{BASE}def/{cls}> }} LIMIT 1")
        found[kind] = iri[len(BASE):]
    return found


# -- 303 and content negotiation ------------------------------------------------------------

@pytest.mark.parametrize("accept, extension", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdf"),
    ("application/json", "json"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", "jsonld"),
    ("application/rdf+xml;q=0.3, text/turtle;q=0.8, */*;q=0.1", "ttl"),
    ("*/*", "html"),
])
def test_a_thing_answers_303_to_the_document_negotiated(client, accept, extension):
    response = client.get(f"/{PRACTICE}", headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{LOCAL}{PRACTICE}.{extension}"
    assert "Accept" in response.headers["Vary"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_thing_with_nothing_acceptable_gets_406(client):
    response = client.get(f"/{PRACTICE}", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_graph_iris_also_offer_their_contents_as_trig_and_nquads(client, demo_store):
    response = client.get("/graph/sample", headers={"Accept": "application/trig"})
    assert response.status_code == 303 and response.headers["Location"].endswith(".trig")
    response = client.get("/graph/sample.nq")
    assert response.status_code == 200
    quads = list(ox.parse(response.data, ox.RdfFormat.N_QUADS))
    expected = set(demo_store.quads_of(ox.NamedNode(BASE + "graph/sample")))
    assert set(quads) == expected
    assert client.get(f"/{PRACTICE}.trig").status_code == 404  # not a graph


# -- documents ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", [*KINDS, "evaluation", "assessment", "recognition"])
@pytest.mark.parametrize("extension", [*RDF_DOCUMENTS, "json", "html"])
def test_every_format_of_every_kind_parses(client, kinds, kind, extension):
    path = kinds[kind]
    response = client.get(f"/{path}.{extension}")
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == MEDIA[extension]
    iri = ox.NamedNode(BASE + path)
    if extension in RDF_DOCUMENTS:
        triples = list(ox.parse(response.data, RDF_DOCUMENTS[extension]))
        assert any(t.subject == iri or t.object == iri for t in triples)
    elif extension == "json":
        data = json.loads(response.data)
        if path.startswith("def/"):
            assert data["id"] == iri.value
        data["@context"] = context_document()["@context"]  # as a JSON-LD processor would
        graph = rdflib.Graph().parse(data=json.dumps(data), format="json-ld")
        assert (rdflib.URIRef(iri.value), None, None) in graph
    else:
        Checker().check(response.data.decode())


def test_a_description_holds_the_cbd_labels_of_links_and_incoming_links(client, demo_store):
    iri = ox.NamedNode(BASE + PRACTICE)
    triples = {ox.Triple(q.subject, q.predicate, q.object)
               for q in ox.parse(client.get(f"/{PRACTICE}.nt").data, ox.RdfFormat.N_TRIPLES)}
    own = {ox.Triple(q.subject, q.predicate, q.object)
           for q in demo_store.view().quads_for_pattern(iri, None, None, None)}
    assert own <= triples
    force = ox.NamedNode(BASE + "id/force/west-yorkshire")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    assert any(t.subject == force and t.predicate == label for t in triples)
    incoming = {ox.Triple(q.subject, q.predicate, q.object)
                for q in demo_store.view().quads_for_pattern(None, None, iri, None)}
    assert incoming and incoming <= triples


def test_blank_nodes_are_followed_and_incoming_links_are_paged():
    store = PracticeStore()
    concept = f"<{BASE}concept/topic/paging-test>"
    lines = [f"{concept} <http://www.w3.org/2004/02/skos/core#prefLabel> \"Paging\"@en ."]
    lines.append(f"{concept} <{BASE}def/cost> _:a . _:a <https://schema.org/value> _:b . "
                 "_:b <https://schema.org/name> \"deep\" .")
    n = INCOMING_PAGE + 30
    lines += [f"<{BASE}id/practice/p{i}> <{BASE}def/topic> {concept} ." for i in range(n)]
    store.ox.load("\n".join(lines).encode(), ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(BASE + "graph/test"))
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    first_page = set(ox.parse(client.get("/concept/topic/paging-test.nt").data,
                              ox.RdfFormat.N_TRIPLES))
    deep = [t for t in first_page if isinstance(t.object, ox.Literal) and t.object.value == "deep"]
    assert deep, "the blank node two hops away is in the description"
    topic = ox.NamedNode(BASE + "def/topic")
    page0 = {t.subject for t in first_page if t.predicate == topic}
    second = client.get("/concept/topic/paging-test.nt?incoming=1").data
    page1 = {t.subject for t in ox.parse(second, ox.RdfFormat.N_TRIPLES) if t.predicate == topic}
    assert len(page0) == INCOMING_PAGE and len(page1) == n - INCOMING_PAGE
    assert not page0 & page1
    page = client.get("/concept/topic/paging-test.html").data.decode()
    assert "?incoming=1" in page


# -- headers --------------------------------------------------------------------------------

def test_documents_carry_alternates_location_validators_and_cors(client):
    response = client.get(f"/{PRACTICE}.ttl")
    links = response.headers["Link"]
    assert f'<{BASE}{PRACTICE}>; rel="describes"' in links
    for extension, media_type in MEDIA.items():
        if extension != "ttl":
            assert f'<{LOCAL}{PRACTICE}.{extension}>; rel="alternate"; type="{media_type}"' \
                in links
    assert response.headers["Content-Location"] == f"{LOCAL}{PRACTICE}.ttl"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
    assert client.get(f"/{PRACTICE}.ttl", headers={"If-None-Match": etag}).status_code == 304
    assert client.get(f"/{PRACTICE}.ttl",
                      headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(f"/{PRACTICE}.html", headers={"If-None-Match": etag}).status_code == 200
    head = client.head(f"/{PRACTICE}.ttl")
    assert head.status_code == 200 and head.data == b""
    assert head.headers["ETag"] == etag


def test_a_write_changes_the_validators(tmp_path):
    store = PracticeStore()
    ensure_demo(store)
    app = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t"})
    client = app.test_client()
    etag = client.get(f"/{PRACTICE}.ttl").headers["ETag"]
    update = (f'INSERT DATA {{ GRAPH <{BASE}graph/extra> {{ <{BASE}id/note/n1> '
              f'<http://www.w3.org/2000/01/rdf-schema#label> "a note"@en }} }}')
    response = client.post("/update", data=update, headers={
        "Content-Type": "application/sparql-update", "Authorization": "Bearer t"})
    assert response.status_code in (200, 204), response.data
    response = client.get(f"/{PRACTICE}.ttl", headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert b"a note" in client.get("/id/note/n1.ttl").data


# -- not found ------------------------------------------------------------------------------

@pytest.mark.parametrize("extension, media_type", [
    ("html", "text/html"), ("ttl", "text/turtle"), ("json", "application/json"),
    ("jsonld", "application/ld+json"), ("nt", "application/n-triples"),
    ("rdf", "application/rdf+xml")])
def test_an_unknown_iri_is_404_in_the_format_asked_for(client, extension, media_type):
    response = client.get(f"/id/practice/no-such-practice.{extension}")
    assert response.status_code == 404
    assert response.mimetype == media_type
    if extension in RDF_DOCUMENTS:
        assert list(ox.parse(response.data, RDF_DOCUMENTS[extension])) == []
    thing = client.get("/id/practice/no-such-practice", headers={"Accept": media_type})
    assert thing.status_code == 404 and thing.mimetype == media_type


@pytest.mark.parametrize("path", [
    "/id/practice/a%20b", "/id/practice/a%0Ab.ttl", "/id/practice/%3Cscript%3E",
    "/id/" + "x" * 5000, "/def/no-such-term.html", "/concept/no/such/concept.ttl",
    "/graph/no-such-graph.trig", "/id/practice/x.exe", "/def/9.9.9/", "/id/nothing/"])
def test_odd_paths_get_404_never_500(client, path):
    response = client.get(path)
    assert response.status_code == 404, (path, response.status_code)


# -- links stay on the server; the public base is configurable -------------------------------

def test_links_stay_on_the_server_the_reader_is_on(client):
    page = client.get(f"/{PRACTICE}.html").data.decode()
    assert f'<link rel="canonical" href="{BASE}{PRACTICE}">' in page
    assert f'href="{LOCAL}id/force/west-yorkshire"' in page
    assert f'href="{BASE}id/force/west-yorkshire"' not in page
    results = client.get("/sparql", query_string={
        "query": f"SELECT ?p WHERE {{ ?p a <{BASE}def/PoliceForce> }} LIMIT 3",
        "format": "html"}).data.decode()
    assert f'href="{LOCAL}id/force/' in results


def test_on_the_public_host_links_are_the_public_iris(demo_store):
    app = create_app({"TESTING": True, "STORE": demo_store, "PUBLIC_BASE": "http://localhost/"})
    client = app.test_client()
    # The data's IRIs are under w3id.org, so nothing under http://localhost/ is known ...
    assert client.get(f"/{PRACTICE}.html").status_code == 404
    # ... and a page on the public host links to the IRIs as they are.
    page = create_app({"TESTING": True, "STORE": demo_store}).test_client().get(
        f"/{PRACTICE}.html", base_url="https://w3id.org/practicebank/").data.decode()
    assert f'href="{BASE}id/force/west-yorkshire"' in page


# -- escaping -------------------------------------------------------------------------------

MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def hostile_store() -> PracticeStore:
    store = PracticeStore()
    ensure_demo(store)
    practice = f"<{BASE}id/practice/hostile>"
    text = json.dumps(MARKUP)
    store.ox.load(f"""
        {practice} a <{BASE}def/Practice> ;
            <http://purl.org/dc/terms/title> {text}@en ;
            <{BASE}def/abstract> {text} ;
            <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)> ;
            <{BASE}def/topic> <{BASE}concept/topic/acquisitive-crime> ;
            <{BASE}def/organisation> <{BASE}id/force/avon-and-somerset> .
        <{BASE}concept/does-it-work/promising> <http://www.w3.org/2000/01/rdf-schema#comment>
            {text} .
    """.encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE + "graph/hostile"))
    return store


def test_every_literal_is_escaped_on_every_page_and_in_html_results():
    client = create_app({"TESTING": True, "STORE": hostile_store()}).test_client()
    pages = ["/id/practice/hostile.html", "/id/practice/", "/concept/topic/acquisitive-crime.html",
             "/concept/does-it-work/promising.html", "/id/force/avon-and-somerset.html",
             "/graph/hostile.html", "/concept/topic.html"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        body = response.data.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, path
        assert 'href="javascript:' not in body.lower(), path
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        Checker().check(body)
    assert "&lt;script&gt;" in client.get("/id/practice/hostile.html").data.decode()
    results = client.get("/sparql", query_string={
        "query": f"SELECT ?t ?s WHERE {{ <{BASE}id/practice/hostile> ?p ?t . "
                 f"OPTIONAL {{ <{BASE}id/practice/hostile> "
                 f"<http://www.w3.org/2000/01/rdf-schema#seeAlso> ?s }} }}",
        "format": "html"}).data.decode()
    assert "<script>alert" not in results and 'href="javascript:' not in results
    # JSON-LD data blocks cannot be closed early by a literal.
    page = client.get("/id/practice/hostile.html").data.decode()
    for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S):
        assert json.loads(block)["name"] == MARKUP


class Checker(html.parser.HTMLParser):
    """Fails on an executable script or an inline style: the pages must work under the CSP."""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        assert "style" not in attributes, (tag, attrs)
        assert not any(name.startswith("on") for name in attributes), (tag, attrs)
        if tag == "script":
            assert attributes.get("type") == "application/ld+json", attrs

    def check(self, text: str) -> None:
        self.feed(text)
        self.close()


# -- real clients ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("linked-data-live")
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "1") as server:
        yield server


def test_rdflib_parses_a_practice_iri_from_the_live_server(live):
    graph = rdflib.Graph().parse(f"{live.base}/{PRACTICE}")
    title = graph.value(rdflib.URIRef(BASE + PRACTICE),
                        rdflib.URIRef("http://purl.org/dc/terms/title"))
    assert str(title) == "Clear, Hold, Build"


def test_a_crawler_from_the_landing_page_reaches_everything_within_four_hops(live, demo_store):
    expected = set()
    for cls in ("Practice", "PoliceForce"):
        expected |= {row[0].value for row in demo_store.query(
            f"SELECT DISTINCT ?x WHERE {{ ?x a <{BASE}def/{cls}> }}")}
    expected |= {row[0].value for row in demo_store.query(
        "SELECT DISTINCT ?x WHERE { ?x a <http://www.w3.org/2004/02/skos/core#Concept> "
        f"FILTER STRSTARTS(STR(?x), '{BASE}concept/') }}")}
    reached, failures = crawl(live, hops=4)
    assert not failures, failures[:10]
    missing = {iri for iri in expected if iri not in reached}
    assert not missing, sorted(missing)[:20]


def crawl(live: LiveServer, hops: int) -> tuple[set[str], list]:
    """Follow every link on this server, breadth first, from the landing page; the public
    IRIs of the documents reached, and the links that failed."""
    seen: set[str] = set()
    reached: set[str] = set()
    failures = []
    frontier = [f"{live.base}/"]
    for _hop in range(hops + 1):
        following = []
        for url in frontier:
            if url in seen:
                continue
            seen.add(url)
            status, headers, body = live.request("GET", url, headers={"Accept": "text/html"})
            if status != 200:
                failures.append((url, status))
                continue
            path = urllib.parse.urlsplit(url).path.lstrip("/")
            stem = path[:-5] if path.endswith(".html") else path
            reached.add(BASE + stem)
            if not headers.get("Content-Type", "").startswith("text/html"):
                continue
            for href in Links.of(body.decode()):
                target = urllib.parse.urljoin(url, href).split("#")[0]
                if target.startswith(live.base) and "/sparql" not in target \
                        and "/dumps/" not in target and not target.endswith(
                            (".ttl", ".nt", ".rdf", ".jsonld", ".json", ".trig", ".nq")):
                    if not target.endswith(".html") and _thing(target, live):
                        target += ".html"  # the 303 it would follow
                    following.append(target)
        frontier = following
    return reached, failures


def _thing(url: str, live: LiveServer) -> bool:
    path = urllib.parse.urlsplit(url).path
    return (path.startswith(("/id/", "/concept/", "/graph/", "/def/"))
            and not path.endswith("/") and "?" not in url)


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)

    @classmethod
    def of(cls, text: str) -> list[str]:
        parser = cls()
        parser.feed(text)
        return parser.hrefs


def test_turtle_of_the_live_server_matches_the_in_process_description(live, client):
    status, _, body = live.request("GET", f"{live.base}/{PRACTICE}.ttl")
    assert status == 200
    # The dataset description names a few example resources, which may differ between two
    # stores loaded alike (the first found): links from it are left out of the comparison.
    dataset = BASE + "id/dataset/"

    def triples(data: bytes) -> set:
        return {q for q in ox.parse(data, ox.RdfFormat.TURTLE)
                if not q.subject.value.startswith(dataset)}

    assert triples(body) == triples(client.get(f"/{PRACTICE}.ttl").data)


# -- smaller promises -------------------------------------------------------------------------

def test_cors_preflights_of_documents_are_answered(client):
    response = client.options(f"/{PRACTICE}.ttl", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Accept, If-None-Match"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]


def test_the_ontology_and_its_versions_dereference(client):
    assert client.get("/def/2.0.0/").status_code == 200
    assert client.get("/def/9.9.9/").status_code == 404
    response = client.get("/def", headers={"Accept": "text/turtle"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/def.ttl")
    triples = list(ox.parse(client.get("/def.ttl").data, ox.RdfFormat.TURTLE))
    assert len(triples) > 500  # the whole ontology, not one resource
    # the ontology has no compact JSON form: JSON asks for nothing it can have
    assert client.get("/def", headers={"Accept": "application/json"}).status_code == 406
    assert client.get("/def.json").status_code == 404


def test_a_current_etag_is_answered_before_anything_is_read(client, monkeypatch):
    from practicebank.endpoint import linked_data

    etag = client.get(f"/{PRACTICE}.ttl").headers["ETag"]
    monkeypatch.setattr(linked_data, "describe", lambda *a, **k: pytest.fail("read"))
    assert client.get(f"/{PRACTICE}.ttl", headers={"If-None-Match": etag}).status_code == 304
    monkeypatch.undo()
    stale = client.get(f"/{PRACTICE}.ttl", headers={"If-None-Match": '"old-ttl"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == etag


def test_the_last_page_of_incoming_links_offers_no_more(monkeypatch):
    from practicebank.endpoint import linked_data

    store = PracticeStore()
    concept = f"<{BASE}concept/topic/many>"
    store.ox.load("\n".join(f"<{BASE}id/practice/q{i}> <{BASE}def/topic> {concept} ."
                            for i in range(INCOMING_PAGE * 3)).encode(),
                  ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(BASE + "graph/test"))
    monkeypatch.setattr(linked_data, "MAX_INCOMING_PAGE", 1)
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    assert "?incoming=1" in client.get("/concept/topic/many.html").data.decode()
    last = client.get("/concept/topic/many.html?incoming=1").data.decode()
    assert "?incoming=2" not in last and "?incoming=0" in last
    # the links read for page 0 are remembered, and page 1 gives the next ones
    pages = [{t.subject for t in ox.parse(client.get(
        f"/concept/topic/many.nt?incoming={n}").data, ox.RdfFormat.N_TRIPLES)
        if t.predicate.value == BASE + "def/topic"} for n in (0, 1)]
    assert len(pages[0]) == len(pages[1]) == INCOMING_PAGE and not pages[0] & pages[1]


def test_a_write_to_the_dataset_description_is_replaced_at_once():
    store = PracticeStore()
    ensure_demo(store)
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t"}).test_client()
    update = (f'INSERT DATA {{ GRAPH <{BASE}graph/dataset> {{ <{BASE}id/dataset/practicebank> '
              f'<http://purl.org/dc/terms/title> "forged"@en }} }}')
    response = client.post("/update", data=update, headers={
        "Content-Type": "application/sparql-update", "Authorization": "Bearer t"})
    assert response.status_code in (200, 204), response.data
    assert b"forged" not in client.get("/dataset", headers={"Accept": "text/turtle"}).data
    assert not bool(store.query(
        f'ASK {{ GRAPH <{BASE}graph/dataset> {{ ?s ?p "forged"@en }} }}'))


# -- behind a reverse proxy ---------------------------------------------------------------


def test_behind_proxy_hops_the_forwarded_scheme_and_host_make_the_links(demo_store):
    """With ``proxy_hops = 1`` (nginx terminating TLS in front), the 303, Content-Location
    and the page's links use the scheme and host the client used, not the proxy's hop."""
    client = create_app({"TESTING": True, "STORE": demo_store, "PROXY_HOPS": 1}).test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "data.example.org",
                 "X-Forwarded-For": "203.0.113.9", "Accept": "text/html"}
    practice = first(demo_store,
                     f"SELECT ?s WHERE {{ ?s a <{BASE}def/Practice> }} ORDER BY ?s LIMIT 1")
    path = "/" + practice[len(BASE):]
    hop = client.get(path, headers=forwarded)
    assert hop.status_code == 303
    assert hop.headers["Location"] == f"https://data.example.org{path}.html"
    page = client.get(path + ".html", headers=forwarded)
    assert page.status_code == 200
    assert page.headers["Content-Location"].startswith("https://data.example.org/")
    assert 'href="https://data.example.org/' in page.get_data(as_text=True)
    assert 'href="http://data.example.org/' not in page.get_data(as_text=True)
