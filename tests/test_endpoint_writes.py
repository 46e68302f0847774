"""Writes through the endpoint: the token, validation of data graphs, and all-or-nothing.

SPARQL Update (at /update and POSTed to /sparql) and the Graph Store Protocol (/store) share
one writer, so each rule is tested through both where it applies. Stores are in memory,
except one on-disk store with a worker pool, where writes go through the journal.
"""

from __future__ import annotations

import json
import urllib.parse

import pyoxigraph as ox
import pytest

from practicebank.endpoint import create_app
from practicebank.endpoint.runtime import close_runtime
from practicebank.endpoint.update_ops import touched_graphs
from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

TOKEN = "s3cret"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DATA_GRAPH = "https://w3id.org/practicebank/graph/curation"
PRACTICE = "https://w3id.org/practicebank/id/practice/"
PREFIXES = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
VALID = (f"<{PRACTICE}lit-alleys> a <https://w3id.org/practicebank/def/Practice> ;\n"
         '  <http://purl.org/dc/terms/title> "Lit alleys"@en ;\n'
         "  <http://www.w3.org/ns/prov#wasDerivedFrom> "
         "<https://www.college.police.uk/support-forces/practices> .\n")
UNTITLED = (f"<{PRACTICE}untitled> a <https://w3id.org/practicebank/def/Practice> ;\n"
            "  <http://www.w3.org/ns/prov#wasDerivedFrom> "
            "<https://www.college.police.uk/support-forces/practices> .\n")


@pytest.fixture(scope="module")
def demo_quads():
    store = PracticeStore()
    ensure_demo(store)
    return list(store.ox)


@pytest.fixture
def store(demo_quads) -> PracticeStore:
    store = PracticeStore()
    store.ox.extend(demo_quads)
    return store


@pytest.fixture
def client(store):
    return create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()


def update(client, text: str, path: str = "/update", headers=AUTH):
    return client.post(path, data=text.encode(), content_type="application/sparql-update",
                       headers=headers)


def snapshot(store: PracticeStore) -> set:
    return set(store.ox)


def error_of(response) -> dict:
    assert response.mimetype == "application/json"
    return response.get_json()


