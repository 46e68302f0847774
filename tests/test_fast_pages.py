"""The fast path of linked-data documents, checked against the Flask view it stands in for.

``endpoint/fast_pages.py`` answers plain GETs and HEADs of descriptions (and the 303 of a
thing) without Flask's machinery; every answer it gives must be the Flask view's, status,
headers and body, and everything it does not take must reach Flask unchanged. Each request
here is sent twice through WSGI: to the whole app (where the fast path sits) and to the
Flask app behind it; only ``Date`` may differ (the clock may tick in between).
"""

from __future__ import annotations

import json
import logging

import pyoxigraph as ox
import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from practicebank.endpoint import create_app
from practicebank.endpoint.fast_pages import FastPages
from practicebank.endpoint.runtime import get_runtime
from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
EXTENSIONS = ("html", "ttl", "jsonld", "nt", "rdf", "json")
#: One resource of each kind under id/ and concept/ in the demo data (records found below).
KINDS = {
    "practice": "id/practice/clear-hold-build",
    "force": "id/force/avon-and-somerset",
    "organisation": "id/organisation/college-of-policing",
    "concept": "concept/does-it-work/promising",
    "scheme": "concept/topic",
}
RECORDS = {"evaluation": "Evaluation", "assessment": "RatingAssessment",
           "recognition": "TilleyAward", "participation": "Participation",
           "mapping": "ConceptMapping"}


def _app(store, **config):
    app = create_app({"STORE": store, "ACCESS_LOG": False, **config})
    with app.app_context():
        get_runtime()  # the fast path waits for the runtime, which the server starts at once
    return app


@pytest.fixture(scope="module")
def app(demo_store):
    return _app(demo_store)


@pytest.fixture(scope="module")
def kinds(demo_store) -> dict[str, str]:
    found = dict(KINDS)
    for kind, cls in RECORDS.items():
        row = next(iter(demo_store.query(
            f"SELECT ?x WHERE {{ ?x a <{BASE}def/{cls}> }} ORDER BY ?x LIMIT 1")))
        found[kind] = row[0].value[len(BASE):]
    return found


def layer(app) -> FastPages:
    wsgi = app.wsgi_app
    while not isinstance(wsgi, FastPages):
        wsgi = wsgi.fallback
    return wsgi


def run(wsgi, path: str, headers: dict | None = None, method: str = "GET",
        **environ) -> tuple[str, list[tuple[str, str]], bytes]:
    built = EnvironBuilder(path=path, method=method, headers=headers or {}, **environ)
    body, status, head = run_wsgi_app(wsgi, built.get_environ(), buffered=True)
    return status, list(head.to_wsgi_list()), b"".join(body)


def both(app, path: str, headers: dict | None = None, method: str = "GET", **environ):
    """(whole app's answer, Flask's answer, whether the fast path answered), ``Date``
    checked and then left out."""
    fast = layer(app)
    calls = []
    fallback = fast.fallback
    fast.fallback = lambda *a: calls.append(1) or fallback(*a)
    try:
        whole = run(app.wsgi_app, path, headers, method, **environ)
    finally:
        fast.fallback = fallback
    flask = run(fallback, path, headers, method, **environ)
    answers = []
    for status, head, body in (whole, flask):
        dates = [v for k, v in head if k == "Date"]
        assert len(dates) <= 1 and all(d.endswith(" GMT") for d in dates)
        answers.append((status, [(k, v) for k, v in head if k != "Date"], body))
    assert any(k == "Date" for k, _ in whole[1]) == any(k == "Date" for k, _ in flask[1])
    return answers[0], answers[1], not calls


@pytest.mark.parametrize("extension", EXTENSIONS)
@pytest.mark.parametrize("kind", [*KINDS, *RECORDS])
def test_every_document_of_every_kind_is_the_flask_views(app, kinds, kind, extension):
    fast, flask, taken = both(app, f"/{kinds[kind]}.{extension}")
    assert taken
    assert fast[0] == "200 OK"
    assert fast == flask  # status, every header in order, body


@pytest.mark.parametrize("extension", ["html", "ttl", "json"])
def test_head_is_the_get_without_its_body(app, extension):
    fast, flask, taken = both(app, f"/{KINDS['practice']}.{extension}", method="HEAD")
    assert taken and fast == flask and fast[2] == b""
    get, _, _ = both(app, f"/{KINDS['practice']}.{extension}")
    assert fast[1] == get[1]  # Content-Length included: the GET's


