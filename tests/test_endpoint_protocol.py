"""Protocol extras: conditional GETs, HTML results, the service description, /metrics, the
access log, CORS on the other routes, the timeout parameter, and the settings table."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner

from practicebank.cli import main
from practicebank.endpoint import create_app
from practicebank.settings import SETTINGS, markdown_table, resolve
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parent.parent
GRAPH = "https://w3id.org/practicebank/graph/test"
DATA = """
<https://w3id.org/practicebank/id/practice/a> <http://purl.org/dc/terms/title> "Alley <gates>" .
<https://w3id.org/practicebank/id/practice/b> <http://purl.org/dc/terms/title> "Bus stops"@en .
"""
TITLES = ("SELECT ?p ?title WHERE { ?p <http://purl.org/dc/terms/title> ?title } "
          "ORDER BY ?title")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def app():
    store = PracticeStore()
    store.ox.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(GRAPH))
    return create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t"})


@pytest.fixture
def client(app):
    return app.test_client()


# -- conditional requests --------------------------------------------------------------------


def test_etag_and_last_modified_give_304(client):
    first = client.get("/sparql", query_string={"query": TITLES})
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('W/"')
    again = client.get("/sparql", query_string={"query": TITLES},
                       headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get("/sparql", query_string={"query": TITLES},
                       headers={"If-Modified-Since": modified})
    assert since.status_code == 304


def test_the_etag_depends_on_the_negotiated_variant(client):
    as_json = client.get("/sparql", query_string={"query": TITLES})
    as_csv = client.get("/sparql", query_string={"query": TITLES}, headers={"Accept": "text/csv"})
    assert as_json.headers["ETag"] != as_csv.headers["ETag"]
    stale = client.get("/sparql", query_string={"query": TITLES},
                       headers={"Accept": "text/csv", "If-None-Match": as_json.headers["ETag"]})
    assert stale.status_code == 200


def test_a_write_makes_cached_answers_stale(client):
    etag = client.get("/sparql", query_string={"query": TITLES}).headers["ETag"]
    client.post("/update", data=b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
                content_type="application/sparql-update", headers={"Authorization": "Bearer t"})
    again = client.get("/sparql", query_string={"query": TITLES},
                       headers={"If-None-Match": etag})
    assert again.status_code == 200


# -- HTML for browsers -----------------------------------------------------------------------


def test_browsers_get_an_html_table_of_results(client):
    response = client.get("/sparql", query_string={"query": TITLES},
                          headers={"Accept": BROWSER})
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<th>p</th><th>title</th>" in page
    assert "Alley &lt;gates&gt;" in page  # escaped
    # The IRI is shown as it is, and links to this server (not the public base, which
    # does not resolve to this test app).
    assert 'href="http://localhost/id/practice/b"' in page
    assert ">https://w3id.org/practicebank/id/practice/b</a>" in page
    assert "@en" in page


def test_html_for_graphs_and_booleans(client):
    construct = client.get("/sparql", query_string={
        "query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "html"})
    assert construct.mimetype == "text/html"
    assert "<th>subject</th>" in construct.get_data(as_text=True)
    ask = client.get("/sparql", query_string={"query": "ASK {}", "format": "html"})
    assert '<p class="boolean">true</p>' in ask.get_data(as_text=True)


# -- the service description -----------------------------------------------------------------


def test_service_description_has_void_counts_and_graphs(client):
    response = client.get("/sparql")
    assert response.mimetype == "text/turtle"
    graph = rdflib.Graph().parse(data=response.data, format="turtle")
    void = rdflib.Namespace("http://rdfs.org/ns/void#")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    dataset = rdflib.URIRef("https://w3id.org/practicebank/id/dataset/practicebank")
    assert graph.value(dataset, void.triples).toPython() == 2
    assert (None, sd.name, rdflib.URIRef(GRAPH)) in graph
    assert client.get("/sparql", headers={"Accept": BROWSER}).status_code == 303  # to /query
    assert client.get("/sparql", query_string={"format": "html"},
                      headers={"Accept": BROWSER}).mimetype == "text/html"


# -- operations ------------------------------------------------------------------------------


def test_metrics_count_requests_queries_and_the_store(client):
    client.get("/sparql", query_string={"query": TITLES})
    client.get("/sparql", query_string={"query": "SELECT"})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'practicebank_http_requests_total{method="GET",status="200"} 1' in text
    assert 'practicebank_http_requests_total{method="GET",status="400"} 1' in text
    assert re.search(r"practicebank_query_duration_seconds_count 2\b", text)
    assert 'practicebank_query_duration_seconds_bucket{le="+Inf"} 2' in text
    assert "practicebank_deadline_kills_total 0" in text
    assert "practicebank_store_triples 2" in text
    assert "# TYPE practicebank_query_duration_seconds histogram" in text


def test_one_access_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="practicebank.access"):
        response = client.get("/sparql", query_string={"query": TITLES})
        response.close()
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.name == "practicebank.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "GET" and line["status"] == 200 and line["path"] == "/sparql"
    assert re.fullmatch(r"[0-9a-f]{16}", line["query_hash"])
    assert line["duration_ms"] >= 0


def test_cors_on_reads_and_preflight_on_update(client):
    assert client.get("/store?default").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/update")
    assert preflight.status_code == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_timeout_parameter_is_400(client, value):
    response = client.get("/sparql", query_string={"query": "ASK {}", "timeout": value})
    assert response.status_code == 400
    assert "timeout" in response.get_json()["message"]


def test_query_and_update_together_is_400(client):
    response = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"},
                           headers={"Authorization": "Bearer t"})
    assert response.status_code == 400


def test_a_charset_other_than_utf8_is_415(client):
    response = client.post("/sparql", data="ASK {}".encode("utf-16"),
                           content_type="application/sparql-query; charset=UTF-16")
    assert response.status_code == 415


# -- settings: one table, documented, from every source --------------------------------------


def test_settings_doc_is_the_settings_table():
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert markdown_table() in doc, "regenerate the table in docs/settings.md"


def test_every_setting_is_a_serve_flag_except_secrets():
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    for setting in SETTINGS:
        flag = "--" + setting.name.replace("_", "-")
        assert (flag in help_text) == (not setting.secret), setting.name
        assert (setting.flag is None) == setting.secret
    assert "--config" in help_text


def test_settings_precedence_file_then_env_then_flags(tmp_path):
    config = tmp_path / "practicebank.toml"
    config.write_text("query_timeout = 5\nworkers = 3\nservice_allowlist = 'http://a/'\n")
    env = {"PRACTICEBANK_WORKERS": "4", "PRACTICEBANK_ACCESS_LOG": "off"}
    values = resolve({"QUERY_TIMEOUT": 7}, environ=env, config_file=str(config))
    assert values["QUERY_TIMEOUT"] == 7.0  # flag over file
    assert values["WORKERS"] == 4  # env over file
    assert values["SERVICE_ALLOWLIST"] == "http://a/"  # file over default
    assert values["ACCESS_LOG"] is False
    assert values["MAX_QUEUED"] == 64  # default


def test_unknown_setting_in_a_config_file_is_an_error(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text("query_timout = 5\n")
    with pytest.raises(ValueError, match="query_timout"):
        resolve({}, environ={}, config_file=str(config))
