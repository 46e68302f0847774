"""The W3C SPARQL 1.1 conformance manifests, run in process against the app.

Protocol (34 tests), Graph Store Protocol (14: the 5 tests of manifest-direct.ttl, one of
which its entry list leaves out, and the 9 of manifest-indirect.ttl) and Service Description
(3). Each test gets a fresh app around an in-memory store with a write token, and every
request carries the token: authorisation is orthogonal to what the tests check. Request
paths are mapped as the manifests say (``/sparql/`` to ``/sparql``, ``/gsp`` to ``/store``)
on the connection authority ``www.example``. One more test runs the shared
``w3c_protocol_check.py`` once against a real server process.

The runner takes a :data:`Send` (one request in, one :class:`Reply` out), so the same
checks run through Flask's test client here and, by :func:`http_send`, against a real
``practicebank serve`` on each store backend (tests/test_backends.py).
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import find_shared
from rdflib import RDF, RDFS, Namespace
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from practicebank.endpoint import create_app
from practicebank.store import PracticeStore

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

W3C = find_shared() / "conformance" / "w3c"
TOKEN = "w3c-conformance"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOST = "http://www.example"
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
RDF_PARSERS = {"text/turtle": "turtle", "application/n-triples": "nt",
               "application/rdf+xml": "xml", "application/ld+json": "json-ld",
               "application/n-quads": "nquads", "application/trig": "trig"}
RESULT_TYPES = {"application/sparql-results+json", "application/sparql-results+xml",
                "text/csv", "text/tab-separated-values"}


def load_manifest(path: Path) -> rdflib.Graph:
    graph = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    for manifest in list(graph.subjects(RDF.type, MF.Manifest)):
        included = graph.value(manifest, MF.include)
        if included is not None:
            for item in Collection(graph, included):
                graph += load_manifest(Path(str(item).replace("file://", "")))
    return graph


def manifest_tests(path: Path, kind: rdflib.URIRef) -> list[tuple[rdflib.Graph, rdflib.URIRef]]:
    graph = load_manifest(path)
    return sorted(((graph, t) for t in graph.subjects(RDF.type, kind)), key=lambda x: str(x[1]))


PROTOCOL = manifest_tests(W3C / "protocol" / "manifest.ttl", MF.ProtocolTest)
GSP = manifest_tests(W3C / "graph-store-protocol" / "manifest.ttl", MF.GraphStoreProtocolTest)
SERVICE_DESCRIPTION = manifest_tests(W3C / "service-description" / "manifest.ttl",
                               MF.ServiceDescriptionTest)


def name_of(case) -> str:
    return str(case[1]).rsplit("#", 1)[-1]


def test_the_manifests_have_the_expected_number_of_tests():
    assert (len(PROTOCOL), len(GSP), len(SERVICE_DESCRIPTION)) == (34, 14, 3)


@pytest.fixture
def client():
    app = create_app({"TESTING": True, "STORE": PracticeStore(), "WRITE_TOKEN": TOKEN})
    return app.test_client()


def status_ok(code: int, expected: list) -> bool:
    for e in expected:
        name = str(e).rsplit("#", 1)[-1]
        if name.startswith("StatusCode") and name.endswith("xx"):
            if code // 100 == int(name[len("StatusCode")]):
                return True
        elif STATUS_NAMES.get(name) == code:
            return True
    return False


def request_of(graph: rdflib.Graph, req, prefix: str, target: str, location: str | None):
    method = str(graph.value(req, HT.methodName))
    path = str(graph.value(req, HT.absolutePath))
    if path.startswith(prefix):
        path = target + path[len(prefix):]
    path = path.replace("/sparql/?", "/sparql?").replace(target + "/?", target + "?")
    if path.endswith("/") and path != "/":
        path = path[:-1]
    headers = {}
    header_list = graph.value(req, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            name, value = graph.value(header, HT.fieldName), graph.value(header, HT.fieldValue)
            headers[str(name)] = str(value)
    body = None
    body_node = graph.value(req, HT.body)
    if body_node is not None:
        encoding = str(graph.value(body_node, CNT.characterEncoding) or "UTF-8")
        body = str(graph.value(body_node, CNT.chars))
        if location:
            body = body.replace("$LOCATION$", location)
        body = body.encode(encoding)
    if location:
        path = path.replace("$LOCATION$", location)
    return method, path, headers, body


@dataclass
class Reply:
    """An answer as the checks read it, whoever sent the request."""

    status: int
    mimetype: str
    headers: Mapping[str, str]
    data: bytes

    def text(self, limit: int = 300) -> str:
        return self.data.decode("utf-8", "replace")[:limit]


#: Sends one request (method, path with query string, headers, body) and returns the answer:
#: the runner is the same whether the endpoint is an app in process or a server process.
Send = Callable[[str, str, dict, bytes | None], Reply]


def flask_send(client) -> Send:
    """Requests through Flask's test client, on the manifests' authority, with the token."""
    def send(method: str, path: str, headers: dict, body: bytes | None) -> Reply:
        response = client.open(path, method=method, data=body, headers={**headers, **AUTH},
                               base_url=HOST)
        return Reply(response.status_code, response.mimetype, response.headers, response.data)
    return send


def http_send(base: str, token: str) -> Send:
    """Requests to a server at ``base`` by http.client, which (unlike urllib) adds no
    Content-Type of its own: several tests are about a missing or wrong one."""
    parts = urllib.parse.urlsplit(base)

    def send(method: str, path: str, headers: dict, body: bytes | None) -> Reply:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        try:
            conn.request(method, path, body=body,
                         headers={**headers, "Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        mimetype = (response.getheader("Content-Type") or "").split(";")[0].strip().lower()
        return Reply(response.status, mimetype, dict(response.getheaders()), data)
    return send


def run_requests(send: Send, graph, test, prefix: str, target: str) -> None:
    location = None
    requests = Collection(graph, graph.value(graph.value(test, MF.action), HT.requests))
    for i, req in enumerate(requests):
        method, path, headers, body = request_of(graph, req, prefix, target, location)
        response = send(method, path, headers, body)
        where = f"request {i + 1}: {method} {path}"
        resp = graph.value(req, HT.resp)
        expected = list(graph.objects(resp, MF.expectedStatus))
        assert not expected or status_ok(response.status, expected), (
            f"{where}: status {response.status}: {response.text()}")
        if graph.value(resp, MF.expectedLocation) is not None:
            location = response.headers["Location"]
        check_body(graph, resp, response, where)


def check_body(graph, resp, response: Reply, where: str) -> None:
    mimetype = response.mimetype
    fmt = graph.value(resp, MF.expectedFormat)
    if fmt is not None and response.status < 300:
        if str(fmt) == "RDF":
            assert mimetype in RDF_PARSERS, f"{where}: RDF expected, got {mimetype}"
            rdflib.Graph().parse(data=response.data, format=RDF_PARSERS[mimetype])
        else:
            assert mimetype in RESULT_TYPES, f"{where}: results expected, got {mimetype}"
        expected_boolean = graph.value(resp, MF.expectedBoolean)
        if expected_boolean is not None and mimetype == "application/sparql-results+json":
            assert json.loads(response.data)["boolean"] == expected_boolean.toPython(), where
    header_list = graph.value(resp, HT.headers)
    if header_list is not None:
        for header in Collection(graph, header_list):
            if str(graph.value(header, HT.fieldName)).lower() == "content-type":
                wanted = str(graph.value(header, HT.fieldValue)).split(";")[0].strip()
                assert mimetype == wanted, f"{where}: Content-Type {mimetype}, not {wanted}"
    body_node = graph.value(resp, HT.body)
    if body_node is not None:
        expected = rdflib.Graph().parse(data=str(graph.value(body_node, CNT.chars)),
                                        format="turtle")
        actual = rdflib.Graph().parse(data=response.data, format=RDF_PARSERS[mimetype])
        assert isomorphic(expected, actual), f"{where}: graph differs:\n{response.text(10**6)}"


def protocol_data(case) -> list[tuple[ox.NamedNode, bytes]]:
    """The named graphs (and their N-Triples) a protocol test needs before it runs."""
    graph, test = case
    return [(ox.NamedNode(str(graph.value(data, RDFS.label))),
             (W3C / "protocol" / Path(str(graph.value(data, UT.graph))).name).read_bytes())
            for data in graph.objects(test, UT.graphData)]


def run_protocol_test(send: Send, case) -> None:
    """One protocol test's requests and checks (its data must be in the store already)."""
    graph, test = case
    run_requests(send, graph, test, "/sparql/", "/sparql")


