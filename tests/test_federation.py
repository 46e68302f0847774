"""Federation against real remotes: ``oxigraph serve`` and a deliberately slow endpoint.

Our server runs as a real process with an allowlist naming both remotes; every case of the
issue is here: an allowed SERVICE works, anything else is a 400 naming the endpoint, a
variable endpoint is refused, a slow remote is cut off by the per-call timeout (504 naming
it), a broken one is a 502, and SERVICE SILENT goes on without the remote as the spec says.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.request

import pytest
from endpoint_live import LiveServer, oxigraph_serve, send_answer

from practicebank.endpoint.errors import EndpointError
from practicebank.endpoint.federation import Allowlist, plan_remote_calls
from practicebank.store import PracticeStore

SLOW_SECONDS = 5.0
SERVICE_TIMEOUT = 1.0


class _Slow(http.server.BaseHTTPRequestHandler):
    """Answers every request, but only after SLOW_SECONDS (or never usefully: 500 on /broken)."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/broken"):
            self.send_response(500)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        time.sleep(SLOW_SECONDS)
        send_answer(self, b'{"head":{"vars":["x"]},"results":{"bindings":[]}}')

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def remotes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("federation")
    oxigraph, oxigraph_url = oxigraph_serve(tmp / "remote-store", tmp)
    request = urllib.request.Request(
        f"{oxigraph_url}/store?default",
        data=b'<http://remote.example/a> <http://remote.example/label> "from the remote" .',
        headers={"Content-Type": "application/n-triples"}, method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    slow = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    slow.daemon_threads = True
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    slow_url = f"http://127.0.0.1:{slow.server_address[1]}"
    store = PracticeStore(tmp / "store")
    store.close()
    allow = f"{oxigraph_url}/query {slow_url}/"
    try:
        with LiveServer(tmp / "store", tmp, "--workers", "2", "--query-timeout", "10",
                        "--service-timeout", str(SERVICE_TIMEOUT),
                        "--service-allowlist", allow) as server:
            yield server, f"{oxigraph_url}/query", slow_url
    finally:
        slow.shutdown()
        slow.server_close()
        oxigraph.terminate()
        oxigraph.wait(timeout=10)


def rows(body: bytes) -> list[dict]:
    return json.loads(body)["results"]["bindings"]


def test_allowed_service_is_answered_by_the_remote(remotes):
    server, remote, _ = remotes
    status, _, body = server.query(
        f"SELECT ?label WHERE {{ SERVICE <{remote}> "
        "{ ?s <http://remote.example/label> ?label } }")
    assert status == 200, body
    assert [r["label"]["value"] for r in rows(body)] == ["from the remote"]


def test_prefixed_service_iri_is_resolved_and_allowed(remotes):
    server, remote, _ = remotes
    status, _, body = server.query(
        f"PREFIX r: <{remote.rsplit('/', 1)[0]}/> "
        "SELECT ?label WHERE { SERVICE r:query { ?s <http://remote.example/label> ?label } }")
    assert status == 200, body
    assert len(rows(body)) == 1


def test_endpoint_off_the_allowlist_is_400_naming_it(remotes):
    server, _, _ = remotes
    status, _, body = server.query(
        "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }")
    assert status == 400
    error = json.loads(body)
    assert error["error"] == "service_not_allowed"
    assert "http://evil.example/sparql" in error["message"]


def test_variable_endpoint_is_refused(remotes):
    server, remote, _ = remotes
    status, _, body = server.query(
        f"SELECT * WHERE {{ VALUES ?e {{ <{remote}> }} SERVICE ?e {{ ?s ?p ?o }} }}")
    assert status == 400
    assert "variable" in json.loads(body)["message"]


def test_slow_remote_is_cut_off_by_the_per_call_timeout(remotes):
    server, _, slow = remotes
    started = time.monotonic()
    status, _, body = server.query(f"SELECT * WHERE {{ SERVICE <{slow}/sparql> {{ ?s ?p ?o }} }}")
    elapsed = time.monotonic() - started
    assert status == 504
    error = json.loads(body)
    assert error["error"] == "remote_endpoint_failed"
    assert f"{slow}/sparql" in error["message"]
    assert elapsed < SLOW_SECONDS  # the timeout, not the remote, ended the call


def test_service_silent_goes_on_without_a_slow_remote(remotes):
    server, _, slow = remotes
    status, _, body = server.query(
        f'SELECT ?x WHERE {{ BIND("here" AS ?x) SERVICE SILENT <{slow}/sparql> {{ ?s ?p ?o }} }}')
    assert status == 200, body
    assert [r["x"]["value"] for r in rows(body)] == ["here"]


def test_broken_remote_is_502_and_silent_ignores_it(remotes):
    server, _, slow = remotes
    query = "SELECT ?x WHERE {{ BIND(1 AS ?x) SERVICE {silent} <{url}/broken> {{ ?s ?p ?o }} }}"
    status, _, body = server.query(query.format(silent="", url=slow))
    assert status == 502
    assert f"{slow}/broken" in json.loads(body)["message"]
    status, _, body = server.query(query.format(silent="SILENT", url=slow))
    assert status == 200 and len(rows(body)) == 1


def test_the_query_deadline_bounds_remote_calls_too(remotes):
    server, _, slow = remotes
    started = time.monotonic()
    status, _, _ = server.query(
        f"SELECT * WHERE {{ SERVICE SILENT <{slow}/sparql> {{ ?s ?p ?o }} }}", timeout="0.5")
    assert status in (200, 504)
    assert time.monotonic() - started < 0.5 + 1.0


def test_load_obeys_the_allowlist_too(remotes):
    server, _, _ = remotes
    status, _, body = server.update("LOAD <http://evil.example/data.ttl>")
    assert status == 400
    assert "http://evil.example/data.ttl" in json.loads(body)["message"]


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { ?s ?p "SERVICE <http://evil.example/> { }" }',
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://evil.example/>",
    "SELECT * WHERE { ?s <http://x/SERVICE> ?o }",
])
def test_service_in_strings_comments_and_iris_is_not_a_call(query):
    assert plan_remote_calls(query, Allowlist()).endpoints == ()


def test_every_service_clause_is_found_and_rewritten():
    query = ("PREFIX e: <http://ok.example/> SELECT * WHERE { SERVICE <http://ok.example/a> {} "
             "OPTIONAL { SERVICE SILENT e:b { ?s ?p ?o } } }")
    plan = plan_remote_calls(query, Allowlist(("http://ok.example/",)))
    assert plan.endpoints == ("http://ok.example/a", "http://ok.example/b")
    assert "ok.example" not in plan.text.split("WHERE", 1)[1]
    # e:b is SILENT: off the list, it is skipped (the proxy fails it without a call)...
    plan = plan_remote_calls(query, Allowlist(("http://ok.example/a",)))
    assert plan.endpoints == ("http://ok.example/a", "")
    assert len(plan.refused) == 1 and "http://ok.example/b" in plan.refused[0]
    # ... while a call without SILENT off the list is a 400 naming it.
    with pytest.raises(EndpointError) as refused:
        plan_remote_calls(query.replace("SILENT ", ""), Allowlist(("http://ok.example/a",)))
    assert refused.value.code == 400 and "http://ok.example/b" in refused.value.message
