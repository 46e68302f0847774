"""Descriptions and pages made in the query workers (endpoint/describe_jobs.py,
endpoint/page_jobs.py, endpoint/page_requests.py) are the documents the server process
makes itself, and are really made there.

Two live ``practicebank serve --demo`` on on-disk stores of the same data: one sends its
description documents and pages to its worker process, the other (``--workers -1``) makes
them in its own. Every RDF format (as a graph), the compact JSON (as JSON) and the HTML page
(as text) of every kind of resource must be the same, and an unknown IRI still a 404 in the
format asked for. With the workers stopped, a practice's page times out while the pages
made in the server (a force's, the ontology's) do not.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import signal
import time

import pyoxigraph as ox
import pytest
import rdflib
from endpoint_live import LiveServer
from rdflib.compare import isomorphic
from test_linked_data import BASE, KINDS

from practicebank.endpoint import create_app
from practicebank.endpoint.describe_jobs import (
    COMPACT,
    DescribeJob,
    run_describe,
    set_page_maker,
)
from practicebank.endpoint.executors import JobFailed, _Collect, collected
from practicebank.endpoint.linked_data import MAX_INCOMING_PAGE
from practicebank.endpoint.page_jobs import run_page
from practicebank.endpoint.page_requests import MADE_IN_SERVER, PageRequest, page_settings

#: The kinds a worker describes (the ontology's terms and graphs are made in the server).
DESCRIBED = {kind: path for kind, path in KINDS.items() if path.startswith(("id/", "concept/"))}
RDF = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("describe-jobs")
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "1") as server:
        yield server


@pytest.fixture(scope="module")
def in_process(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("describe-in-process")
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "-1") as server:
        yield server


def local(live: LiveServer, body: bytes) -> bytes:
    """``body`` with this server's root as the other's (the compact JSON's context URL)."""
    return body.replace(live.base.encode() + b"/", b"http://localhost/")


def sorted_json(value):
    """JSON with every list in a stable order (the stores list triples in their own)."""
    if isinstance(value, dict):
        return {k: sorted_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((sorted_json(v) for v in value), key=json.dumps)
    return value


def both(live: LiveServer, in_process: LiveServer, path: str) -> tuple[dict, bytes, dict, bytes]:
    """``path`` from both servers, each a 200 of the same media type: (headers, body) of
    the one with workers, then of the other."""
    status, headers, body = live.request("GET", live.base + path)
    expected_status, expected_headers, expected = in_process.request(
        "GET", in_process.base + path)
    assert status == expected_status == 200
    assert headers["Content-Type"] == expected_headers["Content-Type"]
    return headers, body, expected_headers, expected


@pytest.mark.parametrize("extension", [*RDF, "json"])
@pytest.mark.parametrize("kind", list(DESCRIBED))
def test_a_worker_makes_the_document_the_server_makes(live, in_process, kind, extension):
    _, body, _, expected = both(live, in_process, f"/{DESCRIBED[kind]}.{extension}")
    if extension == "json":  # the context's URL names the server
        made = json.loads(local(live, body))
        assert sorted_json(made) == sorted_json(json.loads(local(in_process, expected)))
    else:
        ours = rdflib.Graph().parse(data=body, format=RDF[extension])
        theirs = rdflib.Graph().parse(data=expected, format=RDF[extension])
        assert len(ours) > 3 and isomorphic(ours, theirs)


def page_text(server: LiveServer, body: bytes) -> str:
    """A page with the server's root, and the times its graphs were loaded (each server
    loaded its own store), written the same way for both servers."""
    text = body.decode("utf-8").replace(server.base + "/", "http://localhost/")
    return re.sub(r'<time datetime="[^"]*">[^<]*</time>', "<time>", text)


@pytest.mark.parametrize("query", ["", "?incoming=1"])
@pytest.mark.parametrize("kind", list(DESCRIBED))
def test_a_worker_makes_the_page_the_server_makes(live, in_process, kind, query):
    headers, body, expected_headers, expected = both(
        live, in_process, f"/{DESCRIBED[kind]}.html{query}")
    assert headers["Link"].replace(live.base, "") == expected_headers["Link"].replace(
        in_process.base, "")
    assert page_text(live, body) == page_text(in_process, expected)
    assert "urn:practicebank:merge" not in page_text(live, body)  # hidden graphs stay so


def test_a_concept_with_many_incoming_links_pages_them_in_the_worker(live, in_process):
    path = f"/{KINDS['concept']}.nt?incoming=1"
    status, _, body = live.request("GET", live.base + path)
    assert status == 200 and body.count(b"\n") > 10
    assert set(body.splitlines()) == set(in_process.request("GET", in_process.base + path)[2]
                                         .splitlines())


@pytest.mark.parametrize("extension, media_type", [("ttl", "text/turtle"),
                                                    ("json", "application/json")])
def test_an_unknown_iri_is_a_404_in_the_format_asked_for(live, extension, media_type):
    status, headers, _ = live.request(
        "GET", f"{live.base}/id/practice/no-such-practice-anywhere.{extension}")
    assert status == 404 and headers["Content-Type"].startswith(media_type)


def test_documents_wait_for_the_workers_and_pages_made_in_the_server_do_not(tmp_path):
    """With its one worker stopped, a practice's page runs into the deadline (the pool then
    replaces the worker), while a force's page and the ontology's, made in the server,
    answer at once."""
    with LiveServer(tmp_path / "store", tmp_path, "--demo", "--workers", "1",
                    "--query-timeout", "2") as server:
        practice = f"{server.base}/{KINDS['practice']}"
        assert server.request("GET", practice + ".html")[0] == 200
        workers = server.children()
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGSTOP)
        try:
            for path in (KINDS["force"], KINDS["term"]):
                started = time.monotonic()
                assert server.request("GET", f"{server.base}/{path}.html")[0] == 200
                assert time.monotonic() - started < 1.5
            started = time.monotonic()
            status, _, _ = server.request("GET", practice + ".html")
            assert status in (503, 504) and 1.5 < time.monotonic() - started < 15
        finally:
            for pid in workers:
                try:
                    os.kill(pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass


def test_a_describe_job_runs_on_any_store(demo_store):
    """The job itself, without a worker: the document, or a 404 error for nothing known."""
    channel = _Collect()
    run_describe(demo_store.view(), DescribeJob(BASE + KINDS["practice"], "nt"), channel)
    answer = collected(channel)
    triples = list(ox.parse(b"".join(answer.body), format=ox.RdfFormat.N_TRIPLES))
    assert ox.NamedNode(BASE + KINDS["practice"]) in {t.subject for t in triples}
    assert answer.content_type.startswith("application/n-triples")
    channel = _Collect()
    run_describe(demo_store.view(), DescribeJob(BASE + "id/practice/none", COMPACT, 0,
                                                 MAX_INCOMING_PAGE, "x"), channel)
    with pytest.raises(JobFailed) as failed:
        collected(channel)
    assert failed.value.error.code == 404


#: The address of a request for a page, as the server sends it to a worker.
ENVIRON = (("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", ""), ("QUERY_STRING", ""),
           ("SERVER_NAME", "localhost"), ("SERVER_PORT", "80"), ("HTTP_HOST", "localhost"),
           ("SERVER_PROTOCOL", "HTTP/1.1"), ("wsgi.url_scheme", "http"))


def test_a_page_job_makes_the_page_or_hands_it_back(demo_store):
    """A page job without a worker: the page (its links on the request's host), a 404 error
    for nothing known, and MADE_IN_SERVER for a page that needs the server's runtime (a
    dataset's counts), or in a process given no page maker, instead of a failure. No secret
    setting is sent."""
    app = create_app({"TESTING": True, "STORE": demo_store, "WRITE_TOKEN": "s3cret-token",
                      "ADMIN_TOKEN": "s3cret-admin"})
    assert app.config["PAGE_MAKER"] is run_page  # what the pool hands its workers
    settings = page_settings(app)
    assert b"s3cret" not in settings and "STORE" not in pickle.loads(settings)

    def job(stem: str, maker=run_page) -> _Collect:
        channel = _Collect()
        page = PageRequest(stem, settings, (*ENVIRON, ("PATH_INFO", f"/{stem}.html")))
        set_page_maker(maker)
        try:
            run_describe(demo_store.view(), DescribeJob(BASE + stem, "html", 0,
                                                        MAX_INCOMING_PAGE, "", page), channel)
        finally:
            set_page_maker(None)
        return channel

    answer = collected(job(KINDS["practice"]))
    body = b"".join(answer.body).decode()
    assert answer.content_type.startswith("text/html")
    assert "Clear, Hold, Build" in body and 'href="http://localhost/id/force/' in body
    assert f'<link rel="canonical" href="{BASE}{KINDS["practice"]}">' in body
    for stem, maker, code, kind in (
            ("id/practice/none", run_page, 404, "not_found"),
            ("id/dataset/practicebank", run_page, 409, MADE_IN_SERVER),
            (KINDS["practice"], None, 409, MADE_IN_SERVER)):
        with pytest.raises(JobFailed) as failed:
            collected(job(stem, maker))
        assert (failed.value.error.code, failed.value.error.kind) == (code, kind)


def test_descriptions_are_spread_over_the_workers_and_queries_are_not():
    """Queries go to the oldest worker with a free thread; descriptions to the worker with
    the most free threads (the oldest of those), so two at once run on two processes."""
    from practicebank.endpoint.workers import choose_slot

    class Worker:
        def __init__(self, rank: int) -> None:
            self.rank = rank

    class Slot:
        def __init__(self, owner: Worker) -> None:
            self.owner = owner

    old, young = Worker(0), Worker(1)
    idle = [Slot(young) for _ in range(8)] + [Slot(old) for _ in range(3)]
    assert choose_slot(idle, spread=False).owner is old
    assert choose_slot(idle, spread=True).owner is young
    even = [Slot(w) for w in (young, old) for _ in range(4)]
    assert choose_slot(even, spread=True).owner is old


def test_with_every_worker_busy_the_server_describes_it_itself(tmp_path):
    """Descriptions do not queue behind slow queries: with the one worker thread answering
    a runaway query, a Turtle description still comes at once, made in the server."""
    import threading

    with LiveServer(tmp_path / "store", tmp_path, "--demo", "--workers", "1",
                    "--worker-threads", "1") as server:
        runaway = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
        slow = threading.Thread(target=server.query, args=(runaway,),
                                kwargs={"timeout": "6"}, daemon=True)
        slow.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if json.loads(server.request("GET", server.base + "/health")[2])["busy"] == 1:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the runaway query never occupied the worker")
        started = time.monotonic()
        status, _, body = server.request("GET", f"{server.base}/{KINDS['practice']}.ttl")
        assert status == 200 and b"Clear, Hold, Build" in body
        assert time.monotonic() - started < 3
        slow.join(timeout=20)
