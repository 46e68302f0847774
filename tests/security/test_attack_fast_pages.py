"""The fast path of linked-data documents (``endpoint/fast_pages.py``) answers before Flask
sees the request, so what Flask and werkzeug would refuse or normalise must not slip through
it: traversal and encoded separators in the path, CR/LF and odd bytes in the path, the query
string and the Host header (header injection, cache poisoning), oversize URLs, hostile
labels in pages, and an unbounded memo of hosts. Raw HTTP to a live server for what only a
real server passes on; WSGI for what must be checked layer by layer.
"""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from endpoint_live import TOKEN, LiveServer
from test_fast_pages import layer
from werkzeug.test import EnvironBuilder, run_wsgi_app

from practicebank.endpoint import create_app
from practicebank.endpoint.runtime import get_runtime
from practicebank.endpoint.site_links import MAX_ROOTS, ROOTS
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
PRACTICE = "id/practice/clear-hold-build"
HOSTILE = '</script><script>alert(1)</script><img src=x onerror=alert(2)>"\'&'


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("attack-fast-pages")
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "1") as server:
        yield server


def raw(live: LiveServer, request_line_and_headers: bytes) -> tuple[int, bytes]:
    """Send bytes as they are (no client library to clean them up); (status, head)."""
    parts = urlsplit(live.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(request_line_and_headers)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, head


@pytest.mark.parametrize("path", [
    "/id/../../../../etc/passwd.ttl",
    "/id/%2e%2e/%2e%2e/etc/passwd.ttl",
    "/concept/..%2f..%2f..%2fetc%2fpasswd.ttl",
    "/id/practice/%2e%2e%2f%2e%2e%2fpyproject.html",
    "/id/practice/x%00.ttl",
    "/id/practice/x%0d%0aSet-Cookie:%20pwned=1.ttl",
    "/id/practice/x%ff%fe.ttl",
    "/id/practice/x.ttl?incoming=1%0d%0aSet-Cookie:%20pwned=1",
    "/id/practice/x.ttl?incoming=1&incoming=2",
    f"/{PRACTICE}.ttl?incoming=" + "9" * 5000,
])
def test_odd_paths_are_never_a_file_a_header_or_a_500(live, path):
    status, head = raw(live, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status in (200, 308, 400, 404, 414), head
    assert b"pwned" not in head.lower() and b"set-cookie" not in head.lower()
    assert b"root:" not in head


def test_an_oversize_url_is_refused_quickly(live):
    path = "/id/practice/" + "a" * 60_000 + ".ttl"
    status, head = raw(live, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status in (0, 400, 404, 414, 431), head  # 0: the server closed the connection
    status, _ = raw(live, f"GET /{PRACTICE}.ttl HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    assert status == 200  # and still serves


@pytest.mark.parametrize("host", [
    'evil.example"><script>alert(1)</script>', "evil.example/path?x=", "evil.example:99999999",
    "evil\u00e9.example", "[::1", ""])
def test_a_hostile_host_header_never_reaches_a_header_unquoted(live, host):
    parts = urlsplit(live.base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest("GET", f"/{PRACTICE}.ttl", skip_host=True)
        connection.putheader("Host", host.encode("utf-8"))
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        headers = response.getheaders()
    finally:
        connection.close()
    assert response.status in (200, 400, 404)
    for _, value in headers:
        assert "<script" not in value and '"><' not in value
        assert "\r" not in value and "\n" not in value


def test_hostile_labels_are_escaped_in_pages_the_workers_make(live):
    """A practice's page is rendered in a query worker (endpoint/page_jobs.py), with its own
    copy of the app: what anyone with the write token stored is escaped there too, a
    javascript: IRI is no link, and a forged forwarding header names no other host."""
    escaped = HOSTILE.replace("\\", "\\\\").replace('"', '\\"')
    data = (f'<{BASE}id/practice/hostile-in-worker> a <{BASE}def/Practice> ; '
            f'<http://purl.org/dc/terms/title> "{escaped}"@en ; '
            f'<http://purl.org/dc/terms/abstract> "{escaped}"@en ; '
            f'<http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/attack> ; '
            f'<http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(3)> .\n')
    status, _, body = live.request(
        "PUT", f"{live.base}/store?graph={BASE}graph/attack-in-worker", body=data.encode(),
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert status in (201, 204), body
    status, headers, body = live.request(
        "GET", f"{live.base}/id/practice/hostile-in-worker.html",
        headers={"X-Forwarded-Host": "evil.example"})
    assert status == 200 and live.children()  # a server with a worker: it made the page
    assert b"<script>alert" not in body and b"<img src=x" not in body
    assert b"&lt;/script&gt;&lt;script&gt;alert(1)" in body
    assert b'href="javascript:' not in body and b"evil.example" not in body
    json_ld = body.split(b'<script type="application/ld+json">', 1)[1].split(b"</script>", 1)[0]
    assert b"<" not in json_ld
    assert "script-src" not in headers["Content-Security-Policy"]


# -- layer by layer (WSGI) --------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile_app():
    store = PracticeStore()
    store.ox.load(
        f'<{BASE}{PRACTICE}> a <{BASE}def/Practice> ; '
        f'<http://purl.org/dc/terms/title> "{HOSTILE.replace(chr(34), chr(92) + chr(34))}"@en ;'
        f' <{BASE}def/abstract> "{HOSTILE.replace(chr(34), chr(92) + chr(34))}" ;'
        f' <{BASE}def/topic> <javascript:alert(3)> .',
        format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(BASE + "graph/attack"))
    app = create_app({"STORE": store, "ACCESS_LOG": False})
    with app.app_context():
        get_runtime()
    return app


def taken_and_answer(app, path: str, **environ) -> tuple[bool, str, dict, bytes]:
    fast = layer(app)
    calls = []
    fallback = fast.fallback
    fast.fallback = lambda *a: calls.append(1) or fallback(*a)
    try:
        built = EnvironBuilder(path=path, **environ).get_environ()
        body, status, headers = run_wsgi_app(app.wsgi_app, built, buffered=True)
        return not calls, status, dict(headers), b"".join(body)
    finally:
        fast.fallback = fallback


def test_hostile_labels_are_escaped_on_the_fast_path(hostile_app):
    taken, status, headers, body = taken_and_answer(hostile_app, f"/{PRACTICE}.html")
    assert taken and status == "200 OK"
    assert b"<script>alert" not in body and b"<img src=x" not in body
    assert b"&lt;/script&gt;&lt;script&gt;alert(1)" in body
    assert b'href="javascript:' not in body
    json_ld = body.split(b'<script type="application/ld+json">', 1)[1].split(b"</script>", 1)[0]
    assert b"<" not in json_ld  # written as \\u003c: the data block cannot be closed early
    assert "script-src" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("environ", [
    {"headers": {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}},
    {"headers": {"Forwarded": "host=evil.example;proto=https"}},
])
def test_forwarding_headers_are_not_trusted_without_proxy_hops(hostile_app, environ):
    """No cache poisoning: without ``proxy_hops`` the links follow the Host, not what a
    client claims a proxy said."""
    taken, status, headers, body = taken_and_answer(hostile_app, f"/{PRACTICE}.ttl", **environ)
    assert taken and status == "200 OK"
    assert "evil.example" not in headers["Content-Location"] + headers["Link"]
    assert b"evil.example" not in body


def test_the_memo_of_hosts_stays_bounded(hostile_app):
    for i in range(MAX_ROOTS * 3):
        for extension in ("ttl", "html"):
            taken, status, headers, _ = taken_and_answer(
                hostile_app, f"/{PRACTICE}.{extension}", base_url=f"http://host{i}.example/")
            assert taken and status == "200 OK"
            assert headers["Content-Location"] == f"http://host{i}.example/{PRACTICE}.{extension}"
    assert len(hostile_app.extensions[ROOTS]) <= MAX_ROOTS


@pytest.mark.parametrize("path", [
    "/id/practice/..", "/id/practice/.hidden.ttl", "/id/practice//x.ttl",
    "/id/practice/x\r\nSet-Cookie: a=b.ttl", "/id/practice/x\x00.ttl", "/id/practice/x%.ttl",
    "/id/practice/\u00e9.ttl", "/id/" + "a/" * 20 + "x.ttl",
])
def test_paths_werkzeug_would_normalise_or_refuse_are_left_to_flask(hostile_app, path):
    taken, status, headers, _ = taken_and_answer(hostile_app, path)
    assert not taken
    assert status.split()[0] in ("308", "400", "404")
    assert "Set-Cookie" not in headers
