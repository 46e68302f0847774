"""Every IRI under the public base dereferences here, at the same path: linked data.

The IRIs (``id/…``, ``def/…``, ``concept/…``, ``graph/…``) name things: practices, forces,
concepts, terms, graphs. Following the W3C note "Cool URIs for the Semantic Web" for slash
IRIs, a GET of the thing's IRI answers **303 See Other** to a document about it, chosen by
content negotiation (``Accept`` with q-values; ``Vary: Accept``); each document has its own
URL, the IRI plus an extension (``.html``, ``.ttl``, ``.jsonld``, ``.nt``, ``.rdf``, ``.json``;
``.trig`` and ``.nq`` for a graph's contents), which can be linked, bookmarked and cached. A
document names the others in ``Link: <…>; rel="alternate"`` headers and the thing it is about
in ``Link: <…>; rel="describes"``; it carries ``Content-Location``, an ``ETag`` and
``Last-Modified`` (a conditional GET gets 304), and reads are open to every origin (CORS).

An IRI the store knows nothing about gets 404 in the format asked for (an HTML page, a
Turtle comment, a JSON error), never a 500. What a description holds is
:mod:`.descriptions`'; how it is shown to people, :mod:`.resource_pages`.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from flask import Blueprint, Response, abort, current_app, redirect, render_template, request

from practicebank.formats import Format, by_name

from . import resource_pages
from .compact_json import CONTEXT_PATH, context_text
from .describe_jobs import COMPACT, PREFIXES, DescribeJob, compact_body, serialize
from .description_source import ontology_docs, source
from .descriptions import describe
from .executors import JobFailed
from .jobs import QueryJob
from .negotiation import choose_format
from .page_requests import MADE_IN_SERVER, page_in_worker, page_request
from .params import whole_number
from .runtime import get_runtime
from .site_links import local_root, public_base
from .sparql import job_error
from .workers import Overloaded, WorkerPool

bp = Blueprint("linked_data", __name__)

#: The compact JSON of a resource (:mod:`.compact_json`): plain JSON for web developers.
COMPACT_JSON = Format("json", "application/json", "compact", (), (".json",))
#: The areas of the IRI space that are served here.
AREAS = ("id", "def", "concept", "graph")


@dataclass(frozen=True)
class Document:
    """One kind of document about a resource: its extension and format."""

    extension: str
    format: Format
    contents: bool = False  # a graph's contents (TriG, N-Quads), not its description


DOCUMENTS: tuple[Document, ...] = (
    Document("html", by_name("html")),
    Document("ttl", by_name("ttl")),
    Document("jsonld", by_name("jsonld")),
    Document("nt", by_name("nt")),
    Document("rdf", by_name("rdfxml")),
    Document("json", COMPACT_JSON),
    Document("trig", by_name("trig"), contents=True),
    Document("nq", by_name("nq"), contents=True),
)
BY_EXTENSION = {d.extension: d for d in DOCUMENTS}
#: Deepest page of incoming links offered (each page re-reads the ones before it).
MAX_INCOMING_PAGE = 200


def documents_for(path: str) -> tuple[Document, ...]:
    """The documents a resource at ``path`` has: a graph's contents only for ``graph/``; the
    ontology itself (``def``, ``def/{version}``) as documentation and RDF, not compact JSON."""
    if path.startswith("graph/"):
        return DOCUMENTS
    if versioned_ontology(path) is not None:
        return tuple(d for d in DOCUMENTS if not d.contents and d.format.kind != "compact")
    return tuple(d for d in DOCUMENTS if not d.contents)


def split_extension(path: str) -> tuple[str, Document | None]:
    """``id/practice/x.ttl`` -> (``id/practice/x``, the Turtle document)."""
    stem, dot, extension = path.rpartition(".")
    if dot and "/" not in extension and extension in BY_EXTENSION:
        return stem, BY_EXTENSION[extension]
    return path, None


@bp.get(f"/<any({', '.join(AREAS)}):area>/<path:rest>")
def thing(area: str, rest: str) -> Response:
    """Any IRI (or document URL) under one of the served areas."""
    return dereference(f"{area}/{rest}")


@bp.get("/graph/")
def graphs() -> Response:
    """The named graphs, listed."""
    return dereference("graph/")


@bp.after_request
def preflight(response: Response) -> Response:
    """CORS preflights of the read-only documents: any origin may GET them with the headers
    a linked-data client sends."""
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Accept, Accept-Language, If-None-Match, If-Modified-Since, Range")
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.get("/def")
@bp.get("/def.<extension>")
def ontology(extension: str | None = None) -> Response:
    return dereference("def" + (f".{extension}" if extension else ""))


@bp.get("/def/")
def ontology_page() -> Response:
    """The ontology's documentation (the namespace document)."""
    return html_document("def/", ontology_docs().render_ontology())


