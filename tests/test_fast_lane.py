"""The two short paths of a cheap query, checked against the long ones they stand in for.

The fast lane (``endpoint/fast_lane.py``) must answer exactly as the Flask view does, and
lookups by IRI answered in the server process (``endpoint/lookups.py``) must be exactly the
queries that cannot run away, hand larger answers to the workers, and see every write.
"""

from __future__ import annotations

import json
import urllib.parse

import pyoxigraph as ox
import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from practicebank.endpoint import create_app
from practicebank.endpoint.lookups import is_lookup
from practicebank.endpoint.runtime import EXTENSION, close_runtime
from practicebank.store import PracticeStore

EX = "http://example.org/"
DATA = "".join(f'<{EX}p{i}> <{EX}title> "Practice {i}" ; <{EX}rank> {i} .\n'
               for i in range(50))
BIG = "".join(f'<{EX}big> <{EX}has> "{"x" * 100} {i}" .\n' for i in range(2000))  # ~250 KB
MANY = "".join(f"<{EX}many> <{EX}n> {i} .\n" for i in range(9000))  # more rows than ROW_CAP


def _run(wsgi, path: str, headers: dict[str, str]) -> tuple[str, dict[str, str], bytes]:
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    body, status, head = run_wsgi_app(wsgi, environ, buffered=True)
    return status, {k.lower(): v for k, v in head.items()}, b"".join(body)


@pytest.fixture
def memory_app():
    store = PracticeStore()
    store.ox.load(DATA, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(EX + "g"))
    app = create_app({"STORE": store, "ACCESS_LOG": False})
    app.test_client().get("/sparql?query=ASK%7B%7D")  # the runtime starts on Flask's first query
    return app


REQUESTS = [
    (f"SELECT ?t WHERE {{ <{EX}p3> <{EX}title> ?t }}", {}, {"Accept": "application/json"}),
    (f"SELECT ?s ?r WHERE {{ ?s <{EX}rank> ?r }} ORDER BY ?r LIMIT 5", {"format": "csv"}, {}),
    (f"CONSTRUCT WHERE {{ <{EX}p1> ?p ?o }}", {}, {"Accept": "text/turtle"}),
    (f"ASK {{ <{EX}p1> ?p ?o }}", {"timeout": "5"}, {"Accept": "application/sparql-results+xml"}),
    ("SELECT * WHERE { ?s ?p }", {}, {"Accept": "text/plain"}),  # 400, as text
    ("SELECT * WHERE { ?s ?p ?o }", {}, {"Accept": "image/png"}),  # 406
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 2", {"format": "nonsense"}, {}),  # 406
    (f"SELECT ?t WHERE {{ <{EX}p3> <{EX}title> ?t }}", {}, {"Accept": "text/html"}),
]


@pytest.mark.parametrize("query,params,headers", REQUESTS)
def test_the_fast_lane_answers_exactly_as_the_flask_view(memory_app, query, params, headers):
    path = "/sparql?" + urllib.parse.urlencode({"query": query, **params})
    fast = _run(memory_app.wsgi_app, path, headers)
    slow = _run(memory_app.wsgi_app.fallback, path, headers)
    assert fast == slow


def test_the_fast_lane_takes_the_plain_query_get_and_nothing_else(memory_app):
    metrics = memory_app.extensions["practicebank.metrics"]
    lane = memory_app.wsgi_app
    query = urllib.parse.urlencode({"query": "ASK {}"})

    def taken(path: str, headers: dict | None = None) -> bool:
        before = metrics.query_count
        calls = []
        fallback, lane.fallback = lane.fallback, lambda *a: calls.append(1) or fallback(*a)
        try:
            _run(lane, path, headers or {})
        finally:
            lane.fallback = fallback
        return not calls and metrics.query_count == before + 1

    assert taken(f"/sparql?{query}")
    assert taken(f"/sparql?{query}&format=json&timeout=2")
    assert not taken(f"/sparql?{query}&default-graph-uri={EX}g")  # a dataset: Flask's
    assert not taken(f"/sparql?{query}&{query}")  # a repeated parameter: Flask's 400
    assert not taken(f"/sparql?{query}&timeout=-1")  # a bad timeout: Flask's 400
    assert not taken(f"/sparql?{query}", {"If-None-Match": 'W/"x"'})  # conditional
    assert not taken("/sparql")  # the service description
    assert not taken("/sparql?" + urllib.parse.urlencode(
        {"query": "SELECT * { SERVICE <http://remote/sparql> { ?s ?p ?o } }"}))