@pytest.mark.parametrize("accept", [
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "text/turtle",
    "application/ld+json", "application/rdf+xml;q=0.3, text/turtle;q=0.8", "*/*", None])
@pytest.mark.parametrize("kind", ["practice", "concept", "assessment"])
def test_the_303_of_a_thing_is_the_flask_views(app, kinds, accept, kind):
    fast, flask, taken = both(app, f"/{kinds[kind]}", {"Accept": accept} if accept else {})
    assert taken and fast[0] == "303 SEE OTHER"
    assert fast == flask


def test_the_fast_path_answers_from_the_store(app, demo_store, kinds):
    """Independently of either path: the N-Triples hold the resource's own triples."""
    iri = ox.NamedNode(BASE + kinds["practice"])
    fast, _, taken = both(app, f"/{kinds['practice']}.nt")
    got = {ox.Triple(q.subject, q.predicate, q.object)
           for q in ox.parse(fast[2], ox.RdfFormat.N_TRIPLES)}
    own = {q.triple for q in demo_store.view().quads_for_pattern(iri, None, None, None)}
    assert taken and own and own <= got


#: Requests the fast path must leave to Flask, and what Flask answers (the status).
FALLBACKS = [
    ("/id/practice/no-such-practice.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/no-such-practice.html", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/no-such-practice", {"Accept": "text/turtle"}, "GET", "404 NOT FOUND"),
    ("/id/practice/clear-hold-build", {"Accept": "image/png"}, "GET", "406 NOT ACCEPTABLE"),
    ("/id/practice/clear-hold-build.ttl", {}, "OPTIONS", "200 OK"),
    ("/id/practice/clear-hold-build.ttl", {}, "POST", "405 METHOD NOT ALLOWED"),
    ("/id/practice/clear-hold-build.trig", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/clear-hold-build.ttl?format=nt", {}, "GET", "200 OK"),  # unknown param
    ("/id/practice/clear-hold-build.html?incoming=x", {}, "GET", "200 OK"),
    ("/id/practice/clear-hold-build.html?incoming=1&incoming=2", {}, "GET", "200 OK"),
    ("/id/practice/clear-hold-build.html?incoming=99999", {}, "GET", "200 OK"),
    ("/id/practice/clear-hold-build.ttl", {"If-Modified-Since": "Thu, 01 Jan 2099 00:00:00 GMT"},
     "GET", "304 NOT MODIFIED"),
    ("/id/practice/clear-hold-build.ttl", {"If-None-Match": '"nope"'}, "GET", "200 OK"),
    ("/id/practice/clear-hold-build.ttl", {"Range": "bytes=0-10"}, "GET", "200 OK"),
    ("/id//practice/clear-hold-build.ttl", {}, "GET", "308 PERMANENT REDIRECT"),
    ("/id/practice/./clear-hold-build.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/../practice/clear-hold-build.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/cl\u00e9ar.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/a b.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/.ttl", {}, "GET", "404 NOT FOUND"),
    ("/id/practice/", {}, "GET", "200 OK"),  # the listing
    ("/id/", {}, "GET", "404 NOT FOUND"),
    ("/def/Practice.ttl", {}, "GET", "200 OK"),  # the ontology's, Flask's
    ("/def/Practice", {"Accept": "text/turtle"}, "GET", "303 SEE OTHER"),
    ("/graph/sample.ttl", {}, "GET", "200 OK"),
    ("/concept/", {}, "GET", "200 OK"),
    ("/sparql", {"Accept": "text/turtle"}, "GET", "200 OK"),
    ("/id/practice/" + "a" * 700 + ".ttl", {}, "GET", "404 NOT FOUND"),
]


@pytest.mark.parametrize("path,headers,method,status", FALLBACKS)
def test_what_the_fast_path_does_not_take_reaches_flask_unchanged(app, path, headers, method,
                                                                  status):
    fast, flask, taken = both(app, path, headers, method)
    assert not taken
    assert fast[0] == status
    assert fast == flask


def test_a_conditional_get_with_the_current_tag_is_flasks_304(app):
    path = f"/{KINDS['practice']}.ttl"
    first, _, taken = both(app, path)
    etag = dict(first[1])["ETag"]
    again, flask, conditional_taken = both(app, path, {"If-None-Match": etag})
    assert taken and not conditional_taken
    assert again == flask and again[0] == "304 NOT MODIFIED" and again[2] == b""


def test_a_write_changes_the_validators_on_both_paths(demo_store):
    app = _app(demo_store)
    path = f"/{KINDS['force']}.jsonld"
    before, _, _ = both(app, path)
    with app.app_context():
        get_runtime().freshness.bump()  # what a committed write does
    after, flask, taken = both(app, path)
    assert taken and after == flask
    assert dict(after[1])["ETag"] != dict(before[1])["ETag"]


@pytest.mark.parametrize("base_url", ["https://w3id.org/practicebank/", "http://mirror.example:8080/pb/"])
def test_links_follow_the_host_and_mount_point_the_client_used(app, base_url):
    """On the public host the links are the IRIs themselves; on another, they stay there."""
    for extension in ("html", "json", "ttl"):
        fast, flask, taken = both(app, f"/{KINDS['practice']}.{extension}", base_url=base_url)
        assert taken and fast == flask
        assert dict(fast[1])["Content-Location"] == f"{base_url}{KINDS['practice']}.{extension}"
    fast, flask, taken = both(app, f"/{KINDS['practice']}", {"Accept": "text/turtle"},
                              base_url=base_url)
    assert taken and fast == flask
    assert dict(fast[1])["Location"] == f"{base_url}{KINDS['practice']}.ttl"


@pytest.fixture(scope="module")
def linked_app():
    """A concept linked from 250 practices: its incoming links come in pages."""
    store = PracticeStore()
    ensure_demo(store)
    concept = f"<{BASE}{KINDS['concept']}>"
    store.ox.load("".join(
        f"<{BASE}id/practice/extra-{i:03d}> <{BASE}def/topic> {concept} ;"
        f' <http://purl.org/dc/terms/title> "Extra {i}" .\n' for i in range(250)),
        format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE + "graph/sample"))
    return _app(store)


@pytest.mark.parametrize("query", ["", "?incoming=0", "?incoming=1", "?incoming=2",
                                   "?incoming=3", "?incoming=200", "?incoming=201"])
@pytest.mark.parametrize("extension", ["html", "ttl", "json"])
def test_pages_of_incoming_links_are_the_flask_views(linked_app, query, extension):
    fast, flask, taken = both(linked_app, f"/{KINDS['concept']}.{extension}{query}")
    assert taken and fast[0] == "200 OK" and fast == flask
    if extension == "html" and query == "?incoming=1":
        assert b'rel="next"' in fast[2] and b'rel="prev"' in fast[2]


def test_metrics_and_the_access_log_are_the_same_on_both_paths(demo_store, caplog):
    app = _app(demo_store, ACCESS_LOG=True)
    metrics = app.extensions["practicebank.metrics"]
    path = f"/{KINDS['practice']}.ttl"
    lines = []
    for method in ("GET", "HEAD"):
        before = metrics.requests[(method, 200)]
        with caplog.at_level(logging.INFO, logger="practicebank.access"):
            caplog.clear()
            _, _, taken = both(app, path, method=method)
            lines = [json.loads(r.getMessage()) for r in caplog.records
                     if r.name == "practicebank.access"]
        assert taken and metrics.requests[(method, 200)] == before + 2
        assert len(lines) == 2
        for line in lines:
            line.pop("duration_ms")
        assert lines[0] == lines[1] == {"method": method, "path": path, "status": 200,
                                        "query_hash": None}
    _, _, taken = both(app, f"/{KINDS['practice']}", {"Accept": "text/turtle"})
    assert taken and metrics.requests[("GET", 303)] >= 2


def test_without_the_runtime_everything_goes_to_flask(demo_store):
    app = create_app({"STORE": demo_store, "ACCESS_LOG": False})  # nothing asked yet
    fast, flask, taken = both(app, f"/{KINDS['practice']}.ttl")
    assert not taken and fast == flask and fast[0] == "200 OK"
    fast, flask, taken = both(app, f"/{KINDS['practice']}.ttl")
    assert taken and fast == flask  # Flask's first answer started it


def test_the_first_document_from_a_new_host_and_the_next_are_both_the_flask_views(app):
    """The first request that comes in a new way (Host, scheme, mount point) is made in a
    request context, where werkzeug reads where it came in; the next ones without it."""
    from practicebank.endpoint.site_links import ROOTS

    base_url = "http://first-time.example:8123/mounted/"
    where = ("http", "first-time.example:8123", "first-time.example", "8123", "/mounted")
    assert where not in app.extensions.get(ROOTS, {})
    for _ in range(2):
        for extension in ("ttl", "json", "nt"):
            fast, flask, taken = both(app, f"/{KINDS['force']}.{extension}", base_url=base_url)
            assert taken and fast == flask
            assert dict(fast[1])["Content-Location"].startswith(base_url)
        assert app.extensions[ROOTS][where] == base_url