@bp.get("/concept/")
def vocabularies_page() -> Response:
    """The index of the concept schemes."""
    return html_document("concept/", ontology_docs().render_vocabularies())


@bp.get(CONTEXT_PATH)
def json_context() -> Response:
    """The JSON-LD context of the compact JSON form, at a stable URL."""
    response = Response(context_text(), content_type="application/ld+json")
    return finish(response, request.path)


def dereference(path: str) -> Response:
    """Answer a GET of ``path``: 303 for a thing, the document for a document URL."""
    if not valid_path(path):
        abort(404)
    stem, document = split_extension(path)
    if document is None and stem.endswith("/") and versioned_ontology(stem[:-1]) \
            not in (None, "current"):  # def/{version}/: that version's documentation
        return ontology_document(stem[:-1], BY_EXTENSION["html"])
    if stem.endswith("/") and document is None:
        return finish(Response(resource_pages.listing(stem),
                               content_type="text/html; charset=utf-8"), stem)
    version_doc = versioned_ontology(stem)
    if version_doc is not None and document is None:
        return redirect_to(stem, choose_document(stem))
    if document is None:
        return see_other(stem)
    if document not in documents_for(stem):
        abort(404)
    return answer(stem, public_base() + stem, document)


def see_other(stem: str) -> Response:
    """A thing's IRI: 303 to the document ``Accept`` prefers, or 404 when nothing is known
    about it (shared with the fast path, :mod:`.fast_pages`)."""
    iri = public_base() + stem
    document = choose_document(stem)
    if not exists(iri):
        return not_found(stem, iri, document)
    return redirect_to(stem, document)


#: Characters that cannot appear in an IRI (RFC 3987): such a path names nothing here.
NOT_IN_IRI = frozenset(' <>"{}|^`\\') | frozenset(chr(c) for c in range(0x21))


def valid_path(path: str) -> bool:
    """Whether ``path`` can be part of an IRI (and so of one of ours): no character an IRI
    cannot hold, and an IRI once under the base (``x%``, or bytes that are not UTF-8, are
    not: they were 500s)."""
    if len(path) > 2000 or any(ch in NOT_IN_IRI for ch in path):
        return False
    try:
        ox.NamedNode(public_base() + path)
    except ValueError:
        return False
    return True


def versioned_ontology(stem: str) -> str | None:
    """The version named by ``def`` or ``def/{version}`` (None for anything else)."""
    if stem == "def":
        return "current"
    if stem.startswith("def/") and stem.count("/") == 1 and stem[4:5].isdigit():
        return stem[4:]
    return None


def choose_document(path: str) -> Document:
    """The document ``Accept`` prefers among the resource's (HTML when it does not say)."""
    documents = documents_for(path)
    fmt = choose_format([d.format for d in documents], accept=request.accept_mimetypes)
    return next(d for d in documents if d.format == fmt)


def redirect_to(stem: str, document: Document) -> Response:
    """303 See Other from a thing to the document negotiated for it."""
    response = redirect(f"{local_root()}{stem}.{document.extension}", code=303)
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Link"] = alternates(stem, None)
    return response


def exists(iri: str) -> bool:
    node = ox.NamedNode(iri)
    src = source()
    if src.quads(node, None, None, 1) or src.quads(None, None, node, 1):
        return True
    if iri.startswith(public_base() + "graph/") and is_graph(node):
        return True
    return iri.startswith(public_base() + "def/") and ontology_docs().is_term(iri)


def is_graph(node: ox.NamedNode) -> bool:
    """Whether the store has a named graph ``node`` (which may say nothing about itself)."""
    try:
        return get_runtime().store.contains_named_graph(node)
    except ValueError:
        return False


def answer(stem: str, iri: str, document: Document) -> Response:
    """The document about ``iri`` in ``document``'s format."""
    if stem == "def" or versioned_ontology(stem):
        return ontology_document(stem, document)
    if document.contents:
        return graph_contents(stem, iri, document)
    if unchanged(document):  # finish() turns the empty answer into a 304
        return finish(Response(b"", content_type=document.format.content_type), stem, document)
    made = make_document(stem, iri, document, incoming_page(request.args.get("incoming")))
    if made is None:
        return not_found(stem, iri, document)
    return finish(Response(made.body, content_type=made.content_type), stem, document)


@dataclass(frozen=True)
class Made:
    """A description document: its bytes and media type."""

    body: bytes
    content_type: str


