"""One error shape for the endpoint, built by named constructors and rendered in one handler.

Every error a client can see is ``{"error": "<short kind>", "message": "<what to do>"}`` with
the right status, or the same two fields as one line of text/plain when the client prefers
text. Views *raise* the constructors' results (they are werkzeug ``HTTPException`` objects),
and :func:`init_app` registers one handler for every ``HTTPException``, so Flask's own 404,
405, 413 and 500 come out in the same shape: never an HTML error page or a traceback.
A 500 is reserved for faults of the store (or of code), and is always logged.

Every message is at most :data:`MAX_MESSAGE` characters (cut, saying so): messages quote
their input (a parser's error quotes the text it stopped at), and that input may be a
megabyte of request body that must not come back to the client or fill its log.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import parse_accept_header

#: Media types of the error shape itself (not of query results: those live in the format table).
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"
HTML_TYPE = "text/html"
#: Longest error message in characters; a longer one is cut (see :func:`shorten`).
MAX_MESSAGE = 1000
#: Most shape problems a 422 lists (its message still counts them all).
MAX_PROBLEMS = 100


class EndpointError(HTTPException):
    """An HTTP error with a short machine-readable kind and a sentence saying what to do."""

    def __init__(
        self,
        code: int,
        kind: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        message = shorten(message)
        super().__init__(description=message)
        self.code = code
        self.kind = kind
        self.message = message
        self.extra_headers = dict(headers or {})
        # More JSON fields (the problem report of a 422); their texts are cut like messages.
        self.extra = _shorten_texts(dict(extra or {}))


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` when it fits in ``limit`` characters, else its start and how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [message cut: {len(text) - limit} more characters]"


def _shorten_texts(value: Any) -> Any:
    """``value`` with every string in it (in dicts and lists, at any depth) shortened."""
    if isinstance(value, str):
        return shorten(value)
    if isinstance(value, dict):
        return {k: _shorten_texts(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_shorten_texts(v) for v in value]
    return value


def bad_request(message: str, *, kind: str = "bad_request") -> EndpointError:
    """400: the request itself is wrong (no query, bad parameter, syntax error)."""
    return EndpointError(400, kind, message)


def not_found(path: str) -> EndpointError:
    """404: nothing is served at ``path``."""
    return EndpointError(
        404,
        "not_found",
        f"There is nothing at {path}. The SPARQL endpoint is at /sparql and the "
        "landing page, with an example query, is at /.",
    )


def method_not_allowed(method: str, allowed: list[str]) -> EndpointError:
    """405: the path exists but not for this method; the ``Allow`` header lists the others."""
    allowed = sorted(set(allowed))
    return EndpointError(
        405,
        "method_not_allowed",
        f"{method} is not allowed here; use {' or '.join(allowed)}.",
        headers={"Allow": ", ".join(allowed)},
    )


def not_acceptable(message: str) -> EndpointError:
    """406: none of the types the client accepts can be produced for this answer."""
    return EndpointError(406, "not_acceptable", message)


def payload_too_large(limit: int | None) -> EndpointError:
    """413: the request body is over ``MAX_CONTENT_LENGTH``; nothing of it was used."""
    size = f"the limit of {limit} bytes" if limit else "the server's limit"
    return EndpointError(
        413,
        "payload_too_large",
        f"The request body is larger than {size}; nothing was done. Send a shorter query, "
        "or split a large upload into several.",
    )


def request_timeout(seconds: float) -> EndpointError:
    """408: the body did not arrive in ``body_timeout`` seconds; the connection is closed."""
    return EndpointError(
        408,
        "body_timeout",
        f"The request body did not arrive within {seconds:g} s; nothing was done. Send the "
        "whole body at once, or a smaller one.",
        headers={"Connection": "close"},
    )


def incomplete_body(declared: int, received: int) -> EndpointError:
    """400: the body ended before its ``Content-Length`` (the client went away)."""
    return EndpointError(
        400,
        "incomplete_body",
        f"The request body ended after {received} of the {declared} bytes its Content-Length "
        "declared; nothing was done.",
    )


def uploads_busy(readers: int) -> EndpointError:
    """503: every body reader is busy; a request without a body is still served."""
    return EndpointError(
        503,
        "overloaded",
        f"The server is already receiving {readers} request bodies, its limit; retry "
        "shortly. Queries by GET are not affected.",
        headers={"Retry-After": "1"},
    )


def unsupported_media_type(message: str) -> EndpointError:
    """415: a POST body of a Content-Type the protocol does not define."""
    return EndpointError(415, "unsupported_media_type", message)


def validation_failed(problems: list) -> EndpointError:
    """422: a write would break the shapes; ``problems`` is the report, as for a load (the
    first :data:`MAX_PROBLEMS` of it: a megabyte upload can break a shape on every line)."""
    n = sum(p.is_error for p in problems)
    shown = "" if len(problems) <= MAX_PROBLEMS else f" The first {MAX_PROBLEMS} are listed."
    return EndpointError(
        422,
        "validation_failed",
        f"The write was refused and nothing was changed: {n} shape violation(s) in the data "
        "graphs it touches. Each problem names the node, path and shape; fix them and retry."
        + shown,
        extra={"problems": [asdict(p) for p in sorted(problems, key=lambda p: not p.is_error)
                            [:MAX_PROBLEMS]]},
    )


def service_unavailable(message: str) -> EndpointError:
    """503: every query worker is busy; the client may retry shortly."""
    return EndpointError(503, "overloaded", message, headers={"Retry-After": "1"})


def internal_error(message: str | None = None) -> EndpointError:
    """500: the store (or our code) failed; the caller must log the cause before raising."""
    return EndpointError(
        500,
        "internal_error",
        message
        or "The server failed while answering; the fault has been logged. Try again later, "
        "and tell the operator if it keeps happening.",
    )


def as_endpoint_error(exc: HTTPException) -> EndpointError:
    """Our shape for any HTTP exception, including the ones Flask and werkzeug raise."""
    if isinstance(exc, EndpointError):
        return exc
    code = exc.code or 500
    if code == 404:
        return not_found(request.path)
    if code == 405:
        return method_not_allowed(request.method, list(getattr(exc, "valid_methods", []) or []))
    if code == 413:
        return payload_too_large(current_app.config.get("MAX_CONTENT_LENGTH"))
    if code >= 500:
        return internal_error()
    kind = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
    return EndpointError(code, kind, exc.description or exc.name or "The request failed.")


def prefers_text() -> bool:
    """True when the client ranks plain text (or HTML, as browsers do) above JSON."""
    return prefers_text_for(request.headers.get("Accept", ""))


@lru_cache(maxsize=256)
def prefers_text_for(accept: str) -> bool:
    """:func:`prefers_text` for an ``Accept`` header's value (remembered: clients repeat it)."""
    best = parse_accept_header(accept, MIMEAccept).best_match(
        [JSON_TYPE, TEXT_TYPE, HTML_TYPE], JSON_TYPE)
    return best != JSON_TYPE


def error_body(error: EndpointError, text: bool) -> tuple[bytes, str]:
    """The body and Content-Type of ``error``: JSON, or one line of text when ``text``."""
    if text:
        return f"{error.kind}: {error.message}\n".encode(), TEXT_TYPE + "; charset=utf-8"
    return json.dumps({"error": error.kind, "message": error.message, **error.extra},
                      ensure_ascii=False).encode(), JSON_TYPE


def error_response(error: EndpointError) -> Response:
    """The response for ``error``: JSON by default, one line of text when text is preferred."""
    body, content_type = error_body(error, prefers_text())
    response = Response(body, status=error.code, content_type=content_type)
    response.headers.update(error.extra_headers)
    response.vary.add("Accept")
    return response


def handle_http_exception(exc: HTTPException) -> Response:
    """The single error handler: every HTTP error, ours or Flask's, in one shape."""
    if isinstance(exc, InternalServerError) and exc.original_exception is not None:
        # Flask has already logged the traceback of an unhandled exception; say nothing of it.
        return error_response(internal_error())
    return error_response(as_endpoint_error(exc))


def init_app(app: Flask) -> None:
    """Register the handler for every HTTP error (404, 405, 413, 500 included)."""
    app.register_error_handler(HTTPException, handle_http_exception)
