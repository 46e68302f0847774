"""Real clients against a real server: what they send by default must work.

SPARQLWrapper (the Python client most researchers use) sends ``format=xml`` (and ``output``,
``results``) with every query, CONSTRUCT included, where Fuseki and Virtuoso read it as
RDF/XML; clients send ``Accept: text/tsv`` as Oxigraph accepts it; and a ``SERVICE SILENT``
that cannot be made, to a port nobody listens on or to a URL off the allowlist, is skipped
as SPARQL 1.1 Federated Query §4 says, so the rest of the query answers.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from endpoint_live import LiveServer, free_port
from rdflib import Graph, URIRef
from SPARQLWrapper import CSV, JSON, TSV, SPARQLWrapper

from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

PB = "https://w3id.org/practicebank/def/"
FORCES = f"SELECT (COUNT(?f) AS ?n) WHERE {{ ?f a <{PB}PoliceForce> }}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("interop")
    with PracticeStore(tmp / "store") as store:
        ensure_demo(store)
    dead = f"http://127.0.0.1:{free_port()}/sparql"  # allowed, but nobody listens there
    with LiveServer(tmp / "store", tmp, "--service-allowlist", dead) as live:
        live.dead = dead
        yield live


def client(server, fmt=None) -> SPARQLWrapper:
    wrapper = SPARQLWrapper(f"{server.base}/sparql")
    if fmt is not None:
        wrapper.setReturnFormat(fmt)
    return wrapper


def test_sparqlwrapper_with_its_defaults_gets_a_construct_as_rdf_xml(server):
    wrapper = client(server)  # the defaults: GET, format=xml&output=xml&results=xml
    wrapper.setQuery(f"CONSTRUCT {{ ?f a <{PB}PoliceForce> }} WHERE {{ ?f a <{PB}PoliceForce> }}")
    graph = wrapper.queryAndConvert()
    assert isinstance(graph, Graph)
    assert len(set(graph.subjects(predicate=None, object=URIRef(PB + "PoliceForce")))) == 51


def test_sparqlwrapper_describe_and_select_in_every_format_it_asks_for(server):
    wrapper = client(server)
    wrapper.setQuery("DESCRIBE <https://w3id.org/practicebank/id/force/avon-and-somerset>")
    assert len(wrapper.queryAndConvert()) > 0
    for fmt in (JSON, CSV, TSV):
        wrapper = client(server, fmt)
        wrapper.setQuery(FORCES)
        answer = wrapper.queryAndConvert()
        if fmt == JSON:
            assert answer["results"]["bindings"][0]["n"]["value"] == "51"
        else:
            delimiter = "\t" if fmt == TSV else ","
            rows = list(csv.reader(io.StringIO(answer.decode()), delimiter=delimiter))
            assert rows[1][0].split("^^")[0].strip('"') == "51", rows


@pytest.mark.parametrize("accept", ["text/tsv", "text/tab-separated-values"])
def test_tsv_is_accepted_under_both_names(server, accept):
    status, headers, body = server.query(FORCES, accept=accept)
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/tab-separated-values")
    assert body.decode().splitlines()[0] == "?n"


def silent_call(endpoint: str) -> str:
    return (f"SELECT ?x WHERE {{ BIND(1 AS ?x) OPTIONAL {{ SERVICE SILENT <{endpoint}> "
            "{ ?s ?p ?o } } }")


def test_service_silent_to_a_port_nobody_listens_on_is_skipped(server):
    query = silent_call(server.dead)
    status, _, body = server.query(query)
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["x"]["value"] == "1"
    status, _, body = server.query(query.replace("SILENT ", ""))
    assert status == 502 and server.dead.encode() in body  # without SILENT: the failure


def test_service_silent_to_a_url_off_the_allowlist_is_skipped_with_a_warning(server):
    off = f"http://127.0.0.1:{free_port()}/sparql"
    query = silent_call(off)
    status, headers, body = server.query(query)
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["x"]["value"] == "1"
    assert off in headers["Warning"] and "not on this server's allowlist" in headers["Warning"]
    status, _, body = server.query(query.replace("SILENT ", ""))
    assert status == 400 and json.loads(body)["error"] == "service_not_allowed"