@pytest.mark.parametrize("case", PROTOCOL, ids=name_of)
def test_protocol(client, case):
    store = client.application.config["STORE"]
    for name, data in protocol_data(case):
        store.ox.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=name)
    run_protocol_test(flask_send(client), case)


@pytest.mark.parametrize("case", GSP, ids=name_of)
def test_graph_store_protocol(client, case):
    graph, test = case
    run_requests(flask_send(client), graph, test, "/gsp", "/store")


# -- service description: the manifest names the tests, the checks are ours -----------------


def service_description(client, accept: str | None = "text/turtle") -> rdflib.Graph:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {},
                          base_url=HOST)
    assert response.status_code == 200
    assert response.mimetype in RDF_PARSERS, response.mimetype
    return rdflib.Graph().parse(data=response.data, format=RDF_PARSERS[response.mimetype])


def check_returns_rdf(client) -> None:
    for accept in (None, "text/turtle", "application/rdf+xml", "application/ld+json",
                   "application/n-triples"):
        assert len(service_description(client, accept)) > 0


def check_has_endpoint_triple(client) -> None:
    graph = service_description(client)
    assert (None, SD.endpoint, rdflib.URIRef(f"{HOST}/sparql")) in graph


def check_conforms_to_schema(client) -> None:
    """The description against the SD vocabulary's domains and ranges, as SHACL shapes."""
    import pyshacl

    shapes = rdflib.Graph().parse(data=SD_SHAPES, format="turtle")
    conforms, _, report = pyshacl.validate(service_description(client), shacl_graph=shapes)
    assert conforms, report


