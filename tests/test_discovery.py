"""Discovery: ``/sitemap.xml`` and its pages, ``/robots.txt`` and the landing page.

The sitemap is checked against the store itself: the practices, forces and concepts a SPARQL
query finds are each listed exactly once, as URLs that answer with an HTML page, however the
pages are cut. Most tests use the demo data (what ``serve --demo`` loads) in memory; one uses
the shared ``oxigraph serve`` of the remote-store tests.
"""

from __future__ import annotations

import html.parser
import itertools
import json
import re
import urllib.parse
import urllib.robotparser
import xml.etree.ElementTree as ET
from collections import Counter

import pyoxigraph as ox
import pytest

from practicebank.endpoint import create_app, discovery
from practicebank.journal import ChangeSet
from practicebank.namespaces import graph_node
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
LOCAL = "http://localhost/"
NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SMALL = 40  # URLs per page in the tests that cut the sitemap small
#: What a browser (and a search engine's crawler) sends.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


@pytest.fixture(scope="module")
def small_client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store,
                       "SITEMAP_PAGE_SIZE": SMALL}).test_client()


def index_locs(client, *, shared: bool = False, **options) -> list[str]:
    """The sitemap pages the index lists (checked to be a sitemap index). Each has the
    store's last change, but for a ``shared`` store, whose last change is not known."""
    response = client.get("/sitemap.xml", **options)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{NS}sitemapindex"
    assert [child.tag for child in root] == [f"{NS}sitemap"] * len(root)
    for entry in root:
        stamp = entry.findtext(f"{NS}lastmod")
        if shared:
            assert stamp is None
        else:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)
    return [entry.findtext(f"{NS}loc") for entry in root]


def page_locs(client, url: str, **options) -> list[str]:
    """The URLs on one sitemap page (checked to be a urlset)."""
    response = client.get(urllib.parse.urlsplit(url).path, **options)
    assert response.status_code == 200, url
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{NS}urlset"
    assert [child.tag for child in root] == [f"{NS}url"] * len(root)
    return [entry.findtext(f"{NS}loc") for entry in root]


def every_loc(client, **options) -> dict[str, list[str]]:
    """Every sitemap page's URLs, by the page's URL."""
    return {page: page_locs(client, page, **options) for page in index_locs(client, **options)}


def iris(store: PracticeStore, *classes: str) -> set[str]:
    """Our IRIs (under the public base: the sitemap lists no one else's, such as the
    example CrimeSolutions topics of the crosswalk) with one of ``classes`` as type in any
    graph: the store's own answer."""
    values = " ".join(f"<{c}>" for c in classes)
    rows = store.query(f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {values} }} "
                       f"GRAPH ?g {{ ?s a ?c }} FILTER (isIRI(?s)) }}")
    return {row["s"].value for row in rows if row["s"].value.startswith(BASE)}


def document(iri: str, root: str = LOCAL) -> str:
    """The URL a sitemap lists for ``iri``: its HTML page on the host asked."""
    return root + iri[len(BASE):] + ".html"


# -- the sitemap ------------------------------------------------------------------------------


def test_the_sitemap_lists_every_practice_force_and_concept_once(client, demo_store):
    pages = every_loc(client)
    listed = Counter(url for urls in pages.values() for url in urls)
    assert [url for url, n in listed.items() if n > 1] == []
    expected = {
        "id/practice/": iris(demo_store, BASE + "def/Practice"),
        "id/force/": iris(demo_store, BASE + "def/PoliceForce"),
        "concept/": iris(demo_store, SKOS + "Concept", SKOS + "ConceptScheme"),
    }
    for path, found in expected.items():
        assert len(found) > 25, path  # the demo data has them: the test could fail
        assert {url for url in listed  # the documents, not the listing pages
                if url.startswith(LOCAL + path) and url.endswith(".html")} == {
            document(iri) for iri in found}
    # one page per kind at the default size; the site's pages, the graphs and terms too
    kinds = [re.fullmatch(rf"{LOCAL}sitemaps/([a-z]+)-1\.xml", page).group(1) for page in pages]
    assert kinds == ["pages", "practices", "forces", "organisations", "records", "concepts",
                     "graphs", "terms"]
    assert LOCAL in pages[f"{LOCAL}sitemaps/pages-1.xml"]
    assert f"{LOCAL}graph/sample.html" in listed and f"{LOCAL}def/Practice.html" in listed


