"""The SPARQL 1.1 Protocol at ``/sparql``: queries, updates posted there, and the service
description when there is no query.

The view only reads the protocol's request shapes (GET ``?query=``, a urlencoded form POST,
a direct POST of ``application/sparql-query``) into plain values. Content negotiation runs
up front for both kinds of answer (results for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE, each
with an HTML table for browsers), because only the parser knows the query form; the query
then runs as a :class:`~.jobs.QueryJob` on the app's executor (worker processes with a
deadline for an on-disk store). Reads are public (CORS) and cacheable: GET answers carry an
ETag and Last-Modified from the last committed write, and a matching conditional GET is a
304 without running the query.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Flask, Request, Response, current_app, g, request
from werkzeug.datastructures import MIMEAccept, MultiDict
from werkzeug.http import parse_accept_header

from practicebank.formats import Format, by_name, of_kind
from practicebank.store import PracticeStore

from .errors import (
    EndpointError,
    bad_request,
    internal_error,
    service_unavailable,
    unsupported_media_type,
)
from .executors import Answer, InProcessExecutor, JobFailed, RWLock
from .federation import Allowlist, RemotePlan, plan_remote_calls, refused_warning
from .jobs import JobError, QueryJob
from .metrics import EXTENSION as METRICS
from .negotiation import FORM_TYPE, choose_format, requested_format
from .query_limits import QueryLimits
from .runtime import Runtime, get_runtime
from .sparql_text import query_hash
from .workers import Overloaded

bp = Blueprint("sparql", __name__)

QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
HTML = by_name("html")

#: Picks one format from those an answer can be written in (default first).
Chooser = Callable[[Sequence[Format]], Format]


@dataclass(frozen=True)
class ProtocolQuery:
    """What a protocol request asks for, whichever of the three shapes it came in."""

    query: str | None
    default_graph: list[ox.NamedNode] | None
    named_graphs: list[ox.NamedNode] | None


def answer_formats(kind: str) -> list[Format]:
    """What an answer of ``kind`` can be written in, default first, HTML last (so that
    ``text/*`` still means CSV and only a browser's explicit ``text/html`` picks it)."""
    return [*of_kind(kind), HTML]


@lru_cache(maxsize=512)
def formats_for(accept: str, requested: str | None) -> tuple[dict[str, str | None],
                                                            dict[str, str]]:
    """:func:`choose_both` for an ``Accept`` header and ``format=`` value, remembered.

    Clients send the same few headers again and again, and werkzeug's matching is the
    dearest step of a cheap query; the cache is bounded, so odd headers cannot grow it.
    Callers must not change the dicts returned.
    """
    return choose_both(partial(choose_format, accept=parse_accept_header(accept, MIMEAccept),
                               requested=requested))


def choose_both(choose: Chooser) -> tuple[dict[str, str | None], dict[str, str]]:
    """The chosen format name per kind of answer, and the 406 message for a kind that has none."""
    formats, refusals = {}, {}
    for kind in ("results", "rdf"):
        try:
            formats[kind] = choose(answer_formats(kind)).name
        except EndpointError as exc:
            formats[kind], refusals[kind] = None, exc.message
    return formats, refusals


def handle_query(
    store: PracticeStore,
    query: str,
    choose: Chooser,
    *,
    default_graph: list[ox.NamedNode] | None = None,
    named_graphs: list[ox.NamedNode] | None = None,
) -> Response:
    """Evaluate ``query`` on ``store`` in this process and answer in the format ``choose`` picks.

    The plain-function form of the protocol, tested without any request: no deadline worker,
    no federation (SERVICE is refused). Raises the 400/406/500 errors of :mod:`.errors`.
    """
    formats, refusals = choose_both(choose)
    job = QueryJob(query, _iris(default_graph), _iris(named_graphs), formats=formats,
                   refusals=refusals,
                   remote=plan_remote_calls(query, Allowlist(), limits=QueryLimits()))
    try:
        answer = InProcessExecutor(store, RWLock()).run(job)
    except JobFailed as failed:
        raise job_error(failed.error) from None
    return Response(b"".join(answer.body), status=200, content_type=answer.content_type)


def _iris(nodes: list[ox.NamedNode] | None) -> tuple[str, ...] | None:
    return None if nodes is None else tuple(n.value for n in nodes)


def job_error(error: JobError, app: Flask | None = None) -> EndpointError:
    """The HTTP error for a failed job; store faults are logged and not shown."""
    if error.code >= 500 and error.kind == "internal_error":
        (app or current_app).logger.error("Query evaluation failed: %s", error.message)
        return internal_error()
    return EndpointError(error.code, error.kind, error.message)


# -- reading the request -----------------------------------------------------------------------


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


# -- the views ---------------------------------------------------------------------------------


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS"])
def sparql() -> Response:
    """The protocol's query operation, updates posted here, the service description and the
    CORS preflight."""
    if request.method == "OPTIONS":
        return preflight()
    if is_update(request):
        from .update import handle_update_request

        return handle_update_request()
    asked = read_protocol_query(request)
    if asked.query is None and request.method in ("GET", "HEAD"):
        from .service_description import service_description_response

        return service_description_response()
    if asked.query is None or not asked.query.strip():
        return no_query()
    return answer_query(asked)


def answer_query(asked: ProtocolQuery) -> Response:
    """Run a query on the app's executor and answer it (or 304 for a fresh cached copy)."""
    runtime = get_runtime()
    config = current_app.config
    g.query_hash = query_hash(asked.query)
    accept, requested = request.headers.get("Accept", ""), requested_format(request)
    cacheable = request.method in ("GET", "HEAD")
    etag = None
    if cacheable:
        etag = answer_etag(runtime.freshness, accept, request.args.get("format", ""))
        if _not_modified(etag, runtime.freshness.last_modified):
            response = Response(status=304)
            _cache_headers(response, etag, runtime)
            return response
    base = request.base_url
    job = make_job(
        runtime, config, asked.query, asked.default_graph, asked.named_graphs,
        accept=accept, requested=requested, base=base,
        deadline=g.get("started_wall", time.time())
        + requested_timeout(request, float(config["QUERY_TIMEOUT"])),
    )
    answer = run_job(runtime, job, current_app)
    response = Response(answer.body, status=200, content_type=answer.content_type)
    warn_refused(response, job.remote)
    if answer.length is not None:
        response.content_length = answer.length
    if cacheable:
        _cache_headers(response, etag, runtime)
    return response


def warn_refused(response: Response, plan: RemotePlan | None) -> None:
    """Say in a ``Warning`` header (and the log) which SILENT calls were not made."""
    warning = refused_warning(plan) if plan is not None else None
    if warning is not None:
        response.headers["Warning"] = warning
        current_app.logger.warning("Refused SILENT remote call(s): %s", "; ".join(plan.refused))


def answer_etag(freshness, accept: str, requested: str) -> str:
    """The (weak) ETag of a GET answer: the store's last write, and which negotiated
    variant of the answer this is."""
    return f"{freshness.tag}-{variant_tag(accept, requested)}"


@lru_cache(maxsize=512)
def variant_tag(accept: str, requested: str) -> str:
    """The part of a GET answer's ETag that tells its negotiated variants apart."""
    return hashlib.sha256(f"{accept}|{requested}".encode()).hexdigest()[:8]


def make_job(runtime: Runtime, config: Mapping[str, Any], query: str,
             default_graph: list[ox.NamedNode] | None, named_graphs: list[ox.NamedNode] | None,
             *, accept: str, requested: str | None, base: str, deadline: float) -> QueryJob:
    """The job for a protocol query: negotiated formats, the dataset, SERVICE routed to the
    proxy (or the allowlist's 400), and the deadline."""
    formats, refusals = formats_for(accept, requested)
    return QueryJob(
        query,
        _iris(default_graph),
        _iris(named_graphs),
        formats=formats,
        refusals=refusals,
        base_iri=base,
        remote=plan_remote_calls(query, runtime.allowlist, base_iri=base,
                                 limits=runtime.limits),
        deadline=deadline,
        service_timeout=float(config["SERVICE_TIMEOUT"]),
        service_max_bytes=int(config["MAX_REMOTE_ANSWER"]),
    )


def run_job(runtime: Runtime, job: QueryJob, app: Flask, *, lookup: bool = True) -> Answer:
    """Run ``job`` on the runtime (see :meth:`Runtime.run`), timing it in the metrics;
    raises the :class:`EndpointError` of a failed job or of a full worker pool."""
    started = time.monotonic()
    try:
        return runtime.run(job, lookup=lookup)
    except JobFailed as failed:
        raise job_error(failed.error, app) from None
    except Overloaded as exc:
        raise service_unavailable(
            f"All query workers are busy ({exc}). Retry in a moment.") from None
    finally:
        app.extensions[METRICS].observe_query(time.monotonic() - started)


def _not_modified(etag: str, last_modified: float) -> bool:
    if request.if_none_match:
        return request.if_none_match.contains_weak(etag)
    since = request.if_modified_since
    return since is not None and since.timestamp() >= last_modified


def cache_headers(etag: str, freshness) -> list[tuple[str, str]]:
    """ETag, Last-Modified and Cache-Control of a GET answer: revalidate every time (cheap,
    thanks to the ETag)."""
    return [("ETag", f'W/"{etag}"'), ("Last-Modified", freshness.http_date),
            ("Cache-Control", "no-cache")]


def _cache_headers(response: Response, etag: str, runtime) -> None:
    for name, value in cache_headers(etag, runtime.freshness):
        response.headers[name] = value


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


@bp.after_app_request
def public_read(response: Response) -> Response:
    """Protocol answers (errors included) vary with Accept; reads are open to any origin."""
    if request.path.startswith(("/sparql", "/update", "/store")):
        response.vary.add("Accept")
        if request.method in ("GET", "HEAD", "OPTIONS") or request.path == "/sparql":
            response.headers.update(CORS_READ_HEADERS)
    return response
