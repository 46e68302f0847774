"""Bind joins (endpoint/bind_join.py) write data into query text twice: local bindings into
the VALUES blocks sent to a remote, and the remote's answers into the VALUES block that
replaces the SERVICE. Neither may break out of its block.

Local data and remote answers full of quotes, braces, backslashes, ``\\u`` text, newlines and
the words ``SERVICE`` and ``LOAD`` must come back exactly as they went in (the answers equal
the naive evaluation's, where no text is written), a *trap* listening on loopback must never
be connected to, a huge local literal must travel whole, an answer past
``max_remote_answer`` is a 502 naming the setting (SILENT: the naive answer), and endpoints
off the allowlist are still refused with bind joins on.
"""

from __future__ import annotations

import http.server
import json
import math
import socket
import threading
import time
import urllib.request
from collections import Counter

import pyoxigraph as ox
import pytest
from endpoint_live import free_port, send_answer
from hypothesis import given, settings
from hypothesis import strategies as st

from practicebank.counting_proxy import CountingProxy
from practicebank.endpoint import create_app
from practicebank.endpoint.bind_join import values_block
from practicebank.oxigraph_server import start_oxigraph
from practicebank.store import PracticeStore

BATCH = 4


class Trap:
    """A loopback listener that counts the connections it is offered."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def crafted(trap: int) -> list[str]:
    """Literal values shaped to end a string, a row or a block and call the trap."""
    call = f"SERVICE <http://127.0.0.1:{trap}/sparql> {{ ?a ?b ?c }}"
    return [
        f'x" ) }} }} {call} }} #',
        f"x' ) }} }} {call} #",
        f'x""" ) }} {call} """',
        f"x''' ) }} LOAD <http://127.0.0.1:{trap}/data> '''",
        "ends with a backslash \\",
        'a backslash and a quote \\" ) } ' + call,
        "\\u0022 ) } " + call,  # the six characters, not a quote
        "\\U00000022 ) } " + call,
        "line\nbreak\r\n) } " + call,
        "nul \x00 and del \x7f and separators \u2028\u2029",
        "tab\t} UNDEF ( ) VALUES ?x { }",
        "# a comment ) }\n" + call,
        "émoji 🚓 and Welsh ŵ ŷ",
    ]


def ntriples_literal(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") \
        .replace("\r", "\\r")
    return f'"{escaped}"'


@pytest.fixture(scope="module")
def trap():
    trap = Trap()
    yield trap
    trap.close()


@pytest.fixture(scope="module")
def setup(tmp_path_factory, trap):
    """The local store and an ``oxigraph serve`` remote, both holding the crafted values:
    locally as codes, remotely as codes with crafted labels."""
    tmp = tmp_path_factory.mktemp("bind-join-attack")
    values = crafted(trap.port)
    local = "\n".join(f"<urn:local:{i}> <urn:code> {ntriples_literal(v)} ."
                      for i, v in enumerate(values))
    local += '\n<urn:local:lang> <urn:code> "x\\" } ) #"@en-GB .'
    local += '\n<urn:local:typed> <urn:code> "1\\" }"^^<urn:type:odd#x%7D> .'
    local += "\n<urn:local:iri> <urn:code> <urn:x:%7D%20SERVICE?q=%22#frag> ."
    remote_data = "\n".join(
        f"<urn:remote:{i}> <urn:code> {ntriples_literal(v)} ; "
        f"<urn:label> {ntriples_literal(values[-1 - i])} ." for i, v in enumerate(values))
    remote_data += '\n<urn:remote:lang> <urn:code> "x\\" } ) #"@en-GB ; <urn:label> "l" .'
    remote_data += '\n<urn:remote:typed> <urn:code> "1\\" }"^^<urn:type:odd#x%7D> ; ' \
        '<urn:label> "t" .'
    remote_data += '\n<urn:remote:iri> <urn:code> <urn:x:%7D%20SERVICE?q=%22#frag> ; ' \
        '<urn:label> "i" .'
    store = PracticeStore()
    store.ox.load(local.encode(), format=ox.RdfFormat.N_TRIPLES)
    server = start_oxigraph(None, log=tmp / "remote.log")
    try:
        request = urllib.request.Request(f"{server.store_url}?default",
                                         data=remote_data.encode(),
                                         headers={"Content-Type": "text/turtle"}, method="POST")
        urllib.request.urlopen(request, timeout=10).close()
    except BaseException:
        server.stop()
        raise
    counting = CountingProxy(server.base)
    remote = f"{counting.base}/query"
    clients = [create_app({"STORE": store, "SERVICE_ALLOWLIST": remote, "TESTING": True,
                           "ACCESS_LOG": False, "BIND_JOIN_BATCH": batch}).test_client()
               for batch in (BATCH, 0)]
    yield clients, remote, counting, len(values) + 3
    counting.close()
    server.stop()


def ask(client, query: str) -> tuple[int, dict, dict]:
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    return response.status_code, response.headers, json.loads(response.data)


def solutions(answer: dict) -> Counter:
    return Counter(frozenset((k, json.dumps(v, sort_keys=True)) for k, v in row.items())
                   for row in answer["results"]["bindings"])


def settle(trap: Trap) -> None:
    time.sleep(0.05)
    assert trap.hits == 0, "a connection reached a host off the allowlist"


def test_crafted_local_values_and_remote_answers_stay_data(setup, trap):
    (bind, naive), remote, counting, n = setup
    query = (f"SELECT ?s ?r ?code ?label WHERE {{ ?s <urn:code> ?code . "
             f"SERVICE <{remote}> {{ ?r <urn:code> ?code ; <urn:label> ?label }} }}")
    counting.reset()
    status, _, bound = ask(bind, query)
    assert status == 200, bound
    sent = counting.reset()
    assert sent.requests == math.ceil(n / BATCH)
    status, _, plain = ask(naive, query)
    assert status == 200, plain
    assert solutions(bound) == solutions(plain)
    assert len(bound["results"]["bindings"]) == n  # every crafted code met its remote twin
    assert all("VALUES" in body for body in sent.bodies)
    settle(trap)


def test_a_huge_local_literal_travels_whole(tmp_path, trap):
    big = ('"} ) \\ SERVICE ' * 40_000)[:500_000]
    store = PracticeStore()
    store.ox.load(f"<urn:a> <urn:code> {ntriples_literal(big)} .".encode(),
                  format=ox.RdfFormat.N_TRIPLES)
    server = start_oxigraph(None, log=tmp_path / "remote.log")
    try:
        data = f"<urn:r> <urn:code> {ntriples_literal(big)} ; <urn:label> \"found\" ."
        urllib.request.urlopen(urllib.request.Request(
            f"{server.store_url}?default", data=data.encode(),
            headers={"Content-Type": "text/turtle"}, method="POST"), timeout=10).close()
        remote = server.query_url
        query = (f"SELECT ?label WHERE {{ ?s <urn:code> ?code . "
                 f"SERVICE <{remote}> {{ ?r <urn:code> ?code ; <urn:label> ?label }} }}")
        answers = []
        for batch in (BATCH, 0):
            client = create_app({"STORE": store, "SERVICE_ALLOWLIST": remote, "TESTING": True,
                                 "ACCESS_LOG": False, "BIND_JOIN_BATCH": batch}).test_client()
            status, _, answer = ask(client, query)
            assert status == 200, answer
            answers.append(answer["results"]["bindings"])
        assert answers[0] == answers[1] == [{"label": {"type": "literal", "value": "found"}}]
    finally:
        server.stop()
    settle(trap)


class _Hostile(http.server.BaseHTTPRequestHandler):
    """An allowlisted remote that answers with crafted terms (``/terms``) or floods
    (``/flood``: far more than the cap)."""

    trap_port = 0
    bodies: list[bytes] = []

    def do_POST(self):  # noqa: N802
        self.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        if self.path.startswith("/flood"):
            rows = ",".join('{"x":{"type":"literal","value":"%s"}}' % ("x" * 100)
                            for _ in range(3000))
            send_answer(self, ('{"head":{"vars":["x"]},"results":{"bindings":['
                               + rows + "]}}").encode())
            return
        call = f"SERVICE <http://127.0.0.1:{self.trap_port}/sparql> {{ ?a ?b ?c }}"
        terms = [{"type": "literal", "value": f'" ) }} }} {call} }} #'},
                 {"type": "literal", "value": "x", "xml:lang": "en"},
                 {"type": "literal", "value": "1", "datatype": "urn:dt:x%7D"},
                 {"type": "uri", "value": "urn:ok:%7D%20SERVICE"}]
        rows = [{"code": {"type": "literal", "value": "c"}, "x": term} for term in terms]
        send_answer(self, json.dumps({"head": {"vars": ["code", "x"]},
                                      "results": {"bindings": rows}}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hostile(trap):
    handler = type("Handler", (_Hostile,), {"trap_port": trap.port, "bodies": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler.bodies
    server.shutdown()
    server.server_close()


def hostile_clients(base: str, **config):
    store = PracticeStore()
    store.ox.load(b'<urn:a> <urn:code> "c" .',
                  format=ox.RdfFormat.N_TRIPLES)
    return [create_app({"STORE": store, "SERVICE_ALLOWLIST": f"{base}/", "TESTING": True,
                        "ACCESS_LOG": False, "BIND_JOIN_BATCH": batch, **config}).test_client()
            for batch in (BATCH, 0)]


def test_crafted_remote_answers_stay_data(hostile, trap):
    hostile, bodies = hostile
    bind, naive = hostile_clients(hostile)
    query = (f"SELECT ?s ?x WHERE {{ ?s <urn:code> ?code . "
             f"SERVICE <{hostile}/terms> {{ ?s2 <urn:code> ?code ; <urn:x> ?x }} }}")
    bodies.clear()
    status, _, bound = ask(bind, query)
    assert [b"VALUES" in body for body in bodies] == [True]  # the bind join asked, once
    naive_status, _, plain = ask(naive, query)
    assert status == naive_status == 200, (bound, plain)
    assert solutions(bound) == solutions(plain)
    assert len(bound["results"]["bindings"]) == 4
    settle(trap)


def test_a_remote_that_answers_too_much_is_capped(hostile):
    hostile, _ = hostile
    bind, naive = hostile_clients(hostile, MAX_REMOTE_ANSWER=100_000)
    query = (f"SELECT ?x WHERE {{ ?s <urn:code> ?code . "
             f"SERVICE <{hostile}/flood> {{ ?x <urn:code> ?code }} }}")
    for client in (bind, naive):
        status, _, answer = ask(client, query)
        assert status == 502, answer
        assert "max_remote_answer" in answer["message"]
    silent = query.replace("SERVICE", "SERVICE SILENT")
    (status, _, bound), (_, _, plain) = ask(bind, silent), ask(naive, silent)
    assert status == 200
    assert solutions(bound) == solutions(plain) == Counter([frozenset()])


def test_the_allowlist_still_refuses_off_list_endpoints(setup, trap):
    (bind, naive), _, _, _ = setup
    off_list = f"http://127.0.0.1:{trap.port}/sparql"
    query = (f"SELECT ?s ?x WHERE {{ ?s <urn:code> ?code . "
             f"SERVICE <{off_list}> {{ ?x <urn:code> ?code }} }}")
    status, _, answer = ask(bind, query)
    assert status == 400 and answer["error"] == "service_not_allowed"
    assert off_list in answer["message"]
    silent = query.replace("SERVICE", "SERVICE SILENT")
    (status, headers, bound), (_, _, plain) = ask(bind, silent), ask(naive, silent)
    assert status == 200 and "not called" in headers["Warning"]
    assert solutions(bound) == solutions(plain)
    dead = f"http://127.0.0.1:{free_port()}/sparql"  # allowlisted by nobody either
    status, _, _ = ask(bind, query.replace(off_list, dead))
    assert status == 400
    settle(trap)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.text(), st.sampled_from([None, "en", "cy-GB"]),
       st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_any_literal_written_into_a_values_block_reads_back_as_itself(value, language, tail):
    """Whatever a literal holds, the block the bind join writes reads back, in Oxigraph, as
    exactly that literal and one row: nothing leaks out of the block."""
    literal = ox.Literal(value, language=language) if language else ox.Literal(value)
    iri = ox.NamedNode("urn:x:" + "".join(c for c in tail if c.isalnum()))
    block = values_block(["a", "b"], [(literal, iri)])
    rows = list(ox.Store().query(f"SELECT ?a ?b WHERE {{ {block} }}"))
    assert [(row["a"], row["b"]) for row in rows] == [(literal, iri)]
