"""The query editor (/query), its example library (/query/examples.json), the redirect of a
browser's query-less /sparql to it, and the vendored YASGUI it is built on.

The page is checked as HTTP and HTML here (Flask's test client on the demo data); what its
script does in a browser is checked in tests/browser/test_editor.py. Expected values come
from the files themselves (the .rq library, the vendored bundle, pyproject.toml), read here
independently of endpoint/workbench.py.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import html
import html.parser
import re
import tomllib
import urllib.parse
from pathlib import Path

import pytest

from practicebank.endpoint import create_app

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "endpoint" / "queries"
VENDORED = ROOT / "endpoint" / "static" / "yasgui"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: The service description's RDF formats, each asked for alone and beside HTML it prefers.
RDF_TYPES = ["text/turtle", "application/n-triples", "application/ld+json",
             "application/rdf+xml", "application/n-quads", "application/trig"]


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


class Resources(html.parser.HTMLParser):
    """The scripts and style sheets a page loads, and any inline script or style."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "style" in attributes or any(name.startswith("on") for name in attributes):
            self.inline.append(f"<{tag} {attrs}>")
        if tag == "script":
            self._in_script = True
            if "src" in attributes:
                self.scripts.append(attributes["src"])
            elif attributes.get("type") != "application/ld+json":
                self.inline.append("<script> without src")
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.styles.append(attributes["href"])
        if tag == "style":
            self.inline.append("<style>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def headers_of(path: Path) -> dict[str, str]:
    """The three header comments of an .rq file, read with this test's own pattern."""
    lines = path.read_text(encoding="utf-8").splitlines()[:3]
    found = dict(re.fullmatch(r"# (title|question|description): (.+)", line).groups()
                 for line in lines)
    assert set(found) == {"title", "question", "description"}, path.name
    return found


# -- the page ----------------------------------------------------------------------------


def test_the_editor_page_sends_its_own_strict_policy(client):
    response = client.get("/query")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    policy = directives(response.headers["Content-Security-Policy"])
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert policy["connect-src"] == ["'self'"]
    assert policy["style-src"][0] == "'self'"
    assert all(s.startswith("'sha256-") for s in policy["style-src"][1:])  # no 'unsafe-inline'
    assert policy["font-src"] == ["'self'"]
    assert set(policy["img-src"]) == {"'self'", "data:"}
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_style_hashes_are_of_what_the_bundle_writes(client):
    """Each hash the policy allows is of a ``<style>`` text found in the bundle (the column
    resizer's), so a new bundle with other styles fails here, not silently in browsers."""
    policy = directives(client.get("/query").headers["Content-Security-Policy"])
    bundle = (VENDORED / "yasgui.min.js").read_text(encoding="utf-8")
    grips = re.search(r"createStyle\(a,`( \.grip-resizable\{.*?)`\)", bundle).group(1)
    cursor = "*{cursor:" + re.search(r"dragCursor:`([^`]+)`", bundle).group(1) + "!important}"
    expected = {"'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
                + "'" for text in (grips, cursor)}
    assert set(policy["style-src"][1:]) == expected


def test_the_page_loads_only_static_files_of_this_server(client):
    page = client.get("/query").get_data(as_text=True)
    found = Resources()
    found.feed(page)
    assert not found.inline, found.inline
    assert "/static/yasgui/yasgui.min.js" in found.scripts
    assert "/static/workbench.js" in found.scripts
    assert "/static/yasgui/yasgui.min.css" in found.styles
    for url in found.scripts + found.styles:
        assert url.startswith("/static/") and "//" not in url, url
        with client.get(url) as response:  # closes the static file it streams
            assert response.status_code == 200, url
    for path in ("/sparql", "/query/examples.json", "/complete", "/query"):
        assert f'"{path}"' in page  # the data- attributes workbench.js reads


def test_without_script_the_page_is_a_form_that_submits_to_sparql(client):
    page = client.get("/query").get_data(as_text=True)
    form = re.search(r'<form id="plain-form" method="get" action="([^"]+)">(.*?)</form>',
                     page, re.S)
    assert form and form.group(1) == "/sparql"
    assert '<label for="query">' in form.group(2) and 'name="query"' in form.group(2)
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", form.group(2), re.S).group(1)
    query = html.unescape(textarea)
    answer = client.get("/sparql", query_string={"query": query, "format": "csv"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    for path in sorted(QUERIES.glob("*.rq")):  # each example is a plain link too
        assert f'href="/query?example={path.stem}"' in page


def test_a_shared_link_opens_with_its_query_escaped(client):
    query = 'SELECT ?x WHERE { ?x ?p "</textarea><script>alert(1)</script>" }'
    page = client.get("/query", query_string={"query": query}).get_data(as_text=True)
    textarea = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert html.unescape(textarea) == query
    assert "<script>alert(1)" not in page


def test_an_example_link_opens_with_its_query_and_description(client):
    path = QUERIES / "08-forces-by-practice-count.rq"
    page = client.get("/query", query_string={"example": path.stem}).get_data(as_text=True)
    textarea = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    body = "\n".join(path.read_text(encoding="utf-8").splitlines()[3:]).strip()
    assert html.unescape(textarea).strip() == body
    assert html.escape(headers_of(path)["description"], quote=False) in page


@pytest.mark.parametrize(("params", "says"), [
    ({"example": "no-such-example"}, "not one of the example queries"),
    ({"query": "ASK {} " + "#" * 20_000}, "longer than"),
])
def test_bad_parameters_are_400_with_a_short_message(client, params, says):
    response = client.get("/query", query_string=params)
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert says in response.get_data(as_text=True)
    assert len(response.data) < 300


# -- the example library -----------------------------------------------------------------


def test_examples_json_lists_every_query_file(client):
    response = client.get("/query/examples.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    listed = {e["name"]: e for e in response.get_json()["examples"]}
    files = sorted(QUERIES.glob("*.rq"))
    assert len(files) >= 20
    assert sorted(listed) == [p.stem for p in files]
    for path in files:
        entry, headers = listed[path.stem], headers_of(path)
        assert entry["title"] == headers["title"]
        assert entry["question"] == headers["question"]
        assert entry["description"] == headers["description"]
        body = "\n".join(path.read_text(encoding="utf-8").splitlines()[3:]).strip()
        assert entry["query"].strip() == body
        assert entry["url"] == "/query?" + urllib.parse.urlencode({"example": path.stem})


def test_an_example_runs_through_the_endpoint(client):
    """The JSON's query text is a whole query: the endpoint answers it."""
    (entry,) = [e for e in client.get("/query/examples.json").get_json()["examples"]
                if e["name"] == "08-forces-by-practice-count"]
    answer = client.get("/sparql", query_string={"query": entry["query"]},
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200
    assert answer.get_json()["results"]["bindings"]


# -- /sparql without a query ---------------------------------------------------------------


@pytest.mark.parametrize("accept", [BROWSER, "text/html", "text/html,text/turtle;q=0.5"])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_browser_opening_sparql_is_sent_to_the_editor(client, accept, method):
    response = client.open("/sparql", method=method, headers={"Accept": accept})
    assert response.status_code == 303
    assert response.headers["Location"] == "/query"
    assert "Accept" in response.headers["Vary"]


def test_the_redirect_keeps_the_path_prefix_of_a_proxy(client):
    response = client.get("/sparql", headers={"Accept": BROWSER},
                          base_url="http://localhost/practicebank/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/practicebank/query"
    page = client.get("/query", base_url="http://localhost/practicebank/").get_data(as_text=True)
    for url in ("/practicebank/static/workbench.js", "/practicebank/static/yasgui/yasgui.min.js",
                'data-endpoint="/practicebank/sparql"', 'data-complete="/practicebank/complete"',
                'data-examples="/practicebank/query/examples.json"'):
        assert url in page


@pytest.mark.parametrize("accept", [None, "*/*", *RDF_TYPES,
                                    *(f"{t},text/html;q=0.5" for t in RDF_TYPES)])
def test_other_clients_still_get_the_service_description(client, accept):
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    expected = accept.split(",")[0] if accept and accept != "*/*" else "text/turtle"
    assert response.mimetype == expected
    assert b"sparql-service-description" in response.data


def test_format_html_still_shows_the_service_description_as_a_table(client):
    response = client.get("/sparql", query_string={"format": "html"},
                          headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "sparql-service-description#endpoint" in response.get_data(as_text=True)


# -- the vendored bundle -------------------------------------------------------------------


def test_the_vendored_files_are_the_published_ones():
    readme = (VENDORED / "README.md").read_text(encoding="utf-8")
    assert "@zazuko/yasgui 4.6.2" in readme
    recorded = dict((name, digest) for digest, name in
                    re.findall(r"sha256\s+([0-9a-f]{64})\s+(yasgui\.min\.\w+)", readme))
    assert set(recorded) == {"yasgui.min.js", "yasgui.min.css"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert "MIT License" in (VENDORED / "LICENSE").read_text(encoding="utf-8")


def test_the_vendored_files_are_package_data():
    """Every file the page needs matches the package-data patterns setuptools is given
    (``static/*`` alone would leave out the ``static/yasgui/`` folder)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["practicebank.endpoint"]
    needed = [p.relative_to(ROOT / "endpoint").as_posix() for p in VENDORED.iterdir()]
    needed += ["static/workbench.js", "static/workbench.css", "templates/query.html"]
    for path in needed:
        # setuptools' patterns are globs whose * stays within one folder
        assert any(fnmatch.fnmatch(path, p) and path.count("/") == p.count("/")
                   for p in patterns), f"{path} is not in {patterns}"
