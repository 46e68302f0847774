"""Attacks on request bodies: slow uploads, bodies that stop half-way, clients that vanish,
chunked bodies past the size cap, a declared length past it, and errors that would echo a
megabyte of body.

Against a real ``practicebank serve`` on loopback with a short ``--body-timeout``, two body
readers and two request threads, so that more slow uploads than either are easy to open.
HTTP is spoken over raw sockets where the behaviour is HTTP's (a body that trickles, stops
or is chunked). Every socket has a timeout and every wait a bound.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Iterable

import pyoxigraph as ox
import pytest
from endpoint_live import TOKEN, LiveServer

from practicebank.endpoint.errors import MAX_MESSAGE, EndpointError
from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

BODY_TIMEOUT = 1.5
READERS = 2
THREADS = 2
CAP = 1024 * 1024
EX = "https://example.org/"
GRAPH = "https://w3id.org/practicebank/test/bodies-"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bodies")
    store = PracticeStore(tmp / "store")
    ensure_demo(store)
    store.close()
    with LiveServer(tmp / "store", tmp, "--body-timeout", str(BODY_TIMEOUT),
                    "--max-body-readers", str(READERS), "--threads", str(THREADS),
                    "--workers", "1") as live:
        yield live


@pytest.fixture
def live(server):
    """The server, once every body reader is free (an earlier test's clients have gone)."""
    settle(server)
    return server


# -- raw HTTP ---------------------------------------------------------------------------------

def head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1",
             *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def connect(live: LiveServer, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", live.port), timeout=timeout)


def answer(sock: socket.socket) -> tuple[int, http.client.HTTPMessage, bytes]:
    """The response on ``sock`` (status, headers, body), read within the socket's timeout."""
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, response.headers, response.read()


def chunked(data: bytes, size: int = 16 * 1024) -> Iterable[bytes]:
    for i in range(0, len(data), size):
        piece = data[i:i + size]
        yield b"%x\r\n%s\r\n" % (len(piece), piece)
    yield b"0\r\n\r\n"


def send_behind(sock: socket.socket, pieces: Iterable[bytes]) -> threading.Thread:
    """Send ``pieces`` from a thread, stopping quietly when the server stops reading: the
    test reads the answer meanwhile, as a client must when a server refuses mid-body."""
    def run() -> None:
        try:
            for piece in pieces:
                sock.sendall(piece)
        except OSError:
            pass

    sender = threading.Thread(target=run, daemon=True)
    sender.start()
    return sender


def post_query(live: LiveServer, query: str = "ASK {}") -> tuple[int, dict, bytes]:
    return live.request("POST", f"{live.base}/sparql", body=query.encode(),
                        headers={"Content-Type": "application/sparql-query"}, timeout=10)


def settle(live: LiveServer, timeout: float = 10) -> None:
    """Wait until a body can be read again (POST answered 200, not 503)."""
    end = time.monotonic() + timeout
    while True:
        status, _, _ = post_query(live)
        if status == 200:
            return
        assert time.monotonic() < end, f"body readers still busy after {timeout} s"
        time.sleep(0.1)


def store_path(graph: str) -> str:
    return "/store?graph=" + urllib.parse.quote(graph, safe="")


def triples_in(live: LiveServer, graph: str) -> int:
    return live.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


def ntriples(n: int) -> bytes:
    """``n`` distinct N-Triples lines of 64 bytes each."""
    line = b'<urn:pb:s:%08d> <urn:pb:p> "value %08d, 64 bytes...." .\n'
    assert len(line % (0, 0)) == 64
    return b"".join(line % (i, i) for i in range(n))


class SlowUpload:
    """A POST to /sparql whose body comes one byte every ``interval`` seconds (never, when
    ``interval`` is None) after ``first``; it notes when the status line arrives and keeps
    its connection open until :meth:`close`."""

    def __init__(self, live: LiveServer, *, declared: int = 10_000, first: bytes = b" ",
                 interval: float | None = 1.0, lifetime: float = 20) -> None:
        self.sock = connect(live)
        self.sock.sendall(head("POST", "/sparql", {
            "Content-Type": "application/sparql-query", "Content-Length": str(declared)})
            + first)
        self.started = time.monotonic()
        self.status: int | None = None
        self.after: float | None = None
        self._stop = threading.Event()
        self._interval, self._lifetime = interval, lifetime
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        end = self.started + self._lifetime
        next_byte = self.started + (self._interval or self._lifetime)
        while not self._stop.is_set() and time.monotonic() < end:
            readable, _, _ = select.select([self.sock], [], [], 0.02)
            if readable:
                try:
                    data = self.sock.recv(4096)
                except OSError:
                    return
                if data.startswith(b"HTTP/"):
                    self.after = time.monotonic() - self.started
                    self.status = int(data.split(b" ", 2)[1])
                return  # answered (or closed): send no more, keep the socket open
            if self._interval is not None and time.monotonic() >= next_byte:
                next_byte += self._interval
                try:
                    self.sock.send(b" ")
                except OSError:
                    return

    def wait(self, timeout: float) -> int | None:
        self._thread.join(timeout)
        return self.status

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


# -- the attacks ------------------------------------------------------------------------------

def test_slow_uploads_never_slow_health_or_queries(live):
    """Item 4: more uploads at 1 byte/s than body readers and than request threads. Each
    gets a 408 after the body timeout or, when both readers are taken, a 503 at once; and
    all the while /health and a GET query answer in milliseconds."""
    uploads = [SlowUpload(live) for _ in range(3 * READERS)]
    try:
        health, queries = [], []
        end = time.monotonic() + BODY_TIMEOUT + 1.0
        while time.monotonic() < end:
            started = time.monotonic()
            status, _, _ = live.request("GET", f"{live.base}/health", timeout=5)
            health.append((status, time.monotonic() - started))
            started = time.monotonic()
            status, _, _ = live.query("ASK { ?s ?p ?o }", client_timeout=5)
            queries.append((status, time.monotonic() - started))
            time.sleep(0.05)
        statuses = [upload.wait(5) for upload in uploads]
    finally:
        for upload in uploads:
            upload.close()
    assert all(status == 200 for status, _ in health + queries)
    assert max(seconds for _, seconds in health) < 1.0, health
    assert max(seconds for _, seconds in queries) < 1.0, queries
    assert Counter(statuses) == {408: READERS, 503: 2 * READERS}, statuses
    for upload in uploads:
        if upload.status == 503:
            assert upload.after < 1.0
        else:
            assert BODY_TIMEOUT - 0.1 < upload.after < BODY_TIMEOUT + 1.0


def test_a_refused_upload_is_told_in_the_error_shape(live):
    uploads = [SlowUpload(live, interval=None) for _ in range(READERS)]
    try:
        time.sleep(0.3)  # both readers taken
        status, headers, body = post_query(live)
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert json.loads(body)["error"] == "overloaded"
        # Reads do not need a reader, and a write is refused for its token before its body
        # is read, so neither waits for one.
        assert live.query("ASK {}")[0] == 200
        status, _, body = live.request(
            "PUT", live.base + store_path(GRAPH + "no-token"), body=ntriples(10),
            headers={"Content-Type": "application/n-triples"})
        assert status == 401, body
    finally:
        for upload in uploads:
            upload.close()


def test_a_body_that_stops_half_way_is_a_408_within_the_deadline(live):
    """Item 4 (e): half of the declared body, then nothing."""
    upload = SlowUpload(live, declared=1000, first=b" " * 500, interval=None)
    try:
        assert upload.wait(BODY_TIMEOUT + 3) == 408
        assert BODY_TIMEOUT - 0.1 < upload.after < BODY_TIMEOUT + 1.0
    finally:
        upload.close()


def test_the_408_is_whole_and_in_the_error_shape(live):
    with connect(live) as sock:
        sock.sendall(head("POST", "/sparql", {"Content-Type": "application/sparql-query",
                                              "Content-Length": "100"}) + b"ASK")
        status, headers, body = answer(sock)
    assert status == 408
    assert headers["Connection"] == "close"
    error = json.loads(body)
    assert error["error"] == "body_timeout"
    assert f"{BODY_TIMEOUT:g} s" in error["message"]


def test_a_stuck_reader_keeps_its_slot_only_while_its_client_stays(live):
    """After its 408 a silent client still holds its reader (granian cannot interrupt the
    read), and so uploads are refused while every reader is held; once it goes, they work."""
    uploads = [SlowUpload(live, interval=None) for _ in range(READERS)]
    try:
        assert [upload.wait(BODY_TIMEOUT + 3) for upload in uploads] == [408] * READERS
        assert post_query(live)[0] == 503
        assert live.request("GET", f"{live.base}/health", timeout=5)[0] == 200
    finally:
        for upload in uploads:
            upload.close()
    settle(live, timeout=5)


def test_clients_that_vanish_mid_body_give_their_reader_back(live):
    """Item 4 (f): a Content-Length, a few bytes, then the socket closed; many times over.
    Afterwards every reader is free: as many silent uploads as readers each get one (a 408,
    not a 503)."""
    for _ in range(3):
        socks = [connect(live) for _ in range(READERS)]
        for sock in socks:
            sock.sendall(head("POST", "/sparql", {
                "Content-Type": "application/sparql-query", "Content-Length": "1000"}) + b"AS")
        time.sleep(0.2)  # their reads have begun
        for sock in socks:
            sock.close()
    settle(live, timeout=5)
    uploads = [SlowUpload(live, interval=None) for _ in range(READERS)]
    try:
        assert [upload.wait(BODY_TIMEOUT + 3) for upload in uploads] == [408] * READERS
    finally:
        for upload in uploads:
            upload.close()


def test_a_chunked_upload_past_the_cap_is_a_413_and_stores_nothing(live):
    """Item 5: 2 MB of N-Triples sent chunked to the Graph Store. It was stored cut in half
    and answered 201; now it is refused whole."""
    graph = GRAPH + "chunked-big"
    data = ntriples(32_768)
    assert len(data) == 2 * CAP
    with connect(live) as sock:
        sock.sendall(head("PUT", store_path(graph), {
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/n-triples",
            "Transfer-Encoding": "chunked"}))
        sender = send_behind(sock, chunked(data))
        status, _, body = answer(sock)
        sender.join(5)
    assert status == 413, body
    error = json.loads(body)
    assert error["error"] == "payload_too_large"
    assert str(CAP) in error["message"]
    assert triples_in(live, graph) == 0


def test_a_chunked_upload_under_the_cap_is_stored_whole(live):
    graph = GRAPH + "chunked-small"
    data = ntriples(8_000)  # 512,000 bytes in 32 chunks
    with connect(live) as sock:
        sock.sendall(head("PUT", store_path(graph), {
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "application/n-triples",
            "Transfer-Encoding": "chunked"}))
        for piece in chunked(data):
            sock.sendall(piece)
        status, _, body = answer(sock)
    assert status == 201, body
    assert triples_in(live, graph) == 8_000


@pytest.mark.parametrize("method,path,headers", [
    ("PUT", store_path(GRAPH + "declared"), {"Authorization": f"Bearer {TOKEN}",
                                              "Content-Type": "application/n-triples"}),
    ("POST", "/sparql", {"Content-Type": "application/sparql-query"}),
])
def test_a_declared_length_past_the_cap_is_a_413_without_waiting_for_the_body(
        live, method, path, headers):
    with connect(live, timeout=5) as sock:
        started = time.monotonic()
        sock.sendall(head(method, path, {**headers, "Content-Length": str(2 * CAP)}))
        status, _, body = answer(sock)  # not one byte of the body was sent
        elapsed = time.monotonic() - started
    assert status == 413, body
    assert elapsed < 1.0
    assert json.loads(body)["error"] == "payload_too_large"


def test_a_syntax_error_does_not_echo_the_body(live):
    """Item 5: pyoxigraph's Turtle error quotes the token it stopped at, here 900 KB of it;
    the error the client gets is short."""
    data = (b"<https://example.org/s> <https://example.org/p> " + b"a" * 900_000 + b" .\n")
    with pytest.raises(SyntaxError) as raw:
        list(ox.parse(data, ox.RdfFormat.TURTLE, base_iri=EX))
    assert len(str(raw.value)) > 800_000  # what the client used to get back
    status, _, body = live.request(
        "PUT", live.base + store_path(GRAPH + "turtle"), body=data,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/turtle"})
    assert status == 400
    assert len(body) < 2048
    error = json.loads(body)
    assert error["error"] == "syntax_error"
    assert "message cut" in error["message"]
    assert triples_in(live, GRAPH + "turtle") == 0


def test_every_error_message_is_short():
    error = EndpointError(400, "bad_request", "x" * 5_000_000,
                          extra={"problems": [{"value": "y" * 5_000}]})
    assert len(error.message) < MAX_MESSAGE + 100
    assert error.message.endswith("more characters]")
    assert len(error.extra["problems"][0]["value"]) < MAX_MESSAGE + 100
    assert len(error.description) < MAX_MESSAGE + 100
