"""The format table: every serialisation practicebank reads or writes, in one place.

Each row names a format once, with its media type, the names users type (``--format csv``,
``?format=csv``), the file extensions, and the pyoxigraph format object. Content negotiation,
the CLI and the loaders all look formats up here instead of branching on strings.

Rows with a ``reader`` are formats practicebank can *load*: ``rdf`` (parsed by Oxigraph as they
are), ``csv``, ``json`` and ``jsonl`` (records converted by the tables in
:mod:`practicebank.loaders.readers`). Any of them may be gzip-compressed (``.ttl.gz``): the
compression table below is applied before the format is looked up.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One serialisation: what it is called, its media type and how pyoxigraph names it."""

    name: str
    media_type: str
    kind: str  # "results" (SELECT/ASK), "rdf" (graphs) or "html"
    aliases: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    results_format: ox.QueryResultsFormat | None = None
    rdf_format: ox.RdfFormat | None = None
    charset: bool = True
    reader: str | None = None  # how `load` reads it: "rdf", "csv", "json", "jsonl"; None: no
    #: A copy cut short does not parse (JSON's closing brackets are checked by every parser;
    #: Oxigraph's XML parsers accept unclosed tags at the end, so XML is not closed): the
    #: endpoint may stream such answers as they are made (see endpoint.workers).
    closed: bool = False

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "results", ("srj",), (".srj",),
           results_format=ox.QueryResultsFormat.JSON, closed=True),
    Format("xml", "application/sparql-results+xml", "results", ("srx",), (".srx",),
           results_format=ox.QueryResultsFormat.XML),
    Format("csv", "text/csv", "results", (), (".csv",),
           results_format=ox.QueryResultsFormat.CSV, reader="csv"),
    Format("tsv", "text/tab-separated-values", "results", (), (".tsv",),
           results_format=ox.QueryResultsFormat.TSV),
    Format("ttl", "text/turtle", "rdf", ("turtle",), (".ttl",),
           rdf_format=ox.RdfFormat.TURTLE, reader="rdf"),
    Format("nt", "application/n-triples", "rdf", ("ntriples", "n-triples"), (".nt",),
           rdf_format=ox.RdfFormat.N_TRIPLES, reader="rdf"),
    Format("jsonld", "application/ld+json", "rdf", ("json-ld",), (".jsonld",),
           rdf_format=ox.RdfFormat.JSON_LD, reader="rdf", closed=True),
    Format("rdfxml", "application/rdf+xml", "rdf", ("rdf", "owl"), (".rdf", ".owl"),
           rdf_format=ox.RdfFormat.RDF_XML, reader="rdf"),
    Format("nq", "application/n-quads", "rdf", ("nquads", "n-quads"), (".nq",),
           rdf_format=ox.RdfFormat.N_QUADS, reader="rdf"),
    Format("trig", "application/trig", "rdf", (), (".trig",),
           rdf_format=ox.RdfFormat.TRIG, reader="rdf"),
    Format("html", "text/html", "html", (), (".html",)),
    # Records: practice-bank JSON (docs/practice.schema.json) and data.police.uk API JSON.
    # "json" as a --format for load means these; as a results format it stays SPARQL JSON.
    Format("jsondata", "application/json", "records", ("json",), (".json",), reader="json"),
    Format("jsonl", "application/jsonl", "records", ("ndjson", "json-lines"),
           (".jsonl", ".ndjson"), reader="jsonl"),
)

_BY_NAME: dict[str, Format] = {}
for _f in FORMATS:  # the first row to claim a name keeps it ("json" is SPARQL results JSON)
    for _alias in (_f.name, *_f.aliases):
        _BY_NAME.setdefault(_alias, _f)
_READABLE = {alias: f for f in reversed(FORMATS) if f.reader
             for alias in (f.name, *f.aliases)}
_BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
# Media types other tools send for the same formats.
_BY_MEDIA_TYPE.update({
    "application/json": _BY_NAME["json"],
    "application/x-turtle": _BY_NAME["ttl"],
    "text/plain": _BY_NAME["nt"],
    "application/xml": _BY_NAME["xml"],
    "text/tsv": _BY_NAME["tsv"],  # what Oxigraph also accepts for TSV results
})


def by_name(name: str) -> Format | None:
    """The format users call ``name`` (``csv``, ``turtle``, ``jsonld`` …), or None."""
    return _BY_NAME.get(name.lower())


def by_extension(filename: str) -> Format | None:
    """The format a file name's extension implies (``.ttl``, ``.csv`` …), or None."""
    lowered = filename.lower()
    return next((f for f in FORMATS for ext in f.extensions if lowered.endswith(ext)), None)


def by_media_type(media_type: str) -> Format | None:
    """The format of a media type, ignoring parameters such as ``charset``."""
    return _BY_MEDIA_TYPE.get(media_type.split(";")[0].strip().lower())


def of_kind(kind: str) -> list[Format]:
    """Formats for one kind of result, the preferred (default) one first."""
    return [f for f in FORMATS if f.kind == kind]


def names(kind: str | None = None) -> list[str]:
    """The short names, for ``--format`` choices and error messages."""
    return [f.name for f in FORMATS if kind is None or f.kind == kind]


def readable(name: str) -> Format | None:
    """The loadable format users call ``name`` (``--format json`` is practice JSON here)."""
    return _READABLE.get(name.lower())


def readable_names() -> list[str]:
    """Names for ``load --format``, in table order."""
    return [f.name if f.name != "jsondata" else "json" for f in FORMATS if f.reader]


@dataclass(frozen=True)
class Compression:
    """A compression wrapped around any format, recognised by extension or magic bytes."""

    name: str
    extension: str
    magic: bytes
    open: Callable[[IO[bytes]], IO[bytes]]


class _Gunzip(gzip.GzipFile):
    """gzip over an open file, closing the file too when done."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__(fileobj=raw)
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


COMPRESSIONS: tuple[Compression, ...] = (
    Compression("gzip", ".gz", b"\x1f\x8b", _Gunzip),
)


def compression_of(filename: str, head: bytes = b"") -> Compression | None:
    """The compression a file name ends with, or whose magic bytes ``head`` starts with."""
    lowered = filename.lower()
    return next((c for c in COMPRESSIONS
                 if lowered.endswith(c.extension) or (head and head.startswith(c.magic))), None)


def strip_compression(filename: str) -> str:
    """``practices.ttl.gz`` -> ``practices.ttl``."""
    for c in COMPRESSIONS:
        if filename.lower().endswith(c.extension):
            return filename[: -len(c.extension)]
    return filename
