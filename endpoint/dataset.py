"""The dataset's own description at ``/.well-known/void`` and ``/dataset``.

VoID crawlers look for ``/.well-known/void`` (VoID §7.2); people and DCAT harvesters follow
the dataset's landing page, ``/dataset``. Both answer the same document, negotiated: the
triples of ``graph/dataset`` (:mod:`practicebank.dataset_description`, made again after
every commit) with what the described graphs say about themselves (a title, a source), which
the description does not repeat; Turtle by default, any RDF format, or a readable page.

A store with no ``graph/dataset`` yet (nothing committed since it was made, or made by an
older version) still gets an answer: the description is computed on the fly, never stored
(a GET does not write), and kept until the next write (a minute, for a shared store) so
that a big store is not measured on every request.
"""

from __future__ import annotations

import io
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from practicebank import dataset_description as dd
from practicebank.formats import of_kind

from .negotiation import HTML, negotiate
from .protocol_request import CORS_READ_HEADERS
from .runtime import Runtime, get_runtime
from .sparql import answer_etag, cache_headers

bp = Blueprint("dataset", __name__)

EXTENSION = "practicebank.dataset"
#: Seconds a description computed on the fly is kept for a store others write too.
SHARED_TTL = 60.0


@bp.get("/.well-known/void")
@bp.get("/dataset")
def dataset() -> Response:
    """The dataset description, in the format ``Accept`` (or ``format=``) asks for."""
    fmt = negotiate(request, [*of_kind("rdf"), HTML])
    runtime = get_runtime()
    etag = answer_etag(runtime.freshness, request.headers.get("Accept", ""),
                       request.args.get("format", ""))
    if _not_modified(etag, runtime.freshness.last_modified):
        response = Response(status=304)
    else:
        triples, computed = read_description(runtime)
        if fmt.kind == "html":
            body = render_template("dataset.html", page=page_of(triples, computed=computed))
        else:
            out = io.BytesIO()
            ox.serialize(sorted(triples, key=_order), out, fmt.rdf_format,
                         prefixes=dd.OUTPUT_PREFIXES)
            body = out.getvalue()
        response = Response(body, status=200, content_type=fmt.content_type)
    response.headers.update(cache_headers(etag, runtime.freshness))
    response.headers.update(CORS_READ_HEADERS)
    response.vary.add("Accept")
    return response


def read_description(runtime: Runtime) -> tuple[list[ox.Triple], bool]:
    """The description as served, and whether it was computed for this answer (the store
    holds none)."""
    with runtime.lock.reading():  # never half-way through a write and its refresh
        stored = dd.description(runtime.store)
        if stored:
            return dd.document(runtime.store, stored), False
        key = (runtime.freshness.writes,
               int(time.monotonic() // SHARED_TTL) if runtime.shared else 0)
        cached = current_app.extensions.get(EXTENSION)
        if cached is None or cached[0] != key:
            live = dd.said_elsewhere(runtime.store, dd.describe(dd.measure(runtime.store)))
            cached = (key, dd.document(runtime.store, live))
            current_app.extensions[EXTENSION] = cached
        return cached[1], True


def _not_modified(etag: str, last_modified: float) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and since.timestamp() >= last_modified


def _order(triple: ox.Triple) -> tuple[str, str, str]:
    """Subjects together, so that Turtle groups each node's statements."""
    return triple.subject.value, triple.predicate.value, str(triple.object)


# -- the page --------------------------------------------------------------------------------


@dataclass
class GraphRow:
    iri: str
    name: str
    title: str
    licence: str
    figures: dict[str, int]
    dump: str


@dataclass
class LinksetRow:
    iri: str
    predicate: str
    start: str
    start_title: str
    end: str
    end_title: str
    triples: int


@dataclass
class Page:
    """What the HTML page shows, read back from the triples."""

    iri: str
    title: str = ""
    description: str = ""
    licence: str = ""
    rights: str = ""
    publisher: str = ""
    modified: str = ""
    issued: str = ""
    endpoint: str = ""
    figures: dict[str, int] = field(default_factory=dict)
    graphs: list[GraphRow] = field(default_factory=list)
    linksets: list[LinksetRow] = field(default_factory=list)
    distributions: list[dict[str, str]] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    vocabularies: list[str] = field(default_factory=list)
    computed: bool = False


FIGURES = ("triples", "entities", "distinctSubjects", "properties", "classes")


class _Index:
    """The triples by subject and predicate."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.by: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for t in triples:
            self.by[t.subject.value][t.predicate.value].append(t.object)

    def all(self, subject: str, predicate: str) -> list[str]:
        return sorted(o.value for o in self.by.get(subject, {}).get(predicate, []))

    def one(self, subject: str, predicate: str) -> str:
        values = self.all(subject, predicate)
        return values[0] if values else ""

    def figures(self, subject: str) -> dict[str, int]:
        found = {}
        for name in FIGURES:
            value = self.one(subject, dd.VOID + name)
            found[name] = int(value) if value else 0
        return found

    def types(self, subject: str) -> set[str]:
        return set(self.all(subject, dd.RDF + "type"))


def page_of(triples: list[ox.Triple], *, computed: bool = False) -> Page:
    """The page's facts from the description's triples."""
    index, whole = _Index(triples), dd.DATASET
    page = Page(
        whole, title=index.one(whole, dd.DCT + "title"),
        description=index.one(whole, dd.DCT + "description"),
        licence=index.one(whole, dd.DCT + "license"), rights=index.one(whole, dd.DCT + "rights"),
        publisher=index.one(whole, dd.DCT + "publisher"),
        modified=index.one(whole, dd.DCT + "modified"),
        issued=index.one(whole, dd.DCT + "issued"),
        endpoint=index.one(whole, dd.VOID + "sparqlEndpoint"), figures=index.figures(whole),
        examples=index.all(whole, dd.VOID + "exampleResource"),
        vocabularies=index.all(whole, dd.VOID + "vocabulary"), computed=computed)
    for iri in index.all(whole, dd.DCAT + "hasPart"):
        name = iri.removeprefix(str(dd.GRAPH))
        titles = index.all(iri, dd.DCT + "title")
        page.graphs.append(GraphRow(iri, name, titles[0] if titles else f"graph/{name}",
                                    index.one(iri, dd.DCT + "license"), index.figures(iri),
                                    index.one(iri, dd.VOID + "dataDump")))
    for iri in index.all(whole, dd.VOID + "subset"):
        if dd.VOID + "Linkset" in index.types(iri):
            start = index.one(iri, dd.VOID + "subjectsTarget")
            end = index.one(iri, dd.VOID + "objectsTarget")
            page.linksets.append(LinksetRow(
                iri, index.one(iri, dd.VOID + "linkPredicate"), start,
                index.one(start, dd.DCT + "title") or start, end,
                index.one(end, dd.DCT + "title") or end,
                int(index.one(iri, dd.VOID + "triples") or 0)))
    for iri in index.all(whole, dd.DCAT + "distribution"):
        page.distributions.append({
            "iri": iri, "title": index.one(iri, dd.DCT + "title"),
            "url": index.one(iri, dd.DCAT + "downloadURL")
            or index.one(iri, dd.DCAT + "accessURL"),
            "media_type": index.one(iri, dd.DCAT + "mediaType").removeprefix(dd.IANA)})
    return page


__all__ = ["bp", "page_of", "read_description"]