def incoming_page(value: str | None) -> int:
    """The page of incoming links the ``incoming`` parameter asks for (the first page when
    it is missing, not a whole number, or deeper than :data:`MAX_INCOMING_PAGE`)."""
    number = whole_number(value)
    return number if number is not None and number <= MAX_INCOMING_PAGE else 0


def make_document(stem: str, iri: str, document: Document, page: int = 0) -> Made | None:
    """The description of ``iri`` (the resource at ``stem``) in ``document``'s format, with
    ``page`` of its incoming links, or None when nothing is known about it: the one maker
    of description documents, for the Flask view (:func:`answer`) and the fast path
    (:mod:`.fast_pages`) alike. Not the ontology itself, nor a graph's contents
    (:func:`answer` sends those elsewhere). Only HTML needs a request context (its
    templates); the other formats need the app context and this server's root
    (:func:`.site_links.bind_root`).

    On an on-disk store the data's documents and pages are made in a query worker
    (:func:`made_in_worker`); anything else, or when no worker is free, here
    (:func:`make_here`)."""
    if stem.startswith(WORKER_STEMS) and (document.format.kind != "html"
                                          or page_in_worker(stem)):
        pool = get_runtime().executor
        if isinstance(pool, WorkerPool):
            made = made_in_worker(pool, stem, iri, document, page)
            if made is not NOT_MADE:
                return made
    return make_here(stem, iri, document, page)


def make_here(stem: str, iri: str, document: Document, page: int = 0) -> Made | None:
    """:func:`make_document` in this process, from :func:`.description_source.source`
    (in a query worker making a page, its snapshot)."""
    description = describe(source(), iri, incoming_page=page, last_page=MAX_INCOMING_PAGE)
    if not description.exists and not (stem.startswith("def/")
                                       and ontology_docs().is_term(iri)) \
            and not (stem.startswith("graph/") and is_graph(description.subject)):
        return None
    fmt = document.format
    if fmt.kind == "html":
        html = (ontology_docs().render_term(iri) if stem.startswith("def/") else None) \
            or resource_pages.render(description, stem, alternates_for(stem))
        return Made(html.encode(), fmt.content_type)
    if fmt.kind == "compact":
        return Made(compact_body(description, context_url()), fmt.content_type)
    return Made(serialize(list(description.graph()), fmt), fmt.content_type)


def page_document(stem: str) -> Document:
    """The HTML page among the documents about ``stem``."""
    return next(d for d in documents_for(stem) if d.format.kind == "html")


#: Where descriptions are made in the query workers, when the store has them: the data's
#: resources (the ontology's terms and the graphs are described from the server's own
#: documentation and store).
WORKER_STEMS = ("id/", "concept/")


def made_in_worker(pool: WorkerPool, stem: str, iri: str, document: Document,
                   page: int) -> Made | None | NotMade:
    """:func:`make_document` made by a query worker on the committed snapshot
    (:mod:`.describe_jobs`, :mod:`.page_jobs`: reads and templates that hold the GIL,
    taken off the process every request needs), or :data:`NOT_MADE` when every worker is
    busy (slow queries must not make descriptions wait: the server then makes it itself)
    or the page needs the server. A stuck worker is the usual 504."""
    fmt = document.format
    html = fmt.kind == "html"
    job = QueryJob("", deadline=time.time() + float(current_app.config["QUERY_TIMEOUT"]),
                   describe=DescribeJob(iri, COMPACT if fmt.kind == "compact" else fmt.name,
                                        page, MAX_INCOMING_PAGE, context_url(),
                                        page_request(stem) if html else None))
    try:
        answer = pool.run(job)
    except JobFailed as failed:
        if failed.error.code == 404:
            return None
        if failed.error.kind == MADE_IN_SERVER:
            return NOT_MADE
        raise job_error(failed.error) from None
    except Overloaded:
        return NOT_MADE
    return Made(b"".join(answer.body), fmt.content_type)


class NotMade:
    """What :func:`made_in_worker` gives when no worker was free."""


NOT_MADE = NotMade()


def context_url() -> str:
    """This server's URL of the compact JSON's context."""
    return local_root() + CONTEXT_PATH.lstrip("/")


def ontology_document(stem: str, document: Document) -> Response:
    """The ontology itself: documentation in HTML, the whole ontology graph in RDF."""
    version = versioned_ontology(stem)
    if version != "current" and version not in ontology_docs().ontology_versions():
        return not_found(stem, public_base() + stem, document)
    if document.format.kind == "html":
        body = ontology_docs().render_ontology(None if version == "current" else version)
        return finish(Response(body, content_type=document.format.content_type), stem, document)
    if document.contents or document.format.kind == "compact":
        abort(404)
    triples = ontology_triples(ox.NamedNode(public_base() + "graph/ontology"))
    return finish(Response(serialize(triples, document.format),
                           content_type=document.format.content_type), stem, document)