LOOKUPS = {
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t }}": True,
    f"PREFIX ex: <{EX}> SELECT * {{ ex:p ex:title ?t . }} LIMIT 10": True,
    f"ASK {{ <{EX}p> a ?type }}": True,
    f"SELECT ?p ?o WHERE {{ <{EX}p> ?p ?o }} # a comment": True,
    f"SELECT ?s WHERE {{ ?s <{EX}title> ?t }}": False,  # no subject: a scan of everything
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t FILTER(?t = 'x') }}": False,
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}a>/<{EX}b> ?t }}": False,  # a path
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t }} OFFSET 5": False,
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t }} ORDER BY ?t": False,
    f"SELECT DISTINCT ?t WHERE {{ <{EX}p> <{EX}title> ?t }}": False,
    f"SELECT ?t FROM <{EX}g> WHERE {{ <{EX}p> <{EX}title> ?t }}": False,
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t ; <{EX}rank> ?r }}": False,
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t . ?t <{EX}x> ?y }}": False,  # a join
    f"SELECT ?t WHERE {{ GRAPH ?g {{ <{EX}p> <{EX}title> ?t }} }}": False,
    f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}p> ?p ?o }}": False,
    f"CONSTRUCT WHERE {{ <{EX}p> ?p ?o }}": False,
    f"SELECT ?t WHERE {{ <{EX}p> <{EX}title> ?t }} VALUES ?t {{ 'a' }}": False,
}


@pytest.mark.parametrize("query,expected", LOOKUPS.items())
def test_only_single_pattern_lookups_by_iri_run_in_the_server(query, expected):
    assert is_lookup(query) is expected


@pytest.fixture
def disk_app(tmp_path):
    store = PracticeStore(tmp_path / "store")
    store.ox.load(DATA + BIG + MANY, format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(EX + "g"))
    app = create_app({"STORE": store, "WORKERS": 1, "ACCESS_LOG": False, "WRITE_TOKEN": "t",
                      "SNAPSHOT_DIR": str(tmp_path / "snapshots")})
    yield app
    close_runtime(app)


def _select(client, query: str) -> list[str]:
    response = client.get("/sparql?" + urllib.parse.urlencode({"query": query}),
                          headers={"Accept": "application/json"})
    assert response.status_code == 200, response.data
    return sorted(b[v]["value"] for b in response.json["results"]["bindings"] for v in b)


def test_lookups_run_in_the_server_and_large_ones_go_to_the_workers(disk_app):
    client = disk_app.test_client()
    assert _select(client, f"SELECT ?t WHERE {{ <{EX}p7> <{EX}title> ?t }}") == ["Practice 7"]
    lane = disk_app.extensions[EXTENSION].lookups
    assert (lane.answered, lane.handed_over) == (1, 0)
    big = _select(client, f"SELECT ?v WHERE {{ <{EX}big> <{EX}has> ?v }}")
    assert len(big) == 2000  # whole, from a worker, though the lookup began here
    assert (lane.answered, lane.handed_over) == (1, 1)
    # More rows than the cap, each a few bytes: never cut short by the LIMIT the lane adds.
    many = f"SELECT ?n WHERE {{ <{EX}many> <{EX}n> ?n }} # no LIMIT here"
    assert len(_select(client, many)) == 9000
    assert len(_select(client, many.replace("# no LIMIT here", "LIMIT 9000"))) == 9000
    assert (lane.answered, lane.handed_over) == (1, 2)
    few = f"SELECT ?n WHERE {{ <{EX}many> <{EX}n> ?n }} LIMIT 5 # a comment"
    assert len(_select(client, few)) == 5
    ask = client.get("/sparql?" + urllib.parse.urlencode({"query": f"ASK {{ <{EX}many> ?p ?o }}"}),
                     headers={"Accept": "application/json"})
    assert ask.json["boolean"] is True
    assert (lane.answered, lane.handed_over) == (3, 2)
    metrics = client.get("/metrics").data.decode()
    assert 'practicebank_lookups_total{path="in_process"} 3' in metrics
    assert 'practicebank_lookups_total{path="handed_over"} 2' in metrics
    missing = client.get("/sparql?" + urllib.parse.urlencode(
        {"query": f"SELECT ?t WHERE {{ <{EX}p7> <{EX}title> ?t ]"}))
    assert missing.status_code == 400 and json.loads(missing.data)["error"] == "syntax_error"


def test_a_lookup_sees_the_write_committed_before_it(disk_app):
    client = disk_app.test_client()
    query = f"SELECT ?t WHERE {{ <{EX}new> <{EX}title> ?t }}"
    assert _select(client, query) == []
    response = client.post("/update", data=f'INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}new> '
                           f'<{EX}title> "New" }} }}', content_type="application/sparql-update",
                           headers={"Authorization": "Bearer t"})
    assert response.status_code == 204, response.data
    assert _select(client, query) == ["New"]
    assert disk_app.extensions[EXTENSION].lookups.answered == 2