SD_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix ex: <http://example.org/shapes#> .

ex:Service a sh:NodeShape ; sh:targetClass sd:Service ;
  sh:property [ sh:path sd:endpoint ; sh:minCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:supportedLanguage ; sh:minCount 1 ;
                sh:in ( sd:SPARQL10Query sd:SPARQL11Query sd:SPARQL11Update ) ] ;
  sh:property [ sh:path sd:feature ; sh:nodeKind sh:IRI ;
                sh:in ( sd:DereferencesURIs sd:UnionDefaultGraph sd:RequiresDataset
                        sd:EmptyGraphs sd:BasicFederatedQuery ) ] ;
  sh:property [ sh:path sd:resultFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:inputFormat ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultEntailmentRegime ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:defaultDataset ; sh:class sd:Dataset ; sh:maxCount 1 ] .
ex:Dataset a sh:NodeShape ; sh:targetClass sd:Dataset ;
  sh:property [ sh:path sd:defaultGraph ; sh:class sd:Graph ; sh:maxCount 1 ] ;
  sh:property [ sh:path sd:namedGraph ; sh:class sd:NamedGraph ] .
ex:NamedGraph a sh:NodeShape ; sh:targetClass sd:NamedGraph ;
  sh:property [ sh:path sd:name ; sh:minCount 1 ; sh:maxCount 1 ; sh:nodeKind sh:IRI ] ;
  sh:property [ sh:path sd:graph ; sh:class sd:Graph ; sh:maxCount 1 ] .
ex:Subjects a sh:NodeShape ;
  sh:targetSubjectsOf sd:endpoint ; sh:class sd:Service .
"""

SD_CHECKS = {
    "returns-rdf": check_returns_rdf,
    "has-endpoint-triple": check_has_endpoint_triple,
    "conforms-to-schema": check_conforms_to_schema,
}


@pytest.mark.parametrize("case", SERVICE_DESCRIPTION, ids=name_of)
def test_service_description(client, case):
    store = client.application.config["STORE"]
    store.ox.load(b"<http://example.org/s> <http://example.org/p> \"1\" .",
                  format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("http://example.org/g"))
    SD_CHECKS[name_of(case)](client)


# -- the shared tool, once, against a real server ----------------------------------------------

SERVE = """\
import sys
from practicebank.endpoint.server import serve
serve({"STORE_PATH": sys.argv[3], "WRITE_TOKEN": sys.argv[2]}, port=int(sys.argv[1]), threads=4)
"""


def test_shared_protocol_check_against_a_live_server(tmp_path):
    tool = find_shared() / "tools" / "w3c_protocol_check.py"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen([sys.executable, "-c", SERVE, str(port), TOKEN,
                               str(tmp_path / "store")],
                              stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2).close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        result = subprocess.run(
            [sys.executable, str(tool), str(W3C / "protocol" / "manifest.ttl"),
             f"http://127.0.0.1:{port}/sparql", "--token", TOKEN],
            capture_output=True, text=True, timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    assert result.stdout.strip().endswith("34 passed, 0 failed"), result.stdout
