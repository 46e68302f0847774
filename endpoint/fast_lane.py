"""The fast lane: the protocol's plain ``GET /sparql?query=…`` answered without Flask's
per-request machinery.

Why it exists: measured on the 100k-practice benchmark (``bench/bench_endpoint.py``), a
cheap lookup costs Oxigraph about 30 µs, but building a Flask request context, routing,
running the hooks and assembling a werkzeug ``Response`` cost about ten times that, all of
it under the GIL of the one server process; the endpoint answered a seventh as many
lookups per second as ``oxigraph serve``. Most traffic to a SPARQL endpoint is that one
request shape, so it gets a short path.

What it takes: ``GET /sparql`` whose URL has one ``query`` and at most one ``format`` and
``timeout``, without conditional headers (``If-None-Match``/``If-Modified-Since``) and with
a query that names no remote endpoint. Anything else, and any doubt, goes to the Flask app
unchanged. It hands the query to the same route as the Flask view
(:func:`.sparql.answer`: negotiation, the lookup shortcut, the job, the executor, metrics)
and answers in the same error shape and access log, so both paths give the same answer byte
for byte; ``tests/test_fast_lane.py`` compares them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl

import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" decoding error handler)
from flask import Flask
from werkzeug.wsgi import get_current_url

from practicebank.sparql_text import query_hash

from .errors import EndpointError, error_body, internal_error, prefers_text_for
from .metrics import EXTENSION as METRICS
from .metrics import log_access
from .protocol_request import CORS_READ_HEADERS, timeout_seconds
from .runtime import EXTENSION as RUNTIME
from .security_headers import security_headers
from .sparql import QueryRequest, answer_etag, cache_headers
from .sparql import answer as answer_query
from .wsgi import ClosingBody

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]

#: The only URL parameters the fast lane understands; any other sends a request to Flask.
PARAMETERS = frozenset({"query", "format", "timeout"})
#: Headers that only the Flask view handles (conditional requests).
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
#: Headers of every protocol answer (public reads, negotiated by Accept).
READ_HEADERS = [("Vary", "Accept"), *CORS_READ_HEADERS]


class FastLane:
    """WSGI middleware in front of the Flask app (installed by ``create_app``)."""

    def __init__(self, app: Flask, fallback: WSGIApp) -> None:
        self.app = app
        self.fallback = fallback  # the Flask app's own WSGI callable

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if (environ.get("PATH_INFO") != "/sparql" or environ.get("REQUEST_METHOD") != "GET"
                or any(h in environ for h in CONDITIONAL)):
            return self.fallback(environ, start_response)
        runtime = self.app.extensions.get(RUNTIME)
        params = _parameters(environ.get("QUERY_STRING", ""))
        if runtime is None or params is None:  # the runtime starts on Flask's first query
            return self.fallback(environ, start_response)
        query = params.get("query", "")
        try:
            timeout = timeout_seconds(params.get("timeout"),
                                      float(self.app.config["QUERY_TIMEOUT"]))
        except EndpointError:  # the Flask view explains it
            return self.fallback(environ, start_response)
        lowered = query.lower()
        if not query.strip() or "service" in lowered or "load" in lowered:
            return self.fallback(environ, start_response)
        return self._answer(environ, start_response, runtime, params, query, timeout)

    def _answer(self, environ, start_response, runtime, params, query, timeout):
        started, started_wall = time.monotonic(), time.time()
        accept = environ.get("HTTP_ACCEPT", "")
        hashed = query_hash(query) if self.app.config.get("ACCESS_LOG", True) else None
        requested = params.get("format") or None
        base = _base_url(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
                         environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
                         environ.get("SCRIPT_NAME", ""))
        try:
            answer = answer_query(runtime, self.app, QueryRequest(
                query, accept, requested, base, started_wall + timeout)).answer
        except EndpointError as error:
            return self._error(error, accept, start_response, started, hashed)
        except Exception:  # a fault of ours: logged with its traceback, answered in our shape
            self.app.logger.exception("The fast lane failed on GET /sparql")
            return self._error(internal_error(), accept, start_response, started, hashed)
        etag = answer_etag(runtime.freshness, accept, params.get("format", ""))
        headers = [("Content-Type", answer.content_type),
                   *cache_headers(etag, runtime.freshness), *READ_HEADERS,
                   *security_headers(answer.content_type)]
        if answer.length is not None:
            headers.append(("Content-Length", str(answer.length)))
        return self._finish(start_response, 200, "200 OK", headers, answer.body, started,
                            hashed)

    def _error(self, error: EndpointError, accept: str, start_response, started: float,
               hashed: str | None):
        body, content_type = error_body(error, prefers_text_for(accept))
        headers = [("Content-Type", content_type), *error.extra_headers.items(),
                   *READ_HEADERS, *security_headers(content_type),
                   ("Content-Length", str(len(body)))]
        return self._finish(start_response, error.code, f"{error.code} {error.name.upper()}",
                            headers, [body], started, hashed)

    def _finish(self, start_response, code: int, status: str, headers, body, started: float,
                hashed: str | None) -> Iterable[bytes]:
        self.app.extensions[METRICS].observe_request("GET", code)
        start_response(status, headers)
        log = self.app.config.get("ACCESS_LOG", True)
        if isinstance(body, list) and not log:
            return body
        return ClosingBody(
            body, lambda: log and log_access("GET", "/sparql", code, started, hashed))



def _parameters(query_string: str) -> dict[str, str] | None:
    """The URL's parameters decoded as werkzeug decodes them, or None when the fast lane
    should not take the request (an unknown or repeated parameter, bytes that are not UTF-8)."""
    try:
        pairs = parse_qsl(query_string.encode("latin1").decode(), keep_blank_values=True,
                          errors="werkzeug.url_quote")
    except UnicodeError:
        return None
    params = dict(pairs)
    if len(params) != len(pairs) or not params.keys() <= PARAMETERS or "query" not in params:
        return None
    return params


@lru_cache(maxsize=64)
def _base_url(scheme: str, host: str | None, server: str | None, port: str | None,
              script: str) -> str:
    """``request.base_url`` of ``/sparql``, as werkzeug computes it (remembered per host)."""
    environ = {"wsgi.url_scheme": scheme, "SERVER_NAME": server or "", "SERVER_PORT": port or "",
               "SCRIPT_NAME": script, "PATH_INFO": "/sparql"}
    if host is not None:
        environ["HTTP_HOST"] = host
    return get_current_url(environ, strip_querystring=True)