def ontology_triples(graph: ox.NamedNode) -> list[ox.Triple]:
    """The ontology graph's triples (about a thousand), read from the store."""
    store = get_runtime().store
    return [ox.Triple(q.subject, q.predicate, q.object) for q in store.quads_of(graph)]


def graph_contents(stem: str, iri: str, document: Document) -> Response:
    """A named graph's triples, as TriG or N-Quads (the Graph Store Protocol's GET, at the
    graph's own IRI)."""
    store = get_runtime().store
    graph = ox.NamedNode(iri)
    if not store.contains_named_graph(graph):
        return not_found(stem, iri, document)
    quads = list(store.quads_of(graph))
    out = io.BytesIO()
    ox.serialize(quads, out, document.format.rdf_format, prefixes=PREFIXES)
    return finish(Response(out.getvalue(), content_type=document.format.content_type),
                  stem, document)


def html_document(stem: str, body: str) -> Response:
    """A page that is not a description (the ontology's, the vocabularies' index)."""
    return finish(Response(body, content_type="text/html; charset=utf-8"), stem, None)


def alternates_for(stem: str) -> list[tuple[str, Document]]:
    """(URL on this server, document) of every document about ``stem``."""
    return _alternates_for(local_root(), stem)


@lru_cache(maxsize=4096)
def _alternates_for(root: str, stem: str) -> list[tuple[str, Document]]:
    return [(f"{root}{stem}.{d.extension}", d) for d in documents_for(stem)]


def alternates(stem: str, current: Document | None) -> str:
    """The ``Link`` header: the thing described and every other document about it."""
    return _alternates(public_base(), local_root(), stem, current)


@lru_cache(maxsize=4096)
def _alternates(base: str, root: str, stem: str, current: Document | None) -> str:
    links = [f'<{base}{stem}>; rel="describes"'] if current else []
    links += [f'<{url}>; rel="alternate"; type="{d.format.media_type}"'
              for url, d in _alternates_for(root, stem) if d != current]
    return ", ".join(links)


def unchanged(document: Document) -> bool:
    """Whether the client's copy (by its ETag, which only a 200 gave it) is still current,
    so a 304 can be sent before the description is read."""
    tag = f"{get_runtime().freshness.tag}-{document.extension}"
    return bool(request.if_none_match) and request.if_none_match.contains(tag)


def finish(response: Response, stem: str, document: Document | None = None) -> Response:
    """Headers every document carries (:func:`document_headers`), and the 304 of a
    conditional GET whose copy is current."""
    response.headers.extend(document_headers(stem, document))
    return response.make_conditional(request)


#: The CORS headers of every document (a read open to any origin, its validators visible).
DOCUMENT_CORS = (("Access-Control-Allow-Origin", "*"),
                 ("Access-Control-Expose-Headers", "Link, ETag, Content-Location"))
CACHE_CONTROL = ("Cache-Control", "public, max-age=60")


def document_headers(stem: str, document: Document | None) -> list[tuple[str, str]]:
    """Validators, alternates, CORS and caching of a document about ``stem`` (``None``: a
    page that is not a description), in the order both paths send them."""
    freshness = get_runtime().freshness
    kind = document.extension if document else "page"
    return [*_located(local_root(), public_base(), stem, document), CACHE_CONTROL,
            ("ETag", f'"{freshness.tag}-{kind}"'),
            ("Last-Modified", freshness.http_date)]


@lru_cache(maxsize=4096)
def _located(root: str, base: str, stem: str,
             document: Document | None) -> tuple[tuple[str, str], ...]:
    if document is None:
        return DOCUMENT_CORS
    return (*DOCUMENT_CORS, ("Content-Location", f"{root}{stem}.{document.extension}"),
            ("Link", _alternates(base, root, stem, document)))


def not_found(stem: str, iri: str, document: Document) -> Response:
    """404 in the format asked for."""
    fmt = document.format
    if fmt.kind == "html":
        body = render_template("not_found.html", iri=iri, stem=stem)
    elif fmt.kind == "compact":
        body = json.dumps({"error": "not_found",
                           "message": f"Nothing is known about {iri} here."})
    elif fmt.name in ("ttl", "nt", "nq", "trig"):
        body = f"# Nothing is known about <{iri}> here.\n"
    else:
        body = serialize([], fmt)
    response = Response(body, status=404, content_type=fmt.content_type)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Vary"] = "Accept"
    return response
