"""Query results as an HTML table, for people who open a query URL in a browser.

Written row by row into the same output as the other formats, so a large result leaves the
worker in chunks as they do (and, like every format a cut copy of which still reads as
whole, is gathered before it is sent). http(s) IRIs become links (IRIs under our base resolve
on this server); any other scheme, ``javascript:`` first, is shown as text. Literals show
their language or datatype, and everything is escaped.
"""

from __future__ import annotations

import html
from typing import IO

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: Only IRIs with these schemes become links: a query can return any IRI at all.
LINKABLE = ("http://", "https://")


def linkable(iri: object) -> bool:
    """Whether ``iri`` may be a link's target (``{% if x is linkable %}`` in templates): an
    http(s) IRI, not ``javascript:`` or ``data:`` (whoever holds the write token chooses the
    IRIs a page shows)."""
    return isinstance(iri, str) and iri[:8].lower().startswith(LINKABLE)
#: The page around the table: the site's skip link and navigation, as templates/layout.html
#: has them (written here, not rendered: the query workers write results outside Flask).
#: The table scrolls in a focusable region of its own, so a wide result neither widens the
#: page nor is out of the keyboard's reach (WCAG 2.2 AA).
HEAD = """<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Query results · practicebank</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body class="wide"><a class="skip" href="#content">Skip to content</a>
<header class="site"><nav aria-label="Site"><a href="/" class="brand">practicebank</a>
<ul><li><a href="/id/practice/">Practices</a></li><li><a href="/concept/">Vocabularies</a></li>
<li><a href="/def/">Ontology</a></li><li><a href="/dataset">Dataset</a></li>
<li><a href="/dumps/">Dumps</a></li><li><a href="/sparql">SPARQL</a></li></ul></nav></header>
<main id="content"><h1 id="results-title">Query results</h1>
<div class="results" role="region" aria-labelledby="results-title" tabindex="0">
"""
#: No links after the table (tests/security/test_attack_output.py: none after ``<tbody>``).
TAIL = "</div></main></body></html>\n"


def cell(term: object, link_root: tuple[str, str] | None = None) -> str:
    """One RDF term as escaped HTML; with ``link_root`` (public base, this server's root),
    links to our IRIs go to this server."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        iri = html.escape(term.value)
        if not linkable(term.value):
            return f"<code>{iri}</code>"  # javascript:, data:, file: … are shown, never links
        href = term.value
        if link_root is not None and href.startswith(link_root[0]):
            href = link_root[1] + href[len(link_root[0]):]
        return f'<a href="{html.escape(href)}" rel="nofollow noopener">{iri}</a>'
    if isinstance(term, ox.BlankNode):
        return f"_:{html.escape(term.value)}"
    if isinstance(term, ox.Literal):
        text = html.escape(term.value)
        if term.language:
            language = html.escape(term.language)
            return f'<span lang="{language}">{text}</span> <small lang="en">@{language}</small>'
        if term.datatype.value != XSD_STRING:
            return f"{text} <small>^^{html.escape(term.datatype.value)}</small>"
        return text
    return html.escape(str(term))


def write_html(results: object, out: IO[bytes],
               link_root: tuple[str, str] | None = None) -> None:
    """Write ``results`` (solutions, a boolean or triples) to ``out`` as an HTML page."""
    out.write(HEAD.encode())
    if isinstance(results, ox.QueryBoolean):
        out.write(f'<p class="boolean">{"true" if results else "false"}</p>\n'.encode())
    else:
        if isinstance(results, ox.QuerySolutions):
            names = [v.value for v in results.variables]
            rows = ([solution[name] for name in names] for solution in results)
        else:
            names = ["subject", "predicate", "object"]
            rows = ([t.subject, t.predicate, t.object] for t in results)
        header = "".join(f"<th>{html.escape(n)}</th>" for n in names)
        out.write(f"<table>\n<thead><tr>{header}</tr></thead>\n<tbody>\n".encode())
        for row in rows:
            cells = "".join(f"<td>{cell(term, link_root)}</td>" for term in row)
            out.write(f"<tr>{cells}</tr>\n".encode())
        out.write(b"</tbody>\n</table>\n")
    out.write(TAIL.encode())