def test_every_url_in_the_sitemap_answers_with_an_html_page(client):
    pages = every_loc(client)
    urls = [url for urls in pages.values() for url in urls]
    assert len(urls) > 900
    for url in urls:
        response = client.get(urllib.parse.urlsplit(url).path, headers=BROWSER)
        assert (response.status_code, response.mimetype) == (200, "text/html"), url


def test_records_are_the_other_things_under_id(client, demo_store):
    """Evaluations, reports, assessments, recognitions … each under its own path, listed
    once, and nothing outside ``id/`` (ontology terms, external pages) among them."""
    records = [url for url in page_locs(client, f"{LOCAL}sitemaps/records-1.xml")]
    paths = {urllib.parse.urlsplit(url).path.split("/")[2] for url in records}
    assert {"evaluation", "report", "assessment", "recognition", "participation"} <= paths
    assert not paths & {"practice", "force", "organisation"}
    assert all(url.startswith(f"{LOCAL}id/") for url in records)
    evaluations = iris(demo_store, BASE + "def/Evaluation")
    assert {document(iri) for iri in evaluations} <= set(records)


def test_a_small_page_size_cuts_the_same_urls_into_full_pages(client, small_client):
    whole = every_loc(client)
    cut = every_loc(small_client)
    assert len(cut) > len(whole) + 10
    for page, urls in cut.items():
        assert 0 < len(urls) <= SMALL, page
    # every kind's pages, in order, numbered from 1, and together the same URLs
    for kind in ("practices", "records", "concepts"):
        numbers = [int(m.group(1)) for page in cut
                   if (m := re.fullmatch(rf"{LOCAL}sitemaps/{kind}-(\d+)\.xml", page))]
        assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 3, kind
    assert sorted(u for urls in cut.values() for u in urls) == sorted(
        u for urls in whole.values() for u in urls)
    # all but the last page of a kind are full
    practices = [urls for page, urls in cut.items() if "/practices-" in page]
    assert all(len(urls) == SMALL for urls in practices[:-1])


@pytest.mark.parametrize("path", ["/sitemaps/practices-0.xml", "/sitemaps/practices-99.xml",
                                  "/sitemaps/nothing-1.xml", "/sitemaps/practices-x.xml",
                                  "/sitemaps/practices.xml"])
def test_a_page_that_is_not_there_is_404(client, path):
    assert client.get(path).status_code == 404


def test_on_the_public_host_the_sitemap_lists_public_urls(client):
    public = {"base_url": BASE}
    pages = index_locs(client, **public)
    assert all(page.startswith(f"{BASE}sitemaps/") for page in pages)
    urls = page_locs(client, "/sitemaps/practices-1.xml", **public)  # under the script root
    assert urls and all(url.startswith(f"{BASE}id/practice/") for url in urls)


