"""The researcher's workbench, attacked: /query, /complete, /practices (and its CSV and
JSON), /search (and its JSON), /charts (and each chart's CSV and JSON, and a force's crime
trend) and /compare, against a real server whose store holds hostile titles and labels.

Every parameter of every route gets markup (``<script>``, ``"><img onerror>``,
``javascript:``), 5,000-character values, NUL, invalid UTF-8 percent-escapes, right-to-left
and zero-width characters, full-text and SPARQL syntax, path traversal and many repeated
parameters: each is a 2xx with everything escaped or a 4xx with a short message, never a
500, never a slow answer, never live markup in an HTML page. Every page carries the
headers that forbid script (only /query allows it, from this server); the JSON reads carry
CORS and nothing writes.

Stored text that starts like a spreadsheet formula (``=HYPERLINK(…)``, ``-2+3``, ``@SUM``,
a tab or CR) comes out of our own CSV downloads behind a ``'`` (endpoint/csv_cells.py), real
numbers as they are; /sparql's CSV, a standard format, carries the value exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import urllib.parse
from html.parser import HTMLParser

import pyoxigraph as ox
import pytest
from endpoint_live import LiveServer

from practicebank.endpoint.csv_cells import safe_cell
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
PB = BASE + "def/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"

# -- hostile data, stored ------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil","x")'
ARITH = "-2+3"
NUMBER = "-0.25"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_IRI = "javascript:alert(document.domain)"
FORCE_NAME = "@SUM(1+1) <b onmouseover=alert(1)>Evil</b> Police"
TOPIC_LABEL = "+topic <script>alert(2)</script>"
REGION_LABEL = "\t=1+2 region"
SOURCE_LABEL = "\r=cmd|' /C calc'!A0"
#: Practice slug -> title; each is run by the hostile force, on the hostile topic.
TITLES = {"formula": FORMULA, "arith": ARITH, "number": NUMBER,
          "markup": SCRIPT + " knife arches", "img": IMG + " knife"}
FORCE = BASE + "id/force/evil-force"
TOPIC = BASE + "concept/topic/evil-topic"
REGION = BASE + "concept/region/evil-region"
SOURCE = BASE + "concept/recognition-source/evil-source"


def hostile_quads() -> list[ox.Quad]:
    graph = ox.NamedNode(BASE + "graph/attack")
    quads = []

    def add(subject: str, predicate: str, obj) -> None:
        quads.append(ox.Quad(ox.NamedNode(subject), ox.NamedNode(predicate), obj, graph))

    def typed(value: str, datatype: str) -> ox.Literal:
        return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))

    add(FORCE, RDF_TYPE, ox.NamedNode(PB + "PoliceForce"))
    add(FORCE, SKOS + "prefLabel", ox.Literal(FORCE_NAME, language="en"))
    add(FORCE, PB + "region", ox.NamedNode(REGION))
    add(REGION, SKOS + "prefLabel", ox.Literal(REGION_LABEL, language="en"))
    add(REGION, SKOS + "inScheme", ox.NamedNode(BASE + "concept/region"))
    add(TOPIC, RDF_TYPE, ox.NamedNode(PB + "Topic"))
    add(TOPIC, SKOS + "prefLabel", ox.Literal(TOPIC_LABEL, language="en"))
    add(TOPIC, SKOS + "inScheme", ox.NamedNode(BASE + "concept/topic"))
    add(SOURCE, SKOS + "prefLabel", ox.Literal(SOURCE_LABEL, language="en"))
    for slug, title in TITLES.items():
        practice = BASE + "id/practice/" + slug
        add(practice, RDF_TYPE, ox.NamedNode(PB + "Practice"))
        add(practice, DCTERMS + "title", ox.Literal(title))
        add(practice, DCTERMS + "abstract", ox.Literal(f"Knife arches {IMG} {SCRIPT}"))
        add(practice, PB + "organisation", ox.NamedNode(FORCE))
        add(practice, PB + "topic", ox.NamedNode(TOPIC))
        add(practice, PB + "startDate", typed("2021-03-01", "date"))
    # A write token holder can store a practice under any IRI (the shapes accept it).
    add(JS_IRI, RDF_TYPE, ox.NamedNode(PB + "Practice"))
    add(JS_IRI, DCTERMS + "title", ox.Literal("Click me knife"))
    add(JS_IRI, PB + "topic", ox.NamedNode(TOPIC))
    recognition = BASE + "id/recognition/evil"
    add(recognition, PB + "recognises", ox.NamedNode(BASE + "id/practice/formula"))
    add(recognition, PB + "recognitionSource", ox.NamedNode(SOURCE))
    add(recognition, DCTERMS + "date", typed("2019-05-01", "date"))
    for month, count in (("2021-02", "10"), ("2021-03", "12")):
        observation = BASE + "id/observation/evil-" + month
        add(observation, RDF_TYPE, ox.NamedNode(PB + "CrimeCountObservation"))
        add(observation, PB + "force", ox.NamedNode(FORCE))
        add(observation, PB + "month", typed(month, "gYearMonth"))
        add(observation, PB + "crimeCount", typed(count, "integer"))
    return quads


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("workbench")
    store = PracticeStore(tmp / "store")
    store.ox.extend(hostile_quads())
    store.close()
    with LiveServer(tmp / "store", tmp, "--workers", "1") as live:
        yield live


# -- what every answer must be -------------------------------------------------------------

#: Slower than this is "slow" (generous: the machine running the tests is shared).
SLOW = 5.0
#: A 4xx says what is wrong in a sentence: it never echoes a long input back.
SHORT = 2_000
LINK_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
SCRIPT_SCHEME = re.compile(r"^[\x00-\x20]*(?:j\s*a\s*v\s*a\s*s\s*c\s*r\s*i\s*p\s*t|vbscript|data)"
                           r"\s*:", re.IGNORECASE)


class LiveMarkup(HTMLParser):
    """What in a page could run script: a script element not loaded from /static/, an event
    handler attribute, a link or source with a script scheme, an element that embeds."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.found.append(f"<script {attributes}>")
        if tag in ("iframe", "object", "embed", "base", "frame"):
            self.found.append(f"<{tag}>")
        if tag == "img" and not (attributes.get("src") or "").startswith("/static/"):
            self.found.append(f"<img {attributes}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}={value!r}>")
            if name in LINK_ATTRIBUTES and value and SCRIPT_SCHEME.match(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def live_markup(page: str) -> list[str]:
    parser = LiveMarkup()
    parser.feed(page)
    parser.close()
    return parser.found


def csp(headers) -> dict[str, list[str]]:
    """The Content-Security-Policy as directive -> sources."""
    policy = headers.get("Content-Security-Policy") or ""
    parts = [p.split() for p in policy.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


def assert_page_headers(path: str, headers) -> None:
    """HTML: no script at all, except /query's own from this server; framing refused."""
    policy = csp(headers)
    assert policy.get("default-src") == ["'none'"], (path, policy)
    assert policy.get("frame-ancestors") == ["'none'"] and policy.get("base-uri") == ["'none'"]
    for directive, sources in policy.items():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(sources), (path, directive)
        assert "data:" not in sources or directive == "img-src", (path, directive)
    if urllib.parse.urlsplit(path).path == "/query":
        assert policy["script-src"] == ["'self'"], policy
    else:
        assert "script-src" not in policy, (path, policy)
    assert headers["X-Frame-Options"] == "DENY"


def get(server, path: str, **headers) -> tuple[int, dict, bytes, float]:
    started = time.monotonic()
    status, got, body = server.request("GET", server.base + path, headers=headers, timeout=60)
    return status, got, body, time.monotonic() - started


def assert_answered(server, path: str, **headers) -> tuple[int, dict, bytes]:
    """``path`` answers a 2xx or a short 4xx in time; an HTML page has no live markup."""
    status, got, body, took = get(server, path, **headers)
    shown = path[:120]
    assert status < 500, (shown, status, body[:300])
    assert took < SLOW, (shown, took)
    assert got["X-Content-Type-Options"] == "nosniff", shown
    assert "Access-Control-Allow-Credentials" not in got, shown
    content_type = got.get("Content-Type") or ""
    if status >= 400:
        assert len(body) < SHORT, (shown, len(body))
        assert not content_type.startswith("text/html") or status in (404, 405, 414, 431), shown
        assert b"Traceback" not in body, shown
    if content_type.startswith("text/html"):
        found = live_markup(body.decode("utf-8", "replace"))
        assert not found, (shown, found)
        assert_page_headers(path, got)
    return status, got, body


# -- hostile parameters --------------------------------------------------------------------

FACETS = ("rating", "purpose", "topic", "stage", "force", "region", "recognition", "target",
          "partner", "year", "intervention", "effect")
BROWSE = ("q", "sort", "size", "page", *FACETS)
ROUTES = {
    "/query": ("query", "example"),
    "/complete": ("q", "kind", "limit"),
    "/practices": BROWSE,
    "/practices.csv": BROWSE,
    "/practices.json": BROWSE,
    "/search": ("q", "kind", "page"),
    "/search.json": ("q", "kind", "page"),
    "/charts": ("name", "topic"),  # it takes none: anything is ignored
    "/compare": ("topic", "intervention"),
}
#: Values as text (percent-encoded by urlencode).
VALUES = [
    SCRIPT, IMG, "javascript:alert(1)", "</textarea><script>alert(1)</script>",
    "'><svg onload=alert(1)>", "x" * 5000, "é" * 2600, "\x00", "a\x00b",
    "\u202eevil\u200b\u2066x\u2069", "\ufeff\u200d", "🔪" * 300, FORMULA,
    'SELECT * WHERE { ?s ?p ?o } LIMIT 1', "DROP ALL ; CLEAR DEFAULT", "../../../../etc/passwd",
    '"', '"knife', "NEAR(knife arches, 2)", "*", "knife*", "knife OR arches", "^knife",
    "title:knife", "' OR '1'='1", "evil-topic\r\nSet-Cookie: a=b",
]
#: Values written into the URL as they are: bad escapes and invalid UTF-8.
RAW = ["%ff%fe", "%c0%af", "%ed%a0%80", "%00", "%", "%zz", "%e2%80", "%2e%2e%2f%2e%2e%2f"]


@pytest.mark.parametrize("route", list(ROUTES))
def test_hostile_values_of_every_parameter_are_answered_bounded(server, route):
    for param in ROUTES[route]:
        for value in VALUES:
            assert_answered(server, f"{route}?{urllib.parse.urlencode({param: value})}")
        for raw in RAW:
            assert_answered(server, f"{route}?{param}={raw}")


@pytest.mark.parametrize("route", list(ROUTES))
def test_many_repeated_parameters_are_answered_bounded(server, route):
    for param in ROUTES[route]:
        assert_answered(server, f"{route}?" + "&".join([f"{param}=evil-topic"] * 400))
        assert_answered(server, f"{route}?" + "&".join(f"{param}=v{i}" for i in range(400)))
    assert_answered(server, f"{route}?" + "&".join(f"p{i}=x" for i in range(1000)))


# -- echoed values come back escaped -------------------------------------------------------

def page(server, path: str) -> str:
    status, _, body = assert_answered(server, path)
    assert status == 200, (path, body[:300])
    return body.decode()


ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_the_editor_shows_a_shared_query_as_text_in_its_form(server):
    hostile = "</textarea><script>alert(1)</script>" + IMG
    text = page(server, "/query?" + urllib.parse.urlencode({"query": hostile}))
    assert "&lt;/textarea&gt;" + ESCAPED_SCRIPT + "&#34;&gt;&lt;img src=x" in text
    assert text.count("</textarea>") == 1
    status, headers, body, _ = get(server, "/query?" + urllib.parse.urlencode(
        {"query": "x" * 20_001}))
    assert status == 400 and headers["Content-Type"].startswith("text/plain")
    assert len(body) < 200
    status, headers, body, _ = get(server, "/query?" + urllib.parse.urlencode({"example": SCRIPT}))
    assert status == 400 and headers["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("path", ["/search", "/practices"])
def test_search_text_is_echoed_escaped(server, path):
    text = page(server, f"{path}?" + urllib.parse.urlencode({"q": SCRIPT + " knife"}))
    assert ESCAPED_SCRIPT + " knife" in text


def test_search_text_over_its_bound_is_a_short_400(server):
    for path in ("/search", "/search.json", "/complete", "/practices", "/practices.csv",
                 "/practices.json"):
        status, headers, body, _ = get(server, f"{path}?q={'x' * 5000}")
        assert status == 400, path
        message = json.loads(body)["message"]
        assert "200" in message and "xxxxxxxxxx" not in message, (path, message)


def test_an_unknown_facet_value_is_a_400_that_does_not_echo_it_whole(server):
    for path in ("/practices", "/practices.csv", "/practices.json"):
        query = urllib.parse.urlencode({"topic": "<script>" * 500})
        status, headers, body, _ = get(server, f"{path}?{query}")
        assert status == 400 and headers["Content-Type"].startswith("application/json")
        assert len(json.loads(body)["message"]) < 300


# -- stored hostile text comes back escaped ------------------------------------------------

PAGES = ["/practices", "/practices?topic=evil-topic&q=knife", "/search?q=knife", "/charts",
         "/compare", "/compare?topic=evil-topic", "/charts/force/evil-force"]


@pytest.mark.parametrize("path", PAGES)
def test_stored_markup_is_escaped_on_every_page(server, path):
    text = page(server, path)
    for raw in ("<script>alert", "<img src=x", "<b onmouseover"):
        assert raw not in text, (path, raw)
    escaped = {"/charts": ["+topic &lt;script&gt;alert(2)&lt;/script&gt;",
                           "&lt;b onmouseover=alert(1)&gt;Evil&lt;/b&gt;"],
               "/compare": ["+topic &lt;script&gt;alert(2)&lt;/script&gt;"]}
    for form in escaped.get(path, [ESCAPED_SCRIPT + " knife arches",
                                   "&gt;&lt;img src=x onerror=alert(1)&gt; knife"]):
        assert form in text, (path, form)


@pytest.mark.parametrize("path", ["/practices", "/search?q=knife",
                                  "/compare?topic=evil-topic"])
def test_a_practice_iri_that_is_not_http_is_text_not_a_link(server, path):
    text = page(server, path)
    assert "Click me knife" in text
    assert not re.search(r"href=[\"']?\s*javascript", text, re.IGNORECASE), path


# -- paths ---------------------------------------------------------------------------------

BAD_CHARTS = ["nope.csv", "nope.json", "%3Cscript%3Ealert(1)%3C%2Fscript%3E.csv",
              "..%2F..%2F..%2Fetc%2Fpasswd.csv", "%2e%2e/%2e%2e/etc/passwd.csv",
              "practices-by-force.csv.csv", "PRACTICES-BY-FORCE.csv",
              "practices-by-force%00.csv", "x" * 5000 + ".json", "%ff%fe.csv",
              "practices-by-force.xml", "practices-by-force"]
BAD_FORCES = ["../../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd", "..%2F..%2Fetc%2Fpasswd",
              "evil-force%00", "EVIL-FORCE", "evil-force/../evil-force", "a" * 5000,
              "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%ff", "no-such-force", "evil_force",
              "-evil"]


@pytest.mark.parametrize("name", BAD_CHARTS)
def test_unknown_or_traversing_chart_names_are_a_short_404(server, name):
    status, headers, body = assert_answered(server, f"/charts/{name}")
    assert status == 404, (name[:80], status)
    assert b"root:" not in body
    assert headers["Content-Type"].startswith(("text/plain", "application/json"))  # never HTML


@pytest.mark.parametrize("slug", BAD_FORCES)
def test_unknown_or_traversing_force_slugs_are_a_short_404(server, slug):
    status, headers, body = assert_answered(server, f"/charts/force/{slug}")
    assert status == 404, (slug[:80], status)
    assert b"root:" not in body
    assert headers["Content-Type"].startswith(("text/plain", "application/json"))  # never HTML


@pytest.mark.parametrize("query", ["topic=%3Cscript%3E", "topic=..%2F..%2Fetc",
                                   "intervention=" + "a" * 5000, "topic=evil-topic&topic=x",
                                   "topic=evil-topic&intervention=x", "topic=Evil-Topic"])
def test_compare_refuses_odd_slugs_with_a_short_4xx(server, query):
    status, headers, body = assert_answered(server, f"/compare?{query}")
    assert status in (400, 404) and headers["Content-Type"].startswith("text/plain")


# -- headers -------------------------------------------------------------------------------

HTML_PAGES = ["/query", "/query?example=nope", "/practices", "/search", "/search?q=knife",
              "/charts", "/charts/force/evil-force", "/compare", "/compare?topic=evil-topic"]


def test_every_page_forbids_script_but_the_editor_which_allows_only_its_own(server):
    for path in HTML_PAGES:
        status, headers, _, _ = get(server, path)
        if status == 200:
            assert headers["Content-Type"].startswith("text/html"), path
            assert_page_headers(path, headers)
        assert headers["X-Content-Type-Options"] == "nosniff", path
    status, headers, _, _ = get(server, "/query")
    policy = csp(headers)
    assert policy["script-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in headers["Content-Security-Policy"]


READS = ["/complete?q=ra", "/search.json?q=knife", "/practices.json", "/practices.csv",
         "/charts/practices-by-force.csv", "/charts/practices-by-force.json"]


def test_downloads_say_nosniff_and_cors_is_for_reads_only(server):
    for path in READS:
        status, headers, _, _ = get(server, path, Origin="https://elsewhere.example")
        assert status == 200, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers.get("Access-Control-Allow-Origin") in (None, "*"), path
        assert "Access-Control-Allow-Credentials" not in headers, path
    for path in ("/complete?q=ra", "/search.json?q=knife"):  # the editor's and others' lookups
        assert get(server, path)[1]["Access-Control-Allow-Origin"] == "*", path
    for path in ["/query", "/practices", "/search", "/charts", "/compare", *READS]:
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = server.request(
                method, server.base + path, body=b"x",
                headers={"Origin": "https://elsewhere.example", "Content-Type": "text/plain"})
            assert status == 405, (method, path, status)
            assert "Access-Control-Allow-Origin" not in headers, (method, path)


# -- spreadsheet formulas in our CSV downloads ---------------------------------------------

def download_csv(server, path: str) -> list[dict[str, str]]:
    status, headers, body = assert_answered(server, path)
    assert status == 200 and headers["Content-Type"].startswith("text/csv"), path
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


def spreadsheet_safe(cell: str) -> bool:
    """What a spreadsheet reads as text or a number, never a formula."""
    return not cell.startswith(("=", "+", "-", "@", "\t", "\r")) or \
        re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", cell) is not None


@pytest.mark.parametrize("path", ["/practices.csv", "/practices.csv?topic=evil-topic&q=knife",
                                  "/practices.csv?sort=date"])
def test_the_practices_csv_puts_a_quote_before_formulas_and_leaves_numbers(server, path):
    rows = {r["practice"]: r for r in download_csv(server, path)}
    by_slug = {iri.rsplit("/", 1)[-1]: r for iri, r in rows.items()}
    assert by_slug["formula"]["title"] == "'" + FORMULA
    assert by_slug["arith"]["title"] == "'" + ARITH
    assert by_slug["number"]["title"] == NUMBER  # a number, not a formula
    assert by_slug["markup"]["title"] == SCRIPT + " knife arches"  # CSV is not HTML
    for slug in TITLES:
        assert by_slug[slug]["force"] == "'" + FORCE_NAME
        assert by_slug[slug]["region"] == "'" + REGION_LABEL
        assert by_slug[slug]["start_date"] == "2021-03-01"
    for row in rows.values():
        assert all(spreadsheet_safe(cell) for cell in row.values()), row
    assert rows[JS_IRI]["page"] == ""  # no link to a javascript: IRI, in a download either


def test_each_chart_csv_puts_a_quote_before_formulas_and_leaves_counts(server):
    expected = {  # chart -> (category label, series label, count), from hostile_quads
        "practices-by-force": [("'" + FORCE_NAME, "Practices", "5")],
        "practices-by-region": [("'" + REGION_LABEL, "Practices", "5")],
        "ratings-by-topic": [("'" + TOPIC_LABEL, "Not rated", "6")],
        "recognitions-by-year": [("2019", "'" + SOURCE_LABEL, "1")],
    }
    for name, rows in expected.items():
        got = download_csv(server, f"/charts/{name}.csv")
        assert [(r["categoryLabel"], r["seriesLabel"], r["count"]) for r in got] == rows, name
        assert all(spreadsheet_safe(c) for r in got for c in r.values()), name


def test_json_downloads_and_sparql_csv_carry_the_values_exactly(server):
    status, _, body, _ = get(server, "/practices.json?topic=evil-topic")
    titles = {p["title"] for p in json.loads(body)["practices"]}
    assert {FORMULA, ARITH, NUMBER} <= titles
    status, _, body, _ = get(server, "/charts/practices-by-force.json")
    assert json.loads(body)["rows"][0]["categoryLabel"] == FORCE_NAME
    # /sparql's text/csv is SPARQL 1.1 Query Results CSV: values exactly as stored.
    query = (f"SELECT ?title WHERE {{ <{BASE}id/practice/formula> <{DCTERMS}title> ?title }}")
    status, headers, body = server.query(query, accept="text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(body.decode(), newline="")))[1] == [FORMULA]


@pytest.mark.parametrize("value,expected", [
    (FORMULA, "'" + FORMULA), (ARITH, "'" + ARITH), ("+1+1", "'+1+1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-", "'-"), ("=", "'="), ("-cmd|' /C calc'!A0",
                                                                      "'-cmd|' /C calc'!A0"),
    ("-5", "-5"), ("-0.25", "-0.25"), ("+3", "+3"), ("-1e-3", "-1e-3"), ("-.5", "-.5"),
    ("12", "12"), (12, 12), (None, None), ("", ""), ("Knife arches", "Knife arches"),
    ("<script>", "<script>"), (" =1", " =1"), ("'=1", "'=1"),
])
def test_a_cell_is_guarded_exactly_when_a_spreadsheet_would_read_a_formula(value, expected):
    assert safe_cell(value) == expected
