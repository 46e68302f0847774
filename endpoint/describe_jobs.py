"""Descriptions made in the query workers: linked-data documents on more than one core.

A description's document (Turtle, N-Triples, RDF/XML, JSON-LD, compact JSON) is made of
index reads and serialisation, about a millisecond of Python a practice. In the server
process every such millisecond holds the one GIL that every request needs, so one process
made at most a few hundred a second however idle the second core was (``bench/
bench_pages.py``), while ``oxigraph serve`` answers a DESCRIBE on all cores. The query
workers are separate processes that already hold the committed snapshot, so the server
sends them a :class:`DescribeJob` as it sends a query (:mod:`.jobs`: the same pipes,
deadline and crash handling), and only adds the headers.

The worker answers with the document's bytes, or a 404 error when the store says nothing
about the IRI (the server then answers its usual not-found document). HTML pages come the
same way with what their templates need (:mod:`.page_requests`), and are made by the page
maker the worker was given (:func:`set_page_maker`; :mod:`.page_jobs`).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox

from practicebank.formats import Format, by_name

from .compact_json import compact
from .descriptions import Description, IndexSource, LinkedCache, describe
from .page_requests import MADE_IN_SERVER

if TYPE_CHECKING:
    from .page_requests import PageRequest

#: Turtle prefixes in descriptions (those their terms use; not every prefix we know, which
#: would make each small document mostly prefixes).
PREFIXES = {
    "pb": "https://w3id.org/practicebank/def/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "schema": "https://schema.org/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "org": "http://www.w3.org/ns/org#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
}
#: The name a job gives the compact JSON (not in the format table: it is no RDF syntax).
COMPACT = "compact"
COMPACT_TYPE = "application/json"


@dataclass(frozen=True)
class DescribeJob:
    """Which document to make: the IRI, the format (an RDF format's name in the format
    table, :data:`COMPACT`, or ``html`` with ``page``), the page of incoming links."""

    iri: str
    format: str
    incoming_page: int = 0
    last_page: int | None = None
    context_url: str = ""  # the compact JSON's @context (this server's URL for it)
    page: PageRequest | None = None  # an HTML page's request (page_requests)


def not_found(iri: str) -> tuple:
    """A job's answer when the store says nothing about ``iri`` (the server then answers
    its usual not-found document)."""
    return ("error", 404, "not_found", f"Nothing is known about {iri} here.")


def compact_body(description: Description, context_url: str) -> bytes:
    """The compact JSON of ``description`` as bytes."""
    return json.dumps(compact(description, context_url), ensure_ascii=False,
                      indent=1).encode("utf-8")


def serialize(triples: list[ox.Triple], fmt: Format) -> bytes:
    """Triples as bytes in ``fmt``, with our prefixes where the format has them."""
    out = io.BytesIO()
    prefixes = None if fmt.name == "nt" else PREFIXES
    ox.serialize(triples, out, fmt.rdf_format, prefixes=prefixes)
    return out.getvalue()


class _Caches:
    """A worker's labels of linked resources, one cache per snapshot (so per commit), shared
    by its query threads as the server's request threads share theirs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # The store itself, not its id(): a closed snapshot's id can be reused by the next
        # one, whose labels would then be read from the old commit's cache.
        self._by_store: tuple[object, LinkedCache] | None = None

    def for_store(self, store: object) -> LinkedCache:
        with self._lock:
            if self._by_store is None or self._by_store[0] is not store:
                self._by_store = (store, LinkedCache())
            return self._by_store[1]


CACHES = _Caches()

#: What makes HTML pages in this process (``page_jobs.run_page``), when it was given one.
_page_maker: Callable | None = None


def set_page_maker(maker: Callable | None) -> None:
    """Make pages in this process with ``maker`` (a worker does so as it starts, with the
    maker the pool was given: this layer cannot import the page maker, which needs the
    whole app)."""
    global _page_maker
    _page_maker = maker


def run_describe(store: ox.Store, job: DescribeJob, channel) -> None:
    """Make the document ``job`` asks for from ``store`` and send it to ``channel`` (one
    head message), or a 404 error when nothing is known about the IRI."""
    source = IndexSource(store, CACHES.for_store(store))
    if job.page is not None:
        if _page_maker is None:  # the server makes the page
            channel.send(("error", 409, MADE_IN_SERVER, "no page maker in this process"))
        else:
            _page_maker(source, job.iri, job.page, job.incoming_page, channel)
        return
    description = describe(source, job.iri, incoming_page=job.incoming_page,
                           last_page=job.last_page)
    if not description.exists:
        channel.send(not_found(job.iri))
        return
    if job.format == COMPACT:
        channel.send(("head", COMPACT_TYPE, compact_body(description, job.context_url), True))
        return
    fmt = by_name(job.format)
    channel.send(("head", fmt.content_type, serialize(list(description.graph()), fmt), True))
