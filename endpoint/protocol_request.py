"""Reading the SPARQL 1.1 Protocol's requests, and the CORS rules of its answers.

Shared by the query view (:mod:`.sparql`), the update view (:mod:`.update`) and the Graph
Store (:mod:`.graph_store`): the three request shapes of the protocol (GET ``?query=``, a
urlencoded form POST, a direct POST of the query or update as the body) read into plain
values, with the protocol's 400 and 415 answers for everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from flask import Request, Response, current_app
from werkzeug.datastructures import MultiDict

from .errors import bad_request, unsupported_media_type
from .federation import RemotePlan, refused_warning
from .negotiation import FORM_TYPE

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"


@dataclass(frozen=True)
class ProtocolQuery:
    """What a protocol request asks for, whichever of the three shapes it came in."""

    query: str | None
    default_graph: list[ox.NamedNode] | None
    named_graphs: list[ox.NamedNode] | None


def read_protocol_query(req: Request) -> ProtocolQuery:
    """The query and dataset of a GET (or HEAD), form POST or direct POST; else 400 or 415."""
    if req.method in ("GET", "HEAD"):
        params: MultiDict[str, str] = req.args
        if "update" in params:
            raise bad_request("Updates must be sent with POST (update=… in a form, or a body "
                              f"of type {UPDATE_TYPE}), never with GET.")
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
        query = utf8_body(req)
    else:
        raise unsupported_media_type(
            f"A POST to /sparql must have Content-Type {QUERY_TYPE} (the query as the body), "
            f"{UPDATE_TYPE} (an update as the body) or {FORM_TYPE} (query=… or update=… in "
            f"the body), not {req.mimetype or 'none'}."
        )
    default_graph = graph_params(params, "default-graph-uri")
    named_graphs = graph_params(params, "named-graph-uri")
    if named_graphs and default_graph is None:
        default_graph = []  # the protocol's dataset: only the graphs named, empty default
    return ProtocolQuery(query, default_graph, named_graphs)


def _single(params: MultiDict[str, str], name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise bad_request(f"Send exactly one {name}= parameter; this request has {len(values)}.")
    return values[0] if values else None


def single_param(params: MultiDict[str, str], name: str) -> str | None:
    """The one value of ``name``; 400 when the request repeats it."""
    return _single(params, name)


def utf8_body(req: Request) -> str:
    """The body as text; a charset other than UTF-8 is a 415, bytes that are not UTF-8 a 400."""
    charset = req.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise unsupported_media_type(
            f"The body must be UTF-8; charset={charset} is not supported. Send it as UTF-8.")
    try:
        return req.get_data(cache=False).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"The body is not valid UTF-8 ({exc.reason} at byte {exc.start}). "
            "Send it encoded as UTF-8."
        ) from exc


def graph_params(params: MultiDict[str, str], name: str) -> list[ox.NamedNode] | None:
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


def requested_timeout(req: Request, maximum: float) -> float:
    """The deadline for this query: ``timeout=`` seconds if given (never above ``maximum``)."""
    value = req.args.get("timeout")
    if value is None and req.mimetype == FORM_TYPE:
        value = req.form.get("timeout")
    return timeout_seconds(value, maximum)


def timeout_seconds(value: str | None, maximum: float) -> float:
    """``timeout=value`` as seconds, never above ``maximum`` (which is also the default);
    400 for anything but a positive number."""
    if value is None:
        return maximum
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not seconds > 0:
        raise bad_request(f"timeout={value} is not a positive number of seconds.")
    return min(seconds, maximum)


def no_query() -> Response:
    """The answer to a POST without a query."""
    raise bad_request(
        "No query was given. Send a SPARQL query as ?query=… in a GET, as query=… in a POST "
        f"with Content-Type {FORM_TYPE}, or as the body of a POST with Content-Type "
        f"{QUERY_TYPE}. A GET without a query returns the service description.",
        kind="missing_query",
    )


def is_update(req: Request) -> bool:
    """True for the protocol's update requests (a direct update, or update= in a form)."""
    if req.method != "POST":
        return False
    if req.mimetype == UPDATE_TYPE:
        return True
    if req.mimetype == FORM_TYPE and "update" in req.form:
        if "query" in req.form:
            raise bad_request("Send either query= or update=, not both.")
        return True
    return False


def preflight(methods: str = ALLOWED_METHODS) -> Response:
    """Answer OPTIONS and CORS preflights: any origin may use ``methods`` (the protocol's
    GET and POST by default) with these headers."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers["Allow"] = methods
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type, Authorization"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


#: CORS headers of every read: open to any origin, which may see the freshness headers.
CORS_READ_HEADERS = (("Access-Control-Allow-Origin", "*"),
                     ("Access-Control-Expose-Headers", "ETag, Last-Modified"))


def warn_refused(response: Response, plan: RemotePlan | None) -> None:
    """Say in a ``Warning`` header (and the log) which SILENT calls were not made."""
    warning = refused_warning(plan) if plan is not None else None
    if warning is not None:
        response.headers["Warning"] = warning
        current_app.logger.warning("Refused SILENT remote call(s): %s", "; ".join(plan.refused))