def test_a_revalidation_costs_a_304(client):
    first = client.get("/sitemaps/practices-1.xml")
    assert first.headers["ETag"] and first.headers["Last-Modified"]
    again = client.get("/sitemaps/practices-1.xml",
                       headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def practice(slug: str) -> str:
    """A practice as the shapes want it, in N-Triples (which is Turtle too)."""
    iri = f"<{BASE}id/practice/{slug}>"
    return (f"{iri} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{BASE}def/Practice> .\n"
            f'{iri} <http://purl.org/dc/terms/title> "Practice {slug}" .\n'
            f"{iri} <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/{slug}> .\n")


def test_the_counts_are_kept_until_a_committed_write():
    """Counted once per commit: a practice written outside the server is not listed, one
    written through it is, and the index grows a page when a kind outgrows one."""
    store = PracticeStore()
    turtle = "".join(practice(f"p{i}") for i in range(3))
    store.ox.load(turtle, format=ox.RdfFormat.TURTLE, to_graph=graph_node("test"))
    app = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t",
                      "SITEMAP_PAGE_SIZE": 3})
    client = app.test_client()

    def practices() -> list[str]:
        pages = [p for p in index_locs(client) if "/practices-" in p]
        return sorted(u for page in pages for u in page_locs(client, page))

    assert practices() == [f"{LOCAL}id/practice/p{i}.html" for i in range(3)]
    store.ox.update(f"INSERT DATA {{ GRAPH <{BASE}graph/test> {{ {practice('outside')} }} }}")
    assert len(practices()) == 3
    response = client.post(f"/store?graph={BASE}graph/other", data=practice("inside"),
                           content_type="text/turtle", headers={"Authorization": "Bearer t"})
    assert response.status_code in (201, 204), response.data
    assert practices() == sorted([f"{LOCAL}id/practice/p{i}.html" for i in range(3)]
                                 + [f"{LOCAL}id/practice/outside.html",
                                    f"{LOCAL}id/practice/inside.html"])


def test_iris_that_need_escaping_are_listed_escaped_or_left_out():
    """An IRI with non-ASCII letters is percent-encoded (and still dereferences); an ``&``
    is entity-escaped; one that names a document of another (``x.ttl``) is left out."""
    store = PracticeStore()
    names = ("café-quarter", "fish&chips", "odd.ttl")
    turtle = "".join(f"<{BASE}id/practice/{n}> a <{BASE}def/Practice> ; "
                     f"<http://purl.org/dc/terms/title> \"{n}\" .\n" for n in names)
    store.ox.load(turtle, format=ox.RdfFormat.TURTLE, to_graph=graph_node("test"))
    client = create_app({"TESTING": True, "STORE": store}).test_client()
    body = client.get("/sitemaps/practices-1.xml").get_data(as_text=True)
    assert "fish&amp;chips.html" in body and "fish&chips" not in body
    urls = page_locs(client, "/sitemaps/practices-1.xml")
    assert sorted(urls) == [f"{LOCAL}id/practice/caf%C3%A9-quarter.html",
                            f"{LOCAL}id/practice/fish&chips.html"]
    for url in urls:
        response = client.get(urllib.parse.urlsplit(url).path)
        assert response.status_code == 200 and response.mimetype == "text/html"


def test_a_remote_store_is_listed_through_sparql(oxigraph_backend, monkeypatch):
    """The same sitemap from a SPARQL server, asked a few rows at a time."""
    monkeypatch.setattr(discovery, "REMOTE_CHUNK", 2)
    name = "discovery-test"
    mine = [f"{BASE}id/practice/discovery-test-{i}" for i in range(7)]
    with oxigraph_backend.store() as store:
        turtle = "".join(f"<{iri}> a <{BASE}def/Practice> .\n" for iri in mine)
        store.apply_change(name, added=turtle.encode())
        try:
            client = create_app({"TESTING": True, "STORE": store,
                                 "SITEMAP_PAGE_SIZE": 5}).test_client()
            pages = {page: page_locs(client, page) for page in index_locs(client, shared=True)}
            listed = Counter(u for urls in pages.values() for u in urls)
            assert all(len(urls) <= 5 for urls in pages.values())
            assert {document(iri) for iri in mine} <= set(listed)
            assert max(listed.values()) == 1
            response = client.get(urllib.parse.urlsplit(document(mine[0])).path)
            assert response.status_code == 200 and response.mimetype == "text/html"
        finally:
            store.commit_changes(ChangeSet(dropped={graph_node(name)}))


