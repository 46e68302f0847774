"""The SPARQL 1.1 Protocol query operation at ``/sparql``.

The view only reads the protocol's three request shapes (GET ``?query=``, a urlencoded form
POST, a direct POST of ``application/sparql-query``) into plain values; the work is in
:func:`handle_query`, a function of the store, the query and a format chooser that is
tested without any request. The query form decides the kind of answer: SELECT and ASK
are negotiated among result formats (JSON by default), CONSTRUCT and DESCRIBE among RDF
formats (Turtle by default). Reads are public, so every answer allows any origin.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

import pyoxigraph as ox
from flask import Blueprint, Request, Response, current_app, request
from practicebank.loaders.formats import Format, of_kind
from practicebank.loaders.store import PracticeStore
from werkzeug.datastructures import MultiDict

from .db import get_store
from .errors import EndpointError, bad_request, internal_error, unsupported_media_type
from .negotiation import FORM_TYPE, negotiate

bp = Blueprint("sparql", __name__)

QUERY_TYPE = "application/sparql-query"
ALLOWED_METHODS = "GET, POST, OPTIONS"

#: Picks one format from those an answer can be written in (default first).
Chooser = Callable[[Sequence[Format]], Format]


@dataclass(frozen=True)
class ProtocolQuery:
    """What a protocol request asks for, whichever of the three shapes it came in."""

    query: str | None
    default_graph: list[ox.NamedNode] | None
    named_graphs: list[ox.NamedNode] | None


def handle_query(
    store: PracticeStore,
    query: str,
    choose: Chooser,
    *,
    default_graph: list[ox.NamedNode] | None = None,
    named_graphs: list[ox.NamedNode] | None = None,
) -> Response:
    """Evaluate ``query`` on ``store`` and answer in the format ``choose`` picks.

    ``choose`` gets the formats this query form can be written in, so the query is parsed
    once and evaluated once. Raises the 400 (syntax), 406 (from ``choose``) or 500 (store
    fault) errors of :mod:`.errors`.
    """
    try:
        results = store.query(query, default_graph=default_graph, named_graphs=named_graphs)
    except SyntaxError as exc:
        raise bad_request(
            f"The query is not valid SPARQL: {exc}. Fix it at that line:column and send it again.",
            kind="syntax_error",
        ) from exc
    except OSError as exc:
        raise _store_fault(exc) from exc
    if isinstance(results, ox.QueryTriples):
        chosen = choose(of_kind("rdf"))
        options = {"format": chosen.rdf_format}
    else:
        chosen = choose(of_kind("results"))
        options = {"format": chosen.results_format}
    # Evaluation is lazy and happens while serialising, so store faults surface here too.
    # Writing into memory first means they still become a clean error, not half a body.
    buffer = io.BytesIO()
    try:
        results.serialize(buffer, **options)
    except OSError as exc:
        raise _store_fault(exc) from exc
    return Response(buffer.getvalue(), status=200, content_type=chosen.content_type)


def _store_fault(exc: OSError) -> EndpointError:
    current_app.logger.error("Query evaluation failed in the store: %s", exc, exc_info=exc)
    return internal_error()


def read_protocol_query(req: Request) -> ProtocolQuery:
    """The query and dataset of a GET (or HEAD), form POST or direct POST; else 400 or 415."""
    if req.method in ("GET", "HEAD"):
        params: MultiDict[str, str] = req.args
        query = _single(params, "query")
    elif req.mimetype == FORM_TYPE:
        params = req.values  # the form body, plus anything left in the URL
        query = _single(params, "query")
    elif req.mimetype == QUERY_TYPE:
        params = req.args
        if "query" in params:
            raise bad_request(
                f"A POST with Content-Type {QUERY_TYPE} carries the query as its body; "
                "remove the query= parameter from the URL."
            )
        query = _utf8_body(req)
    else:
        raise unsupported_media_type(
            f"A POST to /sparql must have Content-Type {QUERY_TYPE} (the query as the body) "
            f"or {FORM_TYPE} (query=… in the body), not {req.mimetype or 'none'}."
        )
    default_graph = _graphs(params, "default-graph-uri")
    named_graphs = _graphs(params, "named-graph-uri")
    if named_graphs and default_graph is None:
        default_graph = []  # the protocol's dataset: only the graphs named, empty default
    if query is not None and not query.strip():
        query = None
    return ProtocolQuery(query, default_graph, named_graphs)


def _single(params: MultiDict[str, str], name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise bad_request(f"Send exactly one {name}= parameter; this request has {len(values)}.")
    return values[0] if values else None


def _utf8_body(req: Request) -> str:
    try:
        return req.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"The query body is not valid UTF-8 ({exc.reason} at byte {exc.start}). "
            "Send it encoded as UTF-8."
        ) from exc


def _graphs(params: MultiDict[str, str], name: str) -> list[ox.NamedNode] | None:
    iris = params.getlist(name)
    if not iris:
        return None
    nodes = []
    for iri in iris:
        try:
            nodes.append(ox.NamedNode(iri))
        except ValueError as exc:
            raise bad_request(
                f"{name}={iri} is not an absolute IRI ({exc}). Give the full IRI of the graph."
            ) from exc
    return nodes


def no_query() -> Response:
    """The answer to a request without a query (a service description will go here)."""
    raise bad_request(
        "No query was given. Send a SPARQL query as ?query=… in a GET, as query=… in a POST "
        f"with Content-Type {FORM_TYPE}, or as the body of a POST with Content-Type "
        f"{QUERY_TYPE}.",
        kind="missing_query",
    )


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def sparql() -> Response:
    """The protocol's query operation (and the CORS preflight for it)."""
    if request.method == "OPTIONS":
        return preflight()
    asked = read_protocol_query(request)
    if asked.query is None:
        return no_query()
    return handle_query(
        get_store(),
        asked.query,
        partial(negotiate, request),
        default_graph=asked.default_graph,
        named_graphs=asked.named_graphs,
    )


def preflight() -> Response:
    """Answer a CORS preflight: any origin may GET or POST queries with these headers."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Allow"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.after_request
def public_read(response: Response) -> Response:
    """Every /sparql answer (errors included) is public and varies with Accept."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    return response