# -- who may write ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/update", "/sparql"])
def test_update_without_a_token_is_401(client, store, path):
    before = snapshot(store)
    response = update(client, "CLEAR ALL", path=path, headers={})
    assert response.status_code == 401
    assert error_of(response)["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert snapshot(store) == before


def test_update_with_the_wrong_token_is_401(client, store):
    before = snapshot(store)
    response = update(client, "CLEAR ALL", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert snapshot(store) == before


def test_graph_store_write_without_a_token_is_401(client):
    response = client.put("/store?graph=urn:x:g", data=VALID, content_type="text/turtle")
    assert response.status_code == 401


@pytest.mark.parametrize("method", ["PUT", "POST", "DELETE"])
def test_writes_are_403_when_the_server_has_no_token(store, method):
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    before = snapshot(store)
    response = client.open("/store?graph=urn:x:g", method=method, data=VALID,
                           content_type="text/turtle", headers=AUTH)
    assert response.status_code == 403
    assert error_of(response)["error"] == "writes_disabled"
    assert update(client, "CLEAR ALL").status_code == 403
    assert snapshot(store) == before


def test_reads_need_no_token(client):
    assert client.get("/store?default").status_code == 200
    assert client.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


# -- validation of data graphs ---------------------------------------------------------------


def test_a_valid_update_into_a_data_graph_is_kept(client):
    response = update(client, f"INSERT DATA {{ GRAPH <{DATA_GRAPH}> {{ {VALID} }} }}")
    assert response.status_code == 204, response.data
    ask = client.get("/sparql", query_string={
        "query": f'ASK {{ <{PRACTICE}lit-alleys> ?p "Lit alleys"@en }}'})
    assert ask.get_json()["boolean"] is True


def test_an_update_that_breaks_the_shapes_is_422_and_changes_nothing(client, store):
    before = snapshot(store)
    response = update(client, f"INSERT DATA {{ GRAPH <{DATA_GRAPH}> {{ {UNTITLED} }} }} ;"
                              "INSERT DATA { GRAPH <urn:x:scratch> { <urn:x:a> <urn:x:b> 1 } }")
    assert response.status_code == 422
    report = error_of(response)
    assert report["error"] == "validation_failed"
    problem = next(p for p in report["problems"] if p["severity"] == "error")
    assert problem["focus"] == f"{PRACTICE}untitled"
    assert problem["path"] == "http://purl.org/dc/terms/title"
    assert snapshot(store) == before  # the scratch graph was undone too


def test_deleting_a_required_property_is_refused(client, store):
    sample = "https://w3id.org/practicebank/graph/sample"
    practice = next(q.subject for q in store.ox.quads_for_pattern(  # a practice, not the dataset
        None, ox.NamedNode("http://purl.org/dc/terms/title"), None, ox.NamedNode(sample))
        if "/id/practice/" in q.subject.value)
    before = snapshot(store)
    response = update(client, f"DELETE WHERE {{ GRAPH <{sample}> {{ {practice} "
                              "<http://purl.org/dc/terms/title> ?t } }")
    assert response.status_code == 422
    assert snapshot(store) == before


def test_a_template_with_a_graph_variable_is_checked_in_every_data_graph(client, store):
    before = snapshot(store)
    response = update(client, PREFIXES + """
        DELETE { GRAPH ?g { ?p dcterms:title ?t } } WHERE { GRAPH ?g { ?p a pb:Practice ;
        dcterms:title ?t } }""")
    assert response.status_code == 422
    assert snapshot(store) == before


def test_other_graphs_take_any_data(client):
    response = update(client, f"INSERT DATA {{ GRAPH <urn:x:scratch> {{ {UNTITLED} }} }}")
    assert response.status_code == 204


def test_graph_store_put_of_invalid_data_is_422_and_keeps_the_old_graph(client, store):
    url = "/store?graph=" + urllib.parse.quote(DATA_GRAPH)
    assert client.put(url, data=VALID, content_type="text/turtle",
                      headers=AUTH).status_code == 201
    before = snapshot(store)
    response = client.put(url, data=UNTITLED, content_type="text/turtle", headers=AUTH)
    assert response.status_code == 422
    assert snapshot(store) == before
    response = client.post(url, data=UNTITLED, content_type="text/turtle", headers=AUTH)
    assert response.status_code == 422
    assert snapshot(store) == before


def test_rejected_write_on_disk_changes_nothing(tmp_path, demo_quads):
    disk = PracticeStore(tmp_path / "store")
    disk.ox.extend(demo_quads)
    app = create_app({"TESTING": True, "STORE": disk, "WRITE_TOKEN": TOKEN, "WORKERS": 1})
    try:
        client = app.test_client()
        before = snapshot(disk)
        response = update(client, f"INSERT DATA {{ GRAPH <{DATA_GRAPH}> {{ {UNTITLED} }} }}")
        assert response.status_code == 422
        assert snapshot(disk) == before
        assert update(client, f"INSERT DATA {{ GRAPH <{DATA_GRAPH}> {{ {VALID} }} }}"
                      ).status_code == 204
        ask = client.get("/sparql",
                         query_string={"query": f"ASK {{ <{PRACTICE}lit-alleys> ?p ?o }}"})
        assert ask.get_json()["boolean"] is True  # the worker sees the new snapshot
    finally:
        close_runtime(app)
        disk.close()


def test_graph_store_get_on_disk_reads_the_committed_snapshot(tmp_path):
    disk = PracticeStore(tmp_path / "store")
    big = "".join(f"<urn:s{i}> <urn:p> \"{'v' * 50} {i}\" .\n" for i in range(120_000))
    disk.ox.bulk_load(big, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:big"))
    app = create_app({"TESTING": True, "STORE": disk, "WRITE_TOKEN": TOKEN, "WORKERS": 1})
    try:
        client = app.test_client()
        response = client.get("/store?graph=urn:big", headers={"Accept": "application/n-triples"})
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(response.data) > 8 * 1024 * 1024
        assert len(response.data.splitlines()) == 120_000  # spooled to a file, sent whole
        head = client.head("/store?graph=urn:big", headers={"Accept": "application/n-triples"})
        assert head.headers["Content-Length"] == response.headers["Content-Length"]
        assert client.get("/store?graph=urn:none").status_code == 404
        assert client.put("/store?graph=urn:big", data="<urn:a> <urn:b> <urn:c> .",
                          content_type="application/n-triples", headers=AUTH).status_code == 204
        assert client.get("/store?graph=urn:big").data.count(b"urn:a") == 1  # the new snapshot
    finally:
        close_runtime(app)
        disk.close()


def test_touched_graphs_of_updates():
    assert touched_graphs("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> <urn:c> } }") == {
        ox.NamedNode("urn:g")}
    assert touched_graphs("INSERT DATA { <urn:a> <urn:b> <urn:c> }") == {ox.DefaultGraph()}
    assert touched_graphs("WITH <urn:w> DELETE { ?a ?b ?c } WHERE { ?a ?b ?c }") == {
        ox.NamedNode("urn:w")}
    assert touched_graphs("MOVE <urn:a> TO <urn:b>") == {ox.NamedNode("urn:a"),
                                                         ox.NamedNode("urn:b")}
    assert touched_graphs("CLEAR ALL") is None
    assert touched_graphs(
        "INSERT { GRAPH ?g { ?a ?b ?c } } WHERE { GRAPH ?g { ?a ?b ?c } }") is None


# -- the protocol's errors for writes --------------------------------------------------------


def test_update_syntax_error_is_400_with_line_and_column(client):
    response = update(client, "INSERT DATA {\n  <urn:a> <urn:b> }")
    assert response.status_code == 400
    assert "2:" in error_of(response)["message"]


def test_update_dataset_conflict_is_400(client):
    response = client.post("/update?using-graph-uri=urn:x:g", data=b"WITH <urn:x:w> DELETE "
                           b"{ ?a ?b ?c } WHERE { ?a ?b ?c }",
                           content_type="application/sparql-update", headers=AUTH)
    assert response.status_code == 400
    assert error_of(response)["error"] == "dataset_conflict"


def test_update_of_a_wrong_type_is_415(client):
    response = client.post("/update", data=b"CLEAR ALL", content_type="text/plain",
                           headers=AUTH)
    assert response.status_code == 415


def test_update_over_the_body_limit_is_413(store):
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN,
                         "MAX_CONTENT_LENGTH": 100}).test_client()
    response = update(client, "INSERT DATA { <urn:a> <urn:b> \"" + "x" * 200 + "\" }")
    assert response.status_code == 413


def test_get_on_update_is_405(client):
    response = client.get("/update")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_graph_store_errors(client):
    assert client.put("/store?graph=urn:x:g", data=b"x", content_type="image/png",
                      headers=AUTH).status_code == 415
    bad = client.put("/store?graph=urn:x:g", data=b"<a> <b", content_type="text/turtle",
                     headers=AUTH)
    assert bad.status_code == 400 and error_of(bad)["error"] == "syntax_error"
    assert client.get("/store?graph=urn:x:none").status_code == 404
    assert client.get("/store?default", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/store").status_code == 400
    assert client.open("/store?default", method="PATCH").status_code == 405


def test_graph_store_round_trip_in_every_graph_format(client):
    assert client.put("/store?graph=urn:x:g", data=VALID, content_type="text/turtle",
                      headers=AUTH).status_code == 201
    for accept in ("text/turtle", "application/n-triples", "application/ld+json",
                   "application/rdf+xml"):
        response = client.get("/store?graph=urn:x:g", headers={"Accept": accept})
        assert response.status_code == 200 and response.mimetype == accept
        assert b"lit-alleys" in response.data
    assert client.delete("/store?graph=urn:x:g", headers=AUTH).status_code == 204
    assert client.delete("/store?graph=urn:x:g", headers=AUTH).status_code == 404


def test_writes_change_the_etag(client):
    first = client.get("/sparql", query_string={"query": "ASK {}"})
    assert update(client, "INSERT DATA { <urn:a> <urn:b> <urn:c> }").status_code == 204
    second = client.get("/sparql", query_string={"query": "ASK {}"})
    assert first.headers["ETag"] != second.headers["ETag"]
    assert json.loads(second.data)["boolean"] is True
