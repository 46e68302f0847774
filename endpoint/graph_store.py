"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/store``.

Graphs are named indirectly (``/store?graph=IRI``, ``/store?default``) or directly (the
request URL ``/store/…`` is the graph's IRI). GET and HEAD read a graph in any RDF format of
the table (404 when it does not exist); PUT replaces it, POST adds to it (or, at ``/store``
itself, creates a new graph and answers 201 with its IRI in ``Location``), DELETE drops it.
Bodies are parsed by pyoxigraph in the format their Content-Type names (415 for any other;
``multipart/form-data`` parts each in their own type). Writes need the bearer token and go
through the same validated :class:`~.writes.Writer` as SPARQL Update: the body is parsed
first, then, with the writer to itself, whether the graph exists (201 or 204) and what the
write would change are decided, checked and applied, so of concurrent first POSTs to a new
graph exactly one answers 201. Reads of a graph run in the server process: they are
bounded by the graph's size, not by a query's cost.
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, request

from practicebank.formats import Format, by_media_type, of_kind
from practicebank.loaders.limits import refuse_xml_declarations
from practicebank.problems import ValidationFailed

from .errors import EndpointError, bad_request, unsupported_media_type, validation_failed
from .negotiation import negotiate
from .protocol_request import preflight
from .runtime import get_runtime
from .spool import Spool
from .write_plans import delete_changes, post_changes, put_changes
from .writes import require_write_access

bp = Blueprint("graph_store", __name__)

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
ALLOWED_METHODS = ", ".join(METHODS)
GRAPH_FORMATS = [f for f in of_kind("rdf") if f.name in ("ttl", "nt", "jsonld", "rdfxml")]


@bp.route("/store", methods=METHODS)
def indirect() -> Response:
    """Graphs named by ``?graph=IRI`` or ``?default``; POST without either creates a graph."""
    if request.method == "OPTIONS":
        return preflight(ALLOWED_METHODS)
    if "graph" in request.args and "default" in request.args:
        raise bad_request("Give either ?graph=IRI or ?default, not both.")
    if "default" in request.args:
        return handle(ox.DefaultGraph())
    iri = request.args.get("graph")
    if iri is None:
        if request.method == "POST":
            return create_graph()
        raise bad_request("Name a graph: /store?graph=IRI, or /store?default for the "
                          "default graph.", kind="missing_graph")
    try:
        return handle(ox.NamedNode(iri))
    except ValueError as exc:
        raise bad_request(f"graph={iri} is not an absolute IRI ({exc}).") from exc


@bp.route("/store/<path:rest>", methods=METHODS)
def direct(rest: str) -> Response:
    """The graph whose IRI is this request's URL (direct graph identification)."""
    if request.method == "OPTIONS":
        return preflight(ALLOWED_METHODS)
    return handle(ox.NamedNode(request.base_url))


def handle(graph: ox.NamedNode | ox.DefaultGraph) -> Response:
    if request.method in ("GET", "HEAD"):
        return read_graph(graph)
    admin = require_write_access(request, current_app.config["WRITE_TOKEN"],
                                 current_app.config.get("ADMIN_TOKEN", ""))
    if request.method == "DELETE":
        return delete_graph(graph, admin)
    quads = parse_body(graph)
    replace = request.method == "PUT"

    def changes(deadline):
        store = get_runtime().store.view()
        change = put_changes(store, graph, quads) if replace else post_changes(store, quads)
        return change, exists(graph)

    existed = write(changes, admin)
    return Response(status=204 if existed else 201)


def exists(graph: ox.NamedNode | ox.DefaultGraph) -> bool:
    if isinstance(graph, ox.DefaultGraph):
        return True
    return get_runtime().store.contains_named_graph(graph)


def read_graph(graph: ox.NamedNode | ox.DefaultGraph) -> Response:
    """The graph in the negotiated format, gathered into a spool (memory, then a temporary
    file) and sent with its length. On disk it is read from the committed snapshot, so a
    write being validated neither blocks it nor shows in it."""
    fmt = negotiate(request, GRAPH_FORMATS)
    runtime = get_runtime()
    view = runtime.committed_view()
    spool = Spool()
    try:
        with nullcontext() if view is not None else runtime.lock.reading():
            store = view if view is not None else runtime.store.view()
            if not (isinstance(graph, ox.DefaultGraph) or store.contains_named_graph(graph)):
                raise EndpointError(404, "not_found", f"There is no graph <{graph.value}> here.")
            store.dump(spool, format=fmt.rdf_format, from_graph=graph)
    except BaseException:
        spool.close()
        raise
    if request.method == "HEAD":  # the same headers, no body
        spool.close()
        response = Response(status=200, content_type=fmt.content_type)
    else:
        response = Response(spool.ready(), status=200, content_type=fmt.content_type)
    response.content_length = spool.length
    return response


def delete_graph(graph: ox.NamedNode | ox.DefaultGraph, admin: bool) -> Response:
    def changes(deadline):
        if not exists(graph):
            raise EndpointError(404, "not_found",
                                f"There is no graph <{graph.value}> to delete.")
        return delete_changes(get_runtime().store.view(), graph), None

    write(changes, admin)
    return Response(status=204)


def create_graph() -> Response:
    """POST to the service itself: a new graph, named under this server, holding the body."""
    admin = require_write_access(request, current_app.config["WRITE_TOKEN"],
                                 current_app.config.get("ADMIN_TOKEN", ""))
    graph = ox.NamedNode(f"{request.host_url}store/{uuid.uuid4()}")
    quads = parse_body(graph)
    write(lambda deadline: (post_changes(get_runtime().store.view(), quads), None), admin)
    response = Response(status=201)
    response.headers["Location"] = graph.value
    return response


def write(changes, admin: bool):
    """Run one Graph Store write through the writer (422 with the report when refused)."""
    try:
        return get_runtime().writer.write(
            changes, admin=admin, admin_configured=bool(current_app.config.get("ADMIN_TOKEN")),
            timeout=float(current_app.config["QUERY_TIMEOUT"]))
    except ValidationFailed as failed:
        raise validation_failed(failed.problems) from failed


def parse_body(graph) -> list[ox.Quad]:
    """The body's triples as quads in ``graph``; 415 for a type we cannot read, 400 for bad
    syntax. Blank nodes are renamed, so two uploads never share one by accident."""
    if request.mimetype == "multipart/form-data":
        parts = [(f.mimetype, f.read()) for f in request.files.values()]
        if not parts:
            raise bad_request("The multipart body has no file parts.")
    else:
        parts = [(request.mimetype, request.get_data(cache=False))]
    quads = []
    for mimetype, data in parts:
        fmt = _format(mimetype)
        base = graph.value if isinstance(graph, ox.NamedNode) else request.base_url
        if fmt.rdf_format == ox.RdfFormat.RDF_XML:
            try:  # Oxigraph expands internal entities: a 1 KB body can become gigabytes
                refuse_xml_declarations(data, where="The RDF/XML body")
            except ValueError as exc:
                raise bad_request(str(exc), kind="syntax_error") from exc
        try:
            for quad in ox.parse(data, fmt.rdf_format, base_iri=base, rename_blank_nodes=True,
                                 without_named_graphs=True):
                quads.append(ox.Quad(quad.subject, quad.predicate, quad.object, graph))
        except SyntaxError as exc:
            raise bad_request(f"The {fmt.name} body is not valid: {exc}.",
                              kind="syntax_error") from exc
    return quads


def _format(mimetype: str | None) -> Format:
    fmt = by_media_type(mimetype or "")
    if fmt is None or fmt.rdf_format is None:
        readable = ", ".join(f.media_type for f in of_kind("rdf"))
        raise unsupported_media_type(
            f"Cannot read a body of type {mimetype or 'none'}; send one of {readable}.")
    return fmt
