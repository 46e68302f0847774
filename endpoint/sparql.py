"""Answering a SPARQL query: the one route every entrance takes.

The Flask view (:mod:`.protocol`), the fast lane (:mod:`.fast_lane`) and the plain function
:func:`handle_query` all end in :func:`answer`, which does the work in one order: the
query's limits and its SERVICE calls are checked (:mod:`.federation`), its form is read
(SELECT/ASK give results, CONSTRUCT/DESCRIBE a graph) and only then is the answer's format
negotiated, so a 406 names the formats this answer really has; a lookup by IRI is answered
on the spot (:mod:`.lookups`), anything else runs as a :class:`~.jobs.QueryJob` on the
runtime's executor (worker processes with a deadline, the remote store, or in process), and
the time it took is recorded once. Reads are public (CORS) and cacheable: GET answers carry
an ETag and Last-Modified from the last committed write, and a matching conditional GET is
a 304 without running the query.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
from flask import Flask, Response, current_app, g, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from practicebank.formats import Format, of_kind
from practicebank.sparql_text import query_hash, query_kind
from practicebank.store import PracticeStore

from .errors import EndpointError, internal_error, service_unavailable
from .executors import Answer, InProcessExecutor, JobFailed, RWLock
from .federation import Allowlist, RemotePlan, plan_remote_calls
from .jobs import JobError, QueryJob
from .metrics import EXTENSION as METRICS
from .negotiation import HTML, choose_format, requested_format
from .protocol_request import ProtocolQuery, requested_timeout, warn_refused
from .query_limits import QueryLimits
from .runtime import Runtime, get_runtime
from .site_links import link_root
from .workers import Overloaded

#: Picks one format from those an answer can be written in (default first).
Chooser = Callable[[Sequence[Format]], Format]


def answer_formats(kind: str) -> list[Format]:
    """What an answer of ``kind`` can be written in, default first, HTML last (so that
    ``text/*`` still means CSV and only a browser's explicit ``text/html`` picks it)."""
    return [*of_kind(kind), HTML]


@lru_cache(maxsize=512)
def negotiated(accept: str, requested: str | None, kind: str) -> Format:
    """The format for an answer of ``kind``, by ``format=`` or else ``Accept`` (406 when
    none fits), remembered: clients send the same few headers again and again, and
    werkzeug's matching is the dearest step of a cheap query. The cache is bounded, so odd
    headers cannot grow it."""
    return choose_format(answer_formats(kind), accept=parse_accept_header(accept, MIMEAccept),
                         requested=requested)


@dataclass(frozen=True)
class QueryRequest:
    """A protocol query as every entrance hands it over, without any request object."""

    query: str
    accept: str = ""
    requested: str | None = None     # the format= parameter
    base: str | None = None          # relative IRIs resolve against the endpoint's URL
    deadline: float = float("inf")   # time.time()
    default_graph: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None


@dataclass
class Answered:
    """An answer, and the SERVICE plan it ran with (for the Warning header)."""

    answer: Answer
    remote: RemotePlan


def answer(runtime: Runtime, app: Flask, asked: QueryRequest) -> Answered:
    """Answer one query: check, negotiate once the form is known, then a lookup on the
    spot or a job on the executor. Raises the :class:`EndpointError` of a refused or failed
    query (400, 406, 503, 504 …)."""
    started = time.monotonic()
    try:
        remote = plan_remote_calls(asked.query, runtime.allowlist, base_iri=asked.base,
                                   limits=runtime.limits)
        fmt, refusal = _negotiate(asked)
        direct = (runtime.lookups is not None and fmt is not None and not remote.endpoints
                  and asked.default_graph is None and asked.named_graphs is None)
        if direct and (found := runtime.lookups.answer(asked.query, fmt, asked.base)):
            return Answered(found, remote)
        config = app.config
        job = QueryJob(asked.query, asked.default_graph, asked.named_graphs,
                       format=fmt and fmt.name, refusal=refusal, base_iri=asked.base,
                       remote=remote,
                       link_root=link_root(config["PUBLIC_BASE"], asked.base or ""),
                       deadline=asked.deadline,
                       service_timeout=float(config["SERVICE_TIMEOUT"]),
                       service_max_bytes=int(config["MAX_REMOTE_ANSWER"]),
                       bind_join_batch=int(config["BIND_JOIN_BATCH"]),
                       bind_join_max_bindings=int(config["BIND_JOIN_MAX_BINDINGS"]))
        return Answered(runtime.executor.run(job), remote)
    except JobFailed as failed:
        raise job_error(failed.error, app) from None
    except Overloaded as exc:
        raise service_unavailable(
            f"All query workers are busy ({exc}). Retry in a moment.") from None
    finally:
        app.extensions[METRICS].observe_query(time.monotonic() - started)


def _negotiate(asked: QueryRequest) -> tuple[Format | None, str]:
    """The answer's format, or None and the 406 message (given only if the query parses)."""
    try:
        return negotiated(asked.accept, asked.requested,
                          query_kind(asked.query) or "results"), ""
    except EndpointError as refused:
        return None, refused.message


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
    try:
        name, refusal = choose(answer_formats(query_kind(query) or "results")).name, ""
    except EndpointError as refused:
        name, refusal = None, refused.message
    job = QueryJob(query, _iris(default_graph), _iris(named_graphs), format=name,
                   refusal=refusal,
                   remote=plan_remote_calls(query, Allowlist(), limits=QueryLimits()))
    try:
        found = InProcessExecutor(store, RWLock()).run(job)
    except JobFailed as failed:
        raise job_error(failed.error) from None
    return Response(b"".join(found.body), status=200, content_type=found.content_type)


def _iris(nodes: list[ox.NamedNode] | None) -> tuple[str, ...] | None:
    return None if nodes is None else tuple(n.value for n in nodes)


def job_error(error: JobError, app: Flask | None = None) -> EndpointError:
    """The HTTP error for a failed job; store faults are logged and not shown."""
    if error.code >= 500 and error.kind == "internal_error":
        (app or current_app).logger.error("Query evaluation failed: %s", error.message)
        return internal_error()
    return EndpointError(error.code, error.kind, error.message)


def answer_query(asked: ProtocolQuery) -> Response:
    """The Flask view's part: the request read into a :class:`QueryRequest`, a 304 for a
    fresh cached copy, and the answer with its headers."""
    runtime = get_runtime()
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
    deadline = g.get("started_wall", time.time()) + requested_timeout(
        request, float(current_app.config["QUERY_TIMEOUT"]))
    answered = answer(runtime, current_app, QueryRequest(
        asked.query, accept, requested, request.base_url, deadline,
        _iris(asked.default_graph), _iris(asked.named_graphs)))
    found = answered.answer
    response = Response(found.body, status=200, content_type=found.content_type)
    warn_refused(response, answered.remote)
    if found.length is not None:
        response.content_length = found.length
    if cacheable:
        _cache_headers(response, etag, runtime)
    return response


def answer_etag(freshness, accept: str, requested: str) -> str:
    """The (weak) ETag of a GET answer: the store's last write, and which negotiated
    variant of the answer this is."""
    return f"{freshness.tag}-{variant_tag(accept, requested)}"


@lru_cache(maxsize=512)
def variant_tag(accept: str, requested: str) -> str:
    """The part of a GET answer's ETag that tells its negotiated variants apart."""
    return hashlib.sha256(f"{accept}|{requested}".encode()).hexdigest()[:8]


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
