"""What the server sends back cannot be turned against the browser that reads it.

The probe made a live ``javascript:`` link in an HTML result with no token at all
(``BIND(IRI("javascript:alert(document.domain)") AS ?click)``), and HTML answers had no
Content-Security-Policy. Here: only http(s) IRIs are links, whatever the scheme's spelling;
every text is escaped; HTML answers carry a strict CSP, and every answer ``nosniff``, on the
fast lane (a plain GET) and through Flask (a POST, an error, the landing page) alike.
"""

from __future__ import annotations

import html
import re
import urllib.parse

import pytest
from endpoint_live import LiveServer

from practicebank.store import PracticeStore

SCHEMES = ["javascript:alert(document.domain)", "JavaScript:alert(1)", "data:text/html;base64,PGI+",
           "vbscript:msgbox(1)", "file:///etc/passwd", "jAvAsCrIpT:alert(1)"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("output")
    PracticeStore(tmp / "store").close()
    with LiveServer(tmp / "store", tmp) as live:
        yield live


def html_get(server, query: str) -> tuple[int, dict, str]:
    url = f"{server.base}/sparql?" + urllib.parse.urlencode({"query": query, "format": "html"})
    status, headers, body = server.request("GET", url)
    return status, headers, body.decode()


def html_post(server, query: str) -> tuple[int, dict, str]:
    status, headers, body = server.request(
        "POST", f"{server.base}/sparql", body=query.encode(),
        headers={"Content-Type": "application/sparql-query", "Accept": "text/html"})
    return status, headers, body.decode()


def assert_strict_html_headers(headers) -> None:
    assert headers["Content-Type"].startswith("text/html")
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("iri", SCHEMES)
def test_iris_that_are_not_http_are_shown_as_text_never_as_links(server, iri):
    query = f'SELECT ?click WHERE {{ BIND(IRI("{iri}") AS ?click) }}'
    for status, headers, body in (html_get(server, query), html_post(server, query)):
        assert status == 200, body
        assert_strict_html_headers(headers)
        assert "href" not in body.split("<tbody>", 1)[1]
        assert html.escape(iri) in body


def test_http_iris_are_links_and_every_text_is_escaped(server):
    query = ('SELECT ?link ?text WHERE { BIND(<https://example.org/a?b=1&c=2> AS ?link) '
             'BIND("<script>alert(1)</script>" AS ?text) }')
    status, headers, body = html_get(server, query)
    assert status == 200
    assert_strict_html_headers(headers)
    assert re.search(r'<a href="https://example.org/a\?b=1&amp;c=2"', body)
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_every_answer_says_nosniff_and_html_pages_carry_the_policy(server):
    status, headers, _ = server.query("SELECT * WHERE { ?s ?p ?o }")  # the fast lane, JSON
    assert status == 200 and headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in headers
    status, headers, _ = server.query("SELECT * WHERE {", accept="text/plain")  # an error
    assert status == 400 and headers["X-Content-Type-Options"] == "nosniff"
    status, headers, _ = server.request("GET", f"{server.base}/")  # the landing page
    assert status == 200
    assert_strict_html_headers(headers)
    status, headers, _ = server.request("GET", f"{server.base}/nothing-here")
    assert status == 404 and headers["X-Content-Type-Options"] == "nosniff"
