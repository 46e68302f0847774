"""Content negotiation: one function picks a format from the format table for any answer.

Callers give the formats they can produce, default first (``of_kind("results")`` for
SELECT/ASK, ``of_kind("rdf")`` for graphs). An explicit ``format=`` parameter (a name or
alias from the table, or a media type) wins over ``Accept``, so formats can be linked and
bookmarked. Otherwise werkzeug's parsed ``Accept`` decides, with its q-values and wildcards;
parameters such as ``charset`` on a client's media type are ignored rather than making the
type unmatchable, and the table's alternative media types (``application/json`` …) count
for the format they name. When nothing fits, a 406 names what would.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Request
from werkzeug.datastructures import MIMEAccept

from practicebank.formats import Format, by_media_type, by_name

from .errors import not_acceptable

FORM_TYPE = "application/x-www-form-urlencoded"
#: The HTML table any answer can be shown as, for browsers.
HTML = by_name("html")


def negotiate(request: Request, supported: Sequence[Format]) -> Format:
    """The format to answer ``request`` in, among ``supported`` (default first), or a 406."""
    return choose_format(
        supported, accept=request.accept_mimetypes, requested=requested_format(request)
    )


#: What ``format=xml``/``json`` mean for a graph answer (CONSTRUCT, DESCRIBE), as Fuseki and
#: Virtuoso read them: SPARQLWrapper sends ``format=xml`` with every query by default.
GRAPH_SYNONYMS = {"xml": "rdfxml", "json": "jsonld"}


def requested_format(request: Request) -> str | None:
    """The ``format=`` parameter, from the URL or from a form body (the URL wins)."""
    value = request.args.get("format")
    if value is None and request.method == "POST" and request.mimetype == FORM_TYPE:
        value = request.form.get("format")
    return value or None


def choose_format(
    supported: Sequence[Format],
    *,
    accept: MIMEAccept | None = None,
    requested: str | None = None,
) -> Format:
    """Pick among ``supported`` by ``requested`` (a format name) or else by ``accept``.

    No ``Accept`` or ``*/*`` gives the default (the first of ``supported``); among equally
    good matches the earlier format wins.
    """
    if not supported:
        raise ValueError("choose_format needs at least one supported format")
    if requested:
        chosen = by_name(requested) or (by_media_type(requested) if "/" in requested else None)
        if chosen not in supported and supported[0].kind == "rdf":
            chosen = by_name(GRAPH_SYNONYMS.get(requested.lower(), requested))
        if chosen in supported:
            return chosen
        raise not_acceptable(
            f"format={requested} is not available for this answer. "
            f"Use format={' or format='.join(f.name for f in supported)}, "
            "or leave format out and send an Accept header."
        )
    if not accept:
        return supported[0]
    accept = _without_parameters(accept)
    candidates = {f.media_type: f for f in supported}
    for item, _quality in accept:  # alternative media types the table knows, e.g. application/json
        chosen = by_media_type(item)
        if chosen in supported:
            candidates.setdefault(item, chosen)
    best = accept.best_match(candidates)
    if best is None:
        raise not_acceptable(
            f"Nothing in Accept: {accept.to_header()} can be produced for this answer. "
            f"Accept one of {', '.join(f.media_type for f in supported)}, "
            f"or add format={' or format='.join(f.name for f in supported)}."
        )
    return candidates[best]


def _without_parameters(accept: MIMEAccept) -> MIMEAccept:
    """``accept`` with media-type parameters (``charset``, ``profile`` …) dropped.

    werkzeug only matches a client type with parameters against a server type with the
    same parameters, so ``text/turtle; charset=utf-8`` would otherwise match nothing.
    """
    return MIMEAccept([(value.split(";")[0].strip().lower(), q) for value, q in accept])
