"""Reaching other hosts: no request, with or without the token, makes the server connect
anywhere but the allowlist.

A *trap* listens on loopback and counts every connection it is offered; the server under
attack allows one other endpoint (a decoy port with nothing behind it). Every spelling of
the trap's URL that the probe found or that a fix tuned to the examples could miss is sent
as SERVICE (anonymous) and as LOAD (with the token), and must be a 400 with the trap never
called. A property test (hypothesis) then generates spellings by the hundred in process.
"""

from __future__ import annotations

import http.server
import json
import re
import socket
import threading
import time
import urllib.parse

import pytest
from endpoint_live import LiveServer, free_port, send_answer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practicebank.endpoint import create_app
from practicebank.endpoint.federation import Allowlist, Endpoint
from practicebank.store import PracticeStore

TOKEN = "remote-test-token"


class Trap:
    """A TCP listener on loopback (IPv4 and, where the machine has it, IPv6) that accepts
    and counts connections; nothing it is sent is answered."""

    def __init__(self) -> None:
        self.port = free_port()
        self.hits = 0
        self._lock = threading.Lock()
        self._sockets = []
        for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                sock = socket.socket(family)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((host, self.port))
            except OSError:
                continue
            sock.listen(64)
            sock.settimeout(0.2)
            self._sockets.append(sock)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._accept, args=(s,), daemon=True)
                         for s in self._sockets]
        for thread in self._threads:
            thread.start()

    def _accept(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            with self._lock:
                self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        for sock in self._sockets:
            sock.close()


@pytest.fixture(scope="module")
def trap():
    trap = Trap()
    yield trap
    trap.close()


@pytest.fixture(scope="module")
def decoy() -> str:
    """The one endpoint the server allows: a port with nothing behind it."""
    return f"http://127.0.0.1:{free_port()}/sparql"


@pytest.fixture(scope="module")
def server(tmp_path_factory, decoy):
    tmp = tmp_path_factory.mktemp("remote")
    PracticeStore(tmp / "store").close()
    with LiveServer(tmp / "store", tmp, "--service-allowlist", decoy,
                    env={"PRACTICEBANK_WRITE_TOKEN": TOKEN}) as live:
        yield live


def spellings(port: int) -> list[str]:
    """IRIs (as written in SPARQL, between < >) that name the trap."""
    return [
        f"http://127.0.0.1:{port}/sparql",
        f"http://127.0.0.1:{port}/spar\\u0071l",  # the probe's escape
        f"http://127.0.0.1:{port}/spar\\U00000071l",  # the long form
        f"\\u0068ttp://127.0.0.1:{port}/sparql",  # the scheme escaped
        f"http://127.0.0.\\u0031:{port}/sparql",  # the host escaped
        f"http://localhost:{port}/sparql",
        f"http://LOCALHOST:{port}/sparql",
        f"HTTP://127.0.0.1:{port}/sparql",
        f"http://[::1]:{port}/sparql",
        f"http://[0:0:0:0:0:0:0:1]:{port}/sparql",
        f"http://127.1:{port}/sparql",
        f"http://2130706433:{port}/sparql",
        f"http://0x7f000001:{port}/sparql",
        f"http://0177.0.0.1:{port}/sparql",
        f"http://127.0.0.1.:{port}/sparql",
        f"http://localhost.:{port}/sparql",
        f"http://0.0.0.0:{port}/sparql",
        f"http://127.0.0.1:{port}",
    ]


def disguised(port: int, decoy: str) -> list[str]:
    """Whole queries whose SERVICE names the trap in ways a lexer can misread."""
    decoy_base = decoy.rsplit("/", 1)[0]
    decoy_port = decoy.split(":")[2].split("/")[0]
    t = f"http://127.0.0.1:{port}/"  # the trap
    return [
        # a prefixed name, and the keyword run into it (Oxigraph reads SERVICE then :sparql)
        f"PREFIX t: <{t}> SELECT * WHERE {{ SERVICE t:sparql {{?s ?p ?o}} }}",
        f"PREFIX : <{t}> SELECT * WHERE {{ SERVICE:sparql {{?s ?p ?o}} }}",
        f"PREFIX : <{t}> SELECT * WHERE {{ SERVICE SILENT:sparql {{?s ?p ?o}} }}",
        f"PREFIX : <{t}> SELECT * WHERE {{ service\tsilent :sparql {{?s ?p ?o}} }}",
        # a prefix that names an allowed-looking host, redefined
        f"PREFIX t: <{decoy_base}/> PREFIX t: <{t}> "
        f"SELECT * WHERE {{ SERVICE t:sparql {{?s ?p ?o}} }}",
        # an escaped prefixed name: the local part \-escapes
        f"PREFIX t: <{t}> SELECT * WHERE {{ SERVICE t:spar\\ql {{?s ?p ?o}} }}",
        # BASE-relative, absolute-path and network-path references
        f"BASE <{t}> SELECT * WHERE {{ SERVICE <sparql> {{?s ?p ?o}} }}",
        f"BASE <{decoy}> SELECT * WHERE {{ SERVICE <//127.0.0.1:{port}/sparql> {{?s ?p ?o}} }}",
        f"BASE <{t}a/> BASE <../b/> "
        f"SELECT * WHERE {{ SERVICE <sparql> {{?s ?p ?o}} }}",
        # userinfo: an allowed host before the @, and its %40 form
        f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{decoy_port}@127.0.0.1:{port}/sparql> "
        "{ ?s ?p ?o } }",
        f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{decoy_port}%40127.0.0.1:{port}/sparql> "
        "{ ?s ?p ?o } }",
        # a variable endpoint, bound by VALUES and by BIND
        f"SELECT * WHERE {{ VALUES ?e {{ <{t}sparql> }} "
        "SERVICE ?e { ?s ?p ?o } }",
        f"SELECT * WHERE {{ BIND(<{t}sparql> AS ?e) SERVICE ?e {{?s ?p ?o}} }}",
        # less-than read as an IRI by a lexer: the keyword hides in '<?d)SERVICE#>'
        f"SELECT * WHERE {{ BIND(1 AS ?c) BIND(2 AS ?d) FILTER(?c<?d)SERVICE#>\n"
        f"<{t}sparql>{{?s ?p ?o}} }}",
        # a comment between keyword and endpoint; keyword case
        f"SELECT * WHERE {{ SERVICE # note\n<{t}sparql> {{?s ?p ?o}} }}",
        f"SELECT * WHERE {{ sErViCe <{t}sparql> {{?s ?p ?o}} }}",
        # nested deep inside other groups
        f"SELECT * WHERE {{ OPTIONAL {{ {{ MINUS {{ ?a ?b ?c }} }} UNION {{ SERVICE "
        f"<{t}sparql> {{?s ?p ?o}} }} }} }}",
        f"SELECT * WHERE {{ FILTER EXISTS {{ SERVICE <{t}sparql> "
        "{ ?s ?p ?o } } }",
    ]


def assert_refused(status: int, body: bytes) -> None:
    assert status == 400, body
    error = json.loads(body)
    assert error["error"] in {"service_not_allowed", "syntax_error"}, error
    assert len(body) < 2000


SILENT = re.compile(r"\b(?:SERVICE|LOAD)\s+SILENT\s", re.IGNORECASE)


def assert_refused_or_skipped(request: str, status: int, headers, body: bytes) -> None:
    """Refused (400), or, for a SILENT call, skipped: the request goes on without it, as for
    an unreachable endpoint (Federated Query §4), and a ``Warning`` header says so."""
    if SILENT.search(request) and status in (200, 204):
        assert "not called" in headers["Warning"], headers
        return
    assert_refused(status, body)


def settle(trap: Trap, before: int) -> None:
    """Give a connection that was (wrongly) started time to arrive, then check none did."""
    time.sleep(0.05)
    assert trap.hits == before, "the server connected to a host off its allowlist"


def test_service_to_any_spelling_of_a_host_off_the_allowlist_is_refused(server, trap):
    for iri in spellings(trap.port):
        before = trap.hits
        status, _, body = server.query(f"SELECT * WHERE {{ SERVICE <{iri}> {{ ?s ?p ?o }} }}")
        assert_refused(status, body)
        status, headers, body = server.query(
            f"SELECT ?x WHERE {{ BIND(1 AS ?x) OPTIONAL {{ SERVICE SILENT <{iri}> "
            "{ ?s ?p ?o } } }")
        assert status == 200, body  # skipped, like an unreachable endpoint
        assert json.loads(body)["results"]["bindings"] == [{"x": {
            "type": "literal", "value": "1",
            "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]
        assert "not called" in headers["Warning"]
        settle(trap, before)


def test_service_disguised_by_prefixes_base_escapes_and_lexing_tricks_is_refused(
        server, trap, decoy):
    for query in disguised(trap.port, decoy):
        before = trap.hits
        status, headers, body = server.query(query)
        assert_refused_or_skipped(query, status, headers, body)
        settle(trap, before)


def test_the_same_through_a_form_post_and_a_direct_post(server, trap):
    query = (f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{trap.port}/spar\\u0071l> "
             "{ ?s ?p ?o } }")
    before = trap.hits
    form = server.request("POST", f"{server.base}/sparql",
                          body=urllib.parse.urlencode({"query": query}).encode(),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    direct = server.request("POST", f"{server.base}/sparql", body=query.encode(),
                            headers={"Content-Type": "application/sparql-query"})
    for status, _, body in (form, direct):
        assert_refused(status, body)
    settle(trap, before)


def test_load_from_a_host_off_the_allowlist_is_refused_even_with_the_token(server, trap, decoy):
    updates = [f"LOAD <{iri}>" for iri in spellings(trap.port)]
    updates += [f"LOAD SILENT <http://127.0.0.1:{trap.port}/data\\u002ent> INTO GRAPH <urn:g>",
                f"PREFIX t: <http://127.0.0.1:{trap.port}/> LOAD t:data",
                f"PREFIX : <http://127.0.0.1:{trap.port}/> LOAD:data",
                f"BASE <http://127.0.0.1:{trap.port}/> LOAD <data.nt>",
                "LOAD <file:///etc/passwd>",
                f"INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} ; LOAD <http://127.0.0.1:{trap.port}/x>",
                f"INSERT {{ <urn:a> <urn:b> ?o }} WHERE {{ SERVICE "
                f"<http://127.0.0.1:{trap.port}/sparql> {{ ?s ?p ?o }} }}"]
    for update in updates:
        before = trap.hits
        status, headers, body = server.update(update, token=TOKEN)
        assert_refused_or_skipped(update, status, headers, body)
        settle(trap, before)
    assert server.count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 0


def test_a_remote_check_too_deep_to_parse_is_a_400_not_a_500(server, trap):
    """The probe's 5,000 levels made the federation check raise RecursionError (500)."""
    query = ("SELECT * WHERE " + "{" * 5000
             + f" SERVICE <http://127.0.0.1:{trap.port}/sparql> {{ ?s ?p ?o }} " + "}" * 5000)
    status, _, body = server.query(query)
    assert status == 400, body
    assert json.loads(body)["error"] == "query_too_complex"
    status, _, body = server.query("SELECT * WHERE { " + "{ " * 50 + "SERVICE <http://127.0.0."
                                   f"1:{trap.port}/s> {{ ?s ?p ?o }}" + " }" * 50 + " }")
    assert status == 400, body  # under the depth limit, but too deep for the second check
    assert trap.hits == 0


# -- the allowlist's comparison --------------------------------------------------------------


@pytest.mark.parametrize("entry,url,allowed", [
    ("http://127.0.0.1:7992", "http://127.0.0.1:7992@127.0.0.1:7991/sparql", False),
    ("http://allowed.example", "http://allowed.example@127.0.0.1:7991/", False),
    ("http://allowed.example/", "http://allowed.example.evil.test/", False),
    ("http://allowed.example", "http://allowed.example:8080/", False),
    ("http://allowed.example/sparql", "http://allowed.example/sparqlx", False),
    ("http://allowed.example/sparql", "http://allowed.example/sparql/../admin", False),
    ("http://allowed.example/sparql", "http://allowed.example/sparql/%2e%2e/admin", False),
    ("http://allowed.example/sparql", "https://allowed.example/sparql", False),
    ("https://allowed.example/", "https://allowed.example\\@evil.test/", False),
    ("http://allowed.example/sparql", "http://allowed.example/sparql", True),
    ("http://allowed.example/sparql", "http://allowed.example/sparql/", True),
    ("http://allowed.example/sparql", "http://allowed.example:80/sparql/x?y=1", True),
    ("http://allowed.example/", "http://ALLOWED.example/sparql", True),
    ("https://allowed.example", "https://allowed.example:443/q", True),
])
def test_the_allowlist_compares_scheme_host_port_and_path_segments(entry, url, allowed):
    assert Allowlist((entry,)).allows(url) is allowed


@pytest.mark.parametrize("entry", ["ftp://x.example/", "http://user@x.example/", "x.example",
                                   "http://x.example:99999/", "http:///sparql"])
def test_an_allowlist_entry_that_is_not_a_plain_url_is_an_error_at_start(entry):
    with pytest.raises(ValueError, match="service_allowlist entry"):
        Allowlist((entry,))


def test_a_url_that_cannot_be_parsed_is_a_400(server):
    status, _, body = server.query(
        "SELECT * WHERE { SERVICE <http://127.0.0.1:99999999/sparql> { ?s ?p ?o } }")
    assert_refused(status, body)
    with pytest.raises(ValueError):
        Endpoint.parse("http://[::1/sparql")


# -- the property: any spelling, no connection -----------------------------------------------


def _escape(text: str, mask: list[bool]) -> str:
    """``text`` with the characters ``mask`` picks written as \\u escapes."""
    return "".join(f"\\u{ord(c):04x}" if escaped else c
                   for c, escaped in zip(text, mask, strict=True))


HOSTS = ["127.0.0.1", "localhost", "[::1]", "127.1", "2130706433", "0x7f000001",
         "127.0.0.1.", "LocalHost", "[::ffff:127.0.0.1]", "0"]


@st.composite
def attack(draw, port: int, decoy: str) -> str:
    host = draw(st.sampled_from(HOSTS))
    scheme = draw(st.sampled_from(["http", "HTTP", "Http", "https"]))
    userinfo = draw(st.sampled_from(["", decoy.split("//")[1].split("/")[0] + "@", "u:p@"]))
    path = draw(st.sampled_from(["/sparql", "/", "", "/a/../sparql", "/%73parql"]))
    url = f"{scheme}://{userinfo}{host}:{port}{path}"
    form = draw(st.sampled_from(["iri", "prefix", "base", "escaped"]))
    keyword = draw(st.sampled_from(["SERVICE", "service", "SERVICE SILENT", "Service silent"]))
    if form == "iri":
        call = f"{keyword} <{url}>"
        prolog = ""
    elif form == "escaped":
        mask = draw(st.lists(st.booleans(), min_size=len(url), max_size=len(url)))
        call = f"{keyword} <{_escape(url, mask)}>"
        prolog = ""
    elif form == "prefix":
        cut = draw(st.integers(min_value=len(scheme) + 3, max_value=len(url)))
        prolog = f"PREFIX x: <{url[:cut]}> "
        local = url[cut:].replace("/", "\\/").replace("%", "\\%").replace(".", "\\.")
        call = f"{keyword} x:{local}" if local else f"{keyword} x:"
    else:
        prolog = f"BASE <{scheme}://{userinfo}{host}:{port}/> "
        call = f"{keyword} <{path.lstrip('/')}>"
    shape = draw(st.sampled_from(["{ %s { ?s ?p ?o } }",
                                  "{ OPTIONAL { %s { ?s ?p ?o } } }",
                                  "{ { } UNION { %s { ?s ?p ?o } } }"]))
    return prolog + "SELECT * WHERE " + shape % call


@pytest.fixture(scope="module")
def in_process(decoy):
    app = create_app({"STORE": PracticeStore(), "SERVICE_ALLOWLIST": decoy, "TESTING": True,
                      "ACCESS_LOG": False})
    return app.test_client()


def test_no_spelling_of_a_host_off_the_allowlist_makes_a_connection(in_process, trap, decoy):
    """Hundreds of generated spellings (escapes anywhere, prefixes cut anywhere, BASE,
    userinfo, host forms, keyword case, SILENT, nesting), run in process, where Oxigraph
    itself would make the call: none reaches the trap, none but a SILENT one (skipped, with
    a warning) is answered 200."""

    @settings(max_examples=300, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(attack(trap.port, decoy))
    def run(query: str) -> None:
        before = trap.hits
        response = in_process.get("/sparql", query_string={"query": query})
        assert_refused_or_skipped(query, response.status_code, response.headers,
                                  response.data)
        assert trap.hits == before, query

    run()
    time.sleep(0.1)
    assert trap.hits == 0


# -- an allowed remote that answers too much ---------------------------------------------------


class _Flood(http.server.BaseHTTPRequestHandler):
    """An allowlisted endpoint whose answer is far larger than the server will hold."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rows = ",".join('{"x":{"type":"literal","value":"%s"}}' % ("x" * 100)
                        for _ in range(2000))
        send_answer(self, ('{"head":{"vars":["x"]},"results":{"bindings":['
                           + rows + "]}}").encode())

    def log_message(self, *args):
        pass


def test_an_allowed_remote_that_answers_too_much_is_a_502(tmp_path):
    flood = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flood)
    threading.Thread(target=flood.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{flood.server_address[1]}/sparql"
    PracticeStore(tmp_path / "store").close()
    try:
        with LiveServer(tmp_path / "store", tmp_path, "--service-allowlist", url,
                        "--max-remote-answer", "100000") as live:
            query = f"SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}"
            status, _, body = live.query(query)
            assert status == 502, body
            assert b"max_remote_answer" in body
            status, _, body = live.query(query.replace("SERVICE", "SERVICE SILENT"))
            assert status == 200 and json.loads(body)["results"]["bindings"] == [{}]
    finally:
        flood.shutdown()
        flood.server_close()
