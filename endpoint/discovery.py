"""Discovery: ``/sitemap.xml`` (a sitemap index and its pages) and ``/robots.txt``.

Search engines and crawlers find the resources through a sitemap index (sitemaps.org
protocol 0.9) that lists pages ``/sitemaps/{kind}-{n}.xml`` (``n`` from 1), each with at most
:data:`PAGE_SIZE` URLs (the ``SITEMAP_PAGE_SIZE`` setting overrides it; tests make it small).
The kinds follow the IRI space: practices, forces, organisations, the other ``id/`` records
(evaluations, reports, assessments, recognitions …), concepts and schemes, named graphs,
ontology terms, and the site's own pages (the landing page and the listings).

Each URL is the HTML document about a resource (``…/id/practice/x.html``), which answers
200 at once, rather than its IRI, which answers 303. A sitemap may only list URLs on the
host it was fetched from, and ``/sitemap.xml`` lives at the root of the deployment's host
(w3id.org has no rule for it: docs/publishing.md), so the URLs are on the host the request
came in on: the public base when the server is reached under it, this server otherwise
(:func:`.site_links.site_link`).

A resource of a kind is an IRI under the kind's path with one of the kind's classes
(``pb:Practice`` for ``id/practice/`` …; for the other records under ``id/``, any class but
those), and only the kind whose path is the longest to hold an IRI lists it, so a resource
is listed once. The store is never sorted: a page is a ``SELECT DISTINCT … LIMIT … OFFSET
…`` with no ``ORDER BY``, which Oxigraph answers in index order, the same for every page of
one committed state; the counts behind the index are ``COUNT(DISTINCT …)`` queries, kept
until the next committed write (for a minute on a shared remote store). Both run where the
descriptions are read: in process on the committed snapshot, or on the remote store. They
are SPARQL rather than Python loops over ``quads_for_pattern`` because each quad Python
sees is decoded, term by term, from the snapshot: on the 100,000-practice benchmark store
(``bench/endpoint_data.py``) such a loop was about seven times as slow as the same scan in
a query. A page scans the index up to its end (``OFFSET``), but only the rows it lists are
decoded, so a deep page costs little more than the first; revalidating one
(``If-None-Match``) costs nothing. The named graphs, the ontology's terms and the site's
own pages are short lists, worked out in Python with the counts.

``/robots.txt`` lets crawlers read every page but no query URL (``/sparql?``), the Graph
Store Protocol (``/store``), the update endpoint, nor the operational probes, and names the
sitemap.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import quote
from xml.sax.saxutils import escape

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, request
from werkzeug.exceptions import HTTPException

from practicebank.namespaces import ORG, PB

from .descriptions import HIDDEN_GRAPH_PREFIX, IndexSource, Source, SparqlSource
from .linked_data import finish, source, split_extension, valid_path
from .resource_pages import LISTED_CLASSES
from .runtime import get_runtime
from .site_links import local_root, public_base, site_link

bp = Blueprint("discovery", __name__)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
#: URLs per sitemap page: the protocol's maximum (50,000 URLs and 50 MB; our URLs are
#: about 100 characters, so a full page is about 5 MB).
PAGE_SIZE = 50_000
#: The protocol's limit on a URL's length; a longer one is left out.
MAX_URL_LENGTH = 2047
#: Rows asked of a remote store at a time: Virtuoso's default ``ResultSetMaxRows`` cuts an
#: answer at 10,000 rows without saying so.
REMOTE_CHUNK = 10_000
#: Seconds the counts of a shared (remote) store are kept: others write it without telling
#: this server, and a sitemap need not be fresher than this.
SHARED_TTL = 60.0
#: Site pages listed in the sitemap, when this server routes them (``/dataset`` and the
#: others are added by their own blueprints).
SITE_PAGES = ("", *LISTED_CLASSES, "concept/", "def/", "dataset", "dumps/")
XML_TYPE = "application/xml"


@dataclass(frozen=True)
class Kind:
    """Resources listed in one series of sitemap pages: the IRIs under ``prefix`` (a path
    under the public base) with one of ``classes`` as ``rdf:type``; with no classes, any
    type but the other kinds' classes. ``exclusive`` says the model puts every instance
    of the classes under the prefix, so the query need not test each IRI's path (see
    :func:`kind_pattern`)."""

    name: str
    prefix: str
    classes: tuple[str, ...] = ()
    exclusive: bool = False


SKOS = "http://www.w3.org/2004/02/skos/core#"
TYPED_KINDS = (
    Kind("practices", "id/practice/", (str(PB.Practice),), exclusive=True),
    Kind("forces", "id/force/", (str(PB.PoliceForce),), exclusive=True),
    # forces are organisations too, so the organisations' path is tested
    Kind("organisations", "id/organisation/", (str(PB.Organisation), str(ORG.Organization))),
    Kind("concepts", "concept/", (SKOS + "Concept", SKOS + "ConceptScheme"), exclusive=True),
    Kind("records", "id/"),
)
KIND_ORDER = ("pages", "practices", "forces", "organisations", "records", "concepts",
              "graphs", "terms")
BY_NAME = {k.name: k for k in TYPED_KINDS}
#: The paths inside each kind's that other kinds list (``id/practice/`` inside ``id/``).
INNER = {k.name: tuple(o.prefix for o in TYPED_KINDS
                       if o is not k and o.prefix.startswith(k.prefix)) for k in TYPED_KINDS}


def lists(kind: Kind, path: str) -> bool:
    """Whether ``kind`` lists the resource at ``path`` (under the base): the kind whose
    path is the longest that holds it does, so each resource is listed once."""
    return path.startswith(kind.prefix) and not path.startswith(INNER[kind.name])


def page_size() -> int:
    """URLs per sitemap page: :data:`PAGE_SIZE`, or the ``SITEMAP_PAGE_SIZE`` setting."""
    return int(current_app.config.get("SITEMAP_PAGE_SIZE") or PAGE_SIZE)


# -- reading the store -----------------------------------------------------------------------


def sparql_string(text: str) -> str:
    """``text`` as a SPARQL string literal (JSON's escapes are SPARQL's)."""
    return json.dumps(text)


def kind_pattern(kind: Kind, src: Source) -> str:
    """A group graph pattern binding ``?s`` to the kind's resources, and maybe a few more:
    the caller keeps only the IRIs under the kind's own path (and not under a longer
    kind's).

    An exclusive kind is found by its classes alone: testing each term's text in the
    query (``STRSTARTS``, even ``isIRI``) makes Oxigraph decode every one, and made a count
    of 100,000 practices five to ten times as slow. The others are tested for their path,
    since many instances of their classes are elsewhere (forces are organisations; the
    records' "any class" takes in ontology terms, external pages and places, source
    files): without the test, their pages would be part empty.

    On the embedded store the query sees the merge of all graphs (the merge partition's
    hidden graphs only repeat triples, and ``DISTINCT`` drops repeats); on a remote store,
    only our graphs (not the engine's own, nor our staging graphs)."""
    if isinstance(src, SparqlSource):
        prefixes = [HIDDEN_GRAPH_PREFIX, *src.store.system_graphs]
        ours = " && ".join(f"!STRSTARTS(STR(?g), {sparql_string(p)})" for p in prefixes)
        triple = "GRAPH ?g {{ ?s a {} }} FILTER (" + ours + ")"
    else:
        triple = "?s a {}"
    if kind.classes:
        pattern = " UNION ".join("{ " + triple.format(f"<{c}>") + " }" for c in kind.classes)
    else:
        others = ", ".join(f"<{c}>" for k in TYPED_KINDS for c in k.classes)
        pattern = f"{triple.format('?type')} FILTER (?type NOT IN ({others}))"
    if kind.exclusive:
        return f"{{ {pattern} }}"
    path = sparql_string(public_base() + kind.prefix)
    return f"{{ {{ {pattern} }} FILTER (STRSTARTS(STR(?s), {path})) }}"


def store_of(src: Source):
    """The store a source reads (the snapshot, the in-memory store or the remote), which
    answers SPARQL and lists its named graphs."""
    if isinstance(src, (IndexSource, SparqlSource)):
        return src.store
    raise TypeError(f"cannot enumerate the resources of a {type(src).__name__}")


def query(src: Source, sparql: str):
    """Run ``sparql`` where the source reads: the snapshot in process (its default graph
    the union of its graphs), or the remote (which makes it so itself)."""
    if isinstance(src, SparqlSource):
        return src.store.query(sparql)
    return store_of(src).query(sparql, use_default_graph_as_union=True)


def count_typed(src: Source, kind: Kind) -> int:
    """How many resources :func:`kind_pattern` finds (an upper bound of the kind's own)."""
    rows = query(src, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {kind_pattern(kind, src)}")
    return int(next(iter(rows))["n"].value)


def page_of_typed(src: Source, kind: Kind, offset: int, limit: int) -> Iterator[str]:
    """The IRIs of the kind's classes from ``offset``, at most ``limit``: in the store's
    index order (no ``ORDER BY``), the same for every page of one committed state."""
    chunk = REMOTE_CHUNK if isinstance(src, SparqlSource) else limit
    done = 0
    while done < limit:
        size = min(chunk, limit - done)
        rows = query(src, f"SELECT DISTINCT ?s WHERE {kind_pattern(kind, src)} "
                          f"LIMIT {size} OFFSET {offset + done}")
        got = 0
        for row in rows:
            got += 1
            if isinstance(row["s"], ox.NamedNode):
                yield row["s"].value
        done += got
        if got < size:
            return


def graph_paths(src: Source) -> list[str]:
    """Named graphs under ``graph/`` that dereference (something is said about them)."""
    base = public_base()
    visible = [g for g in store_of(src).named_graphs()
               if isinstance(g, ox.NamedNode) and g.value.startswith(base + "graph/")
               and not g.value.startswith(HIDDEN_GRAPH_PREFIX)]
    return [g.value[len(base):] for g in visible
            if src.quads(g, None, None, 1) or src.quads(None, None, g, 1)]


def term_paths(src: Source) -> list[str]:
    """The ontology's terms (``def/…``)."""
    from . import ontology_docs  # parses the ontology: on first use

    base = public_base()
    return [iri[len(base):] for iri in ontology_docs.term_iris()
            if iri.startswith(base + "def/")]


def page_paths(src: Source) -> list[str]:
    """The site's own pages that this server routes (the landing page, the listings …)."""
    adapter = current_app.url_map.bind("localhost")
    found = []
    for path in SITE_PAGES:
        try:
            adapter.match("/" + path, method="GET")
        except HTTPException:
            continue
        found.append(path)
    return found


LISTED: dict[str, Callable[[Source], list[str]]] = {
    "graphs": graph_paths, "terms": term_paths, "pages": page_paths}


# -- counts, kept per committed state --------------------------------------------------------


class Counts:
    """The number of resources of each kind, for one committed state of the store, and
    the short lists (graphs, terms, pages) themselves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._counts: dict[str, int] = {}
        self._lists: dict[str, list[str]] = {}

    def get(self, key: object, src: Source) -> tuple[dict[str, int], dict[str, list[str]]]:
        with self._lock:
            if key != self._key:
                lists = {name: build(src) for name, build in LISTED.items()}
                counts = {kind.name: count_typed(src, kind) for kind in TYPED_KINDS}
                counts.update({name: len(paths) for name, paths in lists.items()})
                self._key, self._counts, self._lists = key, counts, lists
            return self._counts, self._lists


def counts_key() -> tuple:
    """What the counts are valid for: this runtime's committed state (and, for a shared
    store, the current :data:`SHARED_TTL` seconds), and the public base they were
    worked out under."""
    runtime = get_runtime()
    if runtime.shared:
        version: object = (runtime.freshness.writes, int(time.monotonic() // SHARED_TTL))
    else:
        version = runtime.freshness.tag
    return id(runtime), version, public_base()


def counts() -> tuple[dict[str, int], dict[str, list[str]]]:
    """The counts (and short lists) of the store as the current request sees it."""
    cache = current_app.extensions.setdefault("practicebank.discovery", Counts())
    return cache.get(counts_key(), source())


# -- the documents ---------------------------------------------------------------------------


#: Characters a path may hold as they are in a URL (RFC 3986's unreserved and reserved, and
#: ``%``); any other is percent-encoded (as UTF-8), after the check that it is in an IRI.
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~:/@!$&'()*+,;=%]*")


def document_url(root: str, path: str) -> str | None:
    """The URL to list for the resource at ``path`` (under the base): its HTML document
    under ``root`` (this host); None for a path that names no document here. Called for
    every URL of a page, so the common case (an ASCII slug) is one regular expression."""
    if path.endswith("/") or split_extension(path)[1] is not None:
        return None  # a listing, or ``x.ttl``, which would name x's Turtle document
    if PLAIN_PATH.fullmatch(path) is None:
        if not valid_path(path):
            return None
        path = quote(path, safe=URL_SAFE)
    url = f"{root}{path}.html"
    return url if len(url) <= MAX_URL_LENGTH else None


def page_urls(name: str, offset: int, size: int, short: dict[str, list[str]]
              ) -> Iterator[str]:
    """The URLs on one sitemap page of kind ``name``."""
    root = local_root()
    if name == "pages":
        yield from (root + path for path in short[name][offset:offset + size])
        return
    if name in LISTED:
        paths: Iterable[str] = short[name][offset:offset + size]
    else:
        kind, base = BY_NAME[name], public_base()
        cut = len(base)
        paths = (iri[cut:] for iri in page_of_typed(source(), kind, offset, size)
                 if iri.startswith(base) and lists(kind, iri[cut:]))
    for path in paths:
        url = document_url(root, path)
        if url is not None:
            yield url


def lastmod() -> str | None:
    """The store's last commit as a W3C datetime; None for a shared store, whose last
    change this server does not know."""
    runtime = get_runtime()
    if runtime.shared:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(runtime.freshness.last_modified))


MARKUP = re.compile(r"[&<>'\"]")


def entity(text: str) -> str:
    """``text`` entity-escaped as the protocol asks (all five XML entities)."""
    if MARKUP.search(text) is None:
        return text
    return escape(text, {"'": "&apos;", '"': "&quot;"})


def xml_response(parts: list[str]) -> Response:
    response = Response("".join(parts), content_type=f"{XML_TYPE}; charset=utf-8")
    return finish(response, request.path)


def not_modified() -> Response | None:
    """304 when the client holds this committed state's answer (its ETag), found before
    the work of a page: a crawler's revalidation costs nothing. None otherwise."""
    probe = finish(Response(content_type=f"{XML_TYPE}; charset=utf-8"), request.path)
    return probe if probe.status_code == 304 else None


@bp.get("/sitemap.xml")
def sitemap_index() -> Response:
    """The sitemap index: every page of every kind that has resources."""
    cached = not_modified()
    if cached is not None:
        return cached
    numbers, _ = counts()
    size = page_size()
    modified = lastmod()
    stamp = f"<lastmod>{modified}</lastmod>" if modified else ""
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<sitemapindex xmlns="{SITEMAP_NS}">\n']
    for name in KIND_ORDER:
        pages = -(-numbers[name] // size)
        for n in range(1, pages + 1):
            loc = entity(site_link(f"sitemaps/{name}-{n}.xml"))
            parts.append(f"<sitemap><loc>{loc}</loc>{stamp}</sitemap>\n")
    parts.append("</sitemapindex>\n")
    return xml_response(parts)


@bp.get("/sitemaps/<name>-<int:number>.xml")
def sitemap_page(name: str, number: int) -> Response:
    """Page ``number`` (from 1) of the kind ``name``: at most :func:`page_size` URLs."""
    if name not in KIND_ORDER:
        abort(404)
    cached = not_modified()
    if cached is not None:
        return cached
    numbers, short = counts()
    size = page_size()
    offset = (number - 1) * size
    if number < 1 or offset >= numbers[name]:
        abort(404)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n', f'<urlset xmlns="{SITEMAP_NS}">\n']
    parts += [f"<url><loc>{entity(url)}</loc></url>\n"
              for url in page_urls(name, offset, size, short)]
    parts.append("</urlset>\n")
    return xml_response(parts)


#: Paths crawlers are asked to keep out of: queries (each one runs on the store), the
#: Graph Store Protocol and updates (writes and whole-graph reads), and the probes.
DISALLOWED = ("/sparql?", "/store", "/update", "/metrics", "/health")


@bp.get("/robots.txt")
def robots() -> Response:
    """Crawl every page, run no query, and here is the sitemap (RFC 9309). The longest
    matching rule wins (RFC 9309), but some parsers take the first (Python's): the
    exceptions come first for them."""
    lines = ["User-agent: *", *(f"Disallow: {p}" for p in DISALLOWED), "Allow: /", "",
             f"Sitemap: {site_link('sitemap.xml')}", ""]
    response = Response("\n".join(lines), content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
