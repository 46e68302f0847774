"""The format table: every serialisation practicebank reads or writes, in one place.

Each row names a format once, with its media type, the names users type (``--format csv``,
``?format=csv``), the file extensions, and the pyoxigraph format object. Content negotiation,
the CLI and the loaders all look formats up here instead of branching on strings.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    rdflib_name: str | None = None  # rdflib's parser/serializer plugin for this format
    charset: bool = True

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8" if self.charset else self.media_type


FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "results", ("srj",), (".srj",),
           results_format=ox.QueryResultsFormat.JSON),
    Format("xml", "application/sparql-results+xml", "results", ("srx",), (".srx",),
           results_format=ox.QueryResultsFormat.XML),
    Format("csv", "text/csv", "results", (), (".csv",),
           results_format=ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", "results", (), (".tsv",),
           results_format=ox.QueryResultsFormat.TSV),
    Format("ttl", "text/turtle", "rdf", ("turtle",), (".ttl",),
           rdf_format=ox.RdfFormat.TURTLE, rdflib_name="turtle"),
    Format("nt", "application/n-triples", "rdf", ("ntriples", "n-triples"), (".nt",),
           rdf_format=ox.RdfFormat.N_TRIPLES, rdflib_name="nt"),
    Format("jsonld", "application/ld+json", "rdf", ("json-ld",), (".jsonld",),
           rdf_format=ox.RdfFormat.JSON_LD, rdflib_name="json-ld"),
    Format("rdfxml", "application/rdf+xml", "rdf", ("rdf", "owl"), (".rdf", ".owl"),
           rdf_format=ox.RdfFormat.RDF_XML, rdflib_name="xml"),
    Format("nq", "application/n-quads", "rdf", ("nquads", "n-quads"), (".nq",),
           rdf_format=ox.RdfFormat.N_QUADS, rdflib_name="nquads"),
    Format("trig", "application/trig", "rdf", (), (".trig",),
           rdf_format=ox.RdfFormat.TRIG, rdflib_name="trig"),
    Format("html", "text/html", "html", (), (".html",)),
)

_BY_NAME = {alias: f for f in FORMATS for alias in (f.name, *f.aliases)}
_BY_MEDIA_TYPE = {f.media_type: f for f in FORMATS}
# Media types other tools send for the same formats.
_BY_MEDIA_TYPE.update({
    "application/json": _BY_NAME["json"],
    "application/x-turtle": _BY_NAME["ttl"],
    "text/plain": _BY_NAME["nt"],
    "application/xml": _BY_NAME["xml"],
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