# -- robots.txt -------------------------------------------------------------------------------


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_queries(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    for line in ("Disallow: /sparql?", "Disallow: /store", "Disallow: /update",
                 f"Sitemap: {LOCAL}sitemap.xml"):
        assert line in text.splitlines()
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(text.splitlines())
    assert robots.site_maps() == [f"{LOCAL}sitemap.xml"]
    # (Python's parser reads "/sparql?" as "/sparql"; RFC 9309's parsers take it as it is)
    for path in ("/", "/id/practice/clear-hold-build.html", "/id/practice/", "/def/",
                 "/sitemaps/practices-1.xml", "/dumps/", "/dataset"):
        assert robots.can_fetch("SomeBot", LOCAL.rstrip("/") + path), path
    query = urllib.parse.urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"})
    for path in (f"/sparql?{query}", "/store?default", "/store/x", "/update"):
        assert not robots.can_fetch("SomeBot", LOCAL.rstrip("/") + path), path


# -- the landing page -------------------------------------------------------------------------


class Page(html.parser.HTMLParser):
    """The parts of a page the tests look at: links in ``<main>``, ``<link>`` elements,
    headings in order, JSON-LD blocks."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.main_links: list[tuple[str, str]] = []  # (href, text)
        self.head_links: list[dict] = []
        self.headings: list[int] = []
        self.jsonld: list[str] = []
        self._in_main = self._in_script = False
        self._link: list | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "main":
            self._in_main = True
        elif tag == "link":
            self.head_links.append(attributes)
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "script" and attributes.get("type") == "application/ld+json":
            self._in_script = True
            self.jsonld.append("")
        elif tag == "a" and self._in_main:
            self._link = [attributes.get("href"), ""]

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        elif tag == "script":
            self._in_script = False
        elif tag == "a" and self._link is not None:
            self.main_links.append((self._link[0], self._link[1].strip()))
            self._link = None

    def handle_data(self, data):
        if self._in_script:
            self.jsonld[-1] += data
        if self._link is not None:
            self._link[1] += data


@pytest.fixture(scope="module")
def landing(client) -> tuple[str, Page]:
    response = client.get("/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    return text, Page(text)


def test_the_landing_page_leads_to_everything_published(landing, client):
    _, page = landing
    paths = {urllib.parse.urlsplit(href).path for href, _ in page.main_links}
    for path in ("/id/practice/", "/id/force/", "/concept/", "/def/", "/dataset",
                 "/.well-known/void", "/dumps/", "/graph/", "/sparql", "/sitemap.xml"):
        assert path in paths, path
    assert all(text for _, text in page.main_links)  # every link says where it goes
    for href, _ in page.main_links:
        if href.startswith(LOCAL) or href.startswith("/"):
            path = urllib.parse.urlsplit(href).path
            if path in ("/dataset", "/.well-known/void"):  # another blueprint's, maybe not yet
                continue
            assert client.get(path).status_code == 200, href


def test_the_landing_page_shows_how_to_get_the_data(landing, client):
    text, page = landing
    assert "Every IRI dereferences" in text
    command = re.search(r"curl -L -H 'Accept: text/turtle' \\\s+(\S+)</code>", text)
    assert command, "the content negotiation example"
    iri = command.group(1)
    assert iri.startswith(f"{LOCAL}id/practice/")
    thing = client.get(urllib.parse.urlsplit(iri).path, headers={"Accept": "text/turtle"})
    assert thing.status_code == 303 and thing.headers["Location"].endswith(".ttl")
    as_json = next(href for href, _ in page.main_links if href == iri + ".json")
    response = client.get(urllib.parse.urlsplit(as_json).path)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert f"curl {iri}.json</code>" in text


def test_the_landing_page_describes_the_dataset_for_machines(landing):
    text, page = landing
    [block] = page.jsonld
    assert "<" not in block and ">" not in block
    data = json.loads(block)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Dataset"
    assert data["url"] == BASE and data["license"].startswith("http")
    assert data["distribution"][0]["contentUrl"].startswith(f"{BASE}dumps/")
    void = [link for link in page.head_links if link.get("rel") == "alternate"
            and link.get("type") == "text/turtle"]
    assert [link["href"] for link in void] == [f"{LOCAL}.well-known/void"]
    assert any(link.get("href") == f"{LOCAL}sitemap.xml" for link in page.head_links)
    assert " style=" not in text and "<style" not in text
    assert re.findall(r"<script(?![^>]*application/ld\+json)", text) == []


def test_the_landing_page_headings_go_down_one_level_at_a_time(landing):
    _, page = landing
    assert page.headings[0] == 1 and page.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(page.headings))
