"""The fast path of linked-data documents: a plain ``GET`` or ``HEAD`` of a description
(``/id/…`` or ``/concept/…`` with an extension), or of a thing (its 303), answered without
Flask's routing, hooks and response objects.

Why it exists: measured on the 100k-practice benchmark (``bench/bench_pages.py``), a Turtle
description cost 2.1 ms of CPU in the server process, of which Flask's machinery (request
context, routing, session, before/after hooks, a werkzeug ``Response`` whose headers are
set one by one, the conditional check) was about 1 ms, all under the GIL of the one server
process; without it (and with cheaper reads behind both paths) 0.66 ms. Descriptions are
most of a linked-data server's traffic (crawlers, clients following links), so they get a
short path, as the plain query GET has (:mod:`.fast_lane`).

What it takes: ``GET``/``HEAD`` of a path of ASCII letters, digits and ``-._~`` under
``/id/`` or ``/concept/`` (no empty or dot segment), with no query string but
``incoming=N``, and no conditional or range header. Anything else, and any doubt (nothing
known about the IRI, an error of any kind), goes to the Flask app unchanged, which answers
it in full (a 404 in the format asked for, a 304 …). ``def/`` (the ontology's
documentation) and ``graph/`` (graphs' contents) always go to Flask.

How it stays the same answer: the document is made by the function the Flask view uses
(:func:`.linked_data.make_document`; :func:`.linked_data.see_other` for the 303), inside a
request context that is Flask's own minus routing and session, so ``request``, ``url_for``
and the templates see what they see under Flask; the headers come from the same functions
(:func:`.linked_data.document_headers`, :func:`.security_headers.security_headers`), in the
same order; metrics and the access log are written as Flask's hooks write them.
``tests/test_fast_pages.py`` compares the two paths answer by answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from email.utils import formatdate
from typing import Any

from flask import Flask
from flask.ctx import RequestContext
from werkzeug.exceptions import HTTPException

from . import linked_data, site_links
from .errors import EndpointError, error_body, prefers_text_for
from .metrics import EXTENSION as METRICS
from .metrics import log_access
from .runtime import EXTENSION as RUNTIME
from .security_headers import add_security_headers, security_headers
from .wsgi import ClosingBody

WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]

#: Paths the fast path takes: segments of unreserved ASCII characters, none empty and none
#: starting with a dot, under the areas whose documents are descriptions.
PATH = re.compile(r"/(?:id|concept)(?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,199}){1,8}")
#: Longest path taken (an IRI of ours is far shorter; a longer one is Flask's to refuse).
MAX_PATH = 600
#: Hosts taken (as the client or a trusted proxy named them): a name or address and a port;
#: anything else (which werkzeug would quote into ``Content-Location``) is Flask's.
HOST = re.compile(r"(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
#: Where the app may be mounted (``SCRIPT_NAME``, from a proxy's prefix).
SCRIPT = re.compile(r"(?:/[A-Za-z0-9_.~-]{1,100}){0,8}")
#: The only query string taken besides none: a page of incoming links.
QUERY = re.compile(r"incoming=[0-9]{1,3}")
#: Request headers that only the Flask view handles (conditional and range requests).
FLASK_ONLY = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
              "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE", "HTTP_RANGE")
METHODS = frozenset({"GET", "HEAD"})
STATUS = {200: "200 OK", 303: "303 SEE OTHER", 502: "502 BAD GATEWAY",
          503: "503 SERVICE UNAVAILABLE", 504: "504 GATEWAY TIMEOUT"}


class PlainContext(RequestContext):
    """Flask's request context without routing (the fast path knows what it serves) and
    with a null session (documents use none): ``request``, ``g``, ``url_for`` and
    ``render_template`` work as in the Flask view."""

    def match_request(self) -> None:
        """No routing: ``request.url_rule`` stays None (nothing here reads it)."""


class FastPages:
    """WSGI middleware in front of the Flask app (installed by ``create_app``)."""

    def __init__(self, app: Flask, fallback: WSGIApp) -> None:
        self.app = app
        self.fallback = fallback  # the next layer: the Flask app's WSGI callable, guarded

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not taken(environ, path) or self.app.extensions.get(RUNTIME) is None:
            return self.fallback(environ, start_response)
        started = time.monotonic()
        answer = self._answer(environ, path)
        if answer is None:  # Flask's to answer, in full
            return self.fallback(environ, start_response)
        code, headers, body = answer
        method = environ["REQUEST_METHOD"]
        self.app.extensions[METRICS].observe_request(method, code)  # as metrics' hook does
        start_response(STATUS[code], headers)
        if method == "HEAD":
            body = b""
        if not self.app.config.get("ACCESS_LOG", True):
            return [body]
        return ClosingBody([body], lambda: log_access(method, path, code, started, None))

    def _answer(self, environ: dict[str, Any], path: str) -> Answer | None:
        """(status, headers, body) of the request, or None when Flask should answer it (a
        404, a 4xx the view raises, a fault of ours), made in a context popped before
        Flask pushes its own."""
        stem, document = linked_data.split_extension(path[1:])
        if document is not None and (document.contents
                                     or document not in linked_data.documents_for(stem)):
            return None  # a graph's contents, or no such document: Flask's 404
        context = self._context(environ, document)
        context.push()
        try:
            if document is None:
                return see_other(environ, stem)
            query = environ.get("QUERY_STRING")
            page = linked_data.incoming_page(query[9:]) if query else 0  # "incoming=N"
            made = linked_data.make_document(stem, linked_data.public_base() + stem,
                                             document, page)
            if made is None:  # nothing known: Flask answers the 404 in the format asked for
                return None
            return 200, [("Content-Type", made.content_type),
                         ("Content-Length", str(len(made.body))),
                         *linked_data.document_headers(stem, document), ("Date", http_date()),
                         *security_headers(made.content_type)], made.body
        except EndpointError as error:
            if error.code not in STATUS:  # a 4xx: Flask explains it
                return None
            # A busy or stuck worker (503, 504): answered here, as Flask would, not made
            # again by Flask, which would wait as long a second time.
            body, content_type = error_body(
                error, prefers_text_for(environ.get("HTTP_ACCEPT", "")))
            return error.code, [("Content-Type", content_type),
                                ("Content-Length", str(len(body))),
                                *error.extra_headers.items(),
                                *security_headers(content_type)], body
        except HTTPException:  # a 4xx the view raises
            return None
        except Exception:  # a fault of ours: logged, and Flask answers in its own shape
            self.app.logger.exception("The fast path failed on %s", path)
            return None
        finally:
            context.pop()

    def _context(self, environ: dict[str, Any], document) -> RootedContext | PlainContext:
        """What the document is made in: the app context alone with this server's root,
        for a format without templates once a request has come in the same way (``Host``,
        scheme, mount point) and werkzeug has read where; else a request context."""
        if document is not None and document.format.kind != "html":
            root = site_links.known_root(self.app, environ)
            if root is not None:
                return RootedContext(self.app, root)
        context = PlainContext(self.app, environ)
        context._session = self.app.session_interface.make_null_session(self.app)
        return context


class RootedContext:
    """The app context with this server's root bound (:func:`.site_links.bind_root`):
    all that a document other than a page needs, at a tenth of a request context's cost."""

    def __init__(self, app: Flask, root: str) -> None:
        self.context, self.root = app.app_context(), root

    def push(self) -> None:
        self.context.push()
        site_links.bind_root(self.root)

    def pop(self) -> None:
        self.context.pop()


Answer = tuple[int, list[tuple[str, str]], bytes]


def see_other(environ: dict[str, Any], stem: str) -> Answer | None:
    """The thing's 303 (``Accept``-negotiated), made by the Flask view's own function and
    finished as Flask finishes it; None for an unknown thing (Flask answers the 404)."""
    response = linked_data.see_other(stem)
    if response.status_code != 303:
        return None
    add_security_headers(response)
    return 303, response.get_wsgi_headers(environ).to_wsgi_list(), response.get_data()


def taken(environ: dict[str, Any], path: str) -> bool:
    """Whether the request is one the fast path answers (see the module docstring)."""
    if environ.get("REQUEST_METHOD") not in METHODS or not path.startswith(("/id/", "/concept/")):
        return False
    query = environ.get("QUERY_STRING", "")
    return (len(path) <= MAX_PATH and PATH.fullmatch(path) is not None
            and (not query or QUERY.fullmatch(query) is not None)
            and HOST.fullmatch(environ.get("HTTP_HOST", "")) is not None
            and SCRIPT.fullmatch(environ.get("SCRIPT_NAME", "")) is not None
            and not any(header in environ for header in FLASK_ONLY))


_date: tuple[int, str] = (0, "")


def http_date() -> str:
    """The ``Date`` header werkzeug writes, made once a second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, formatdate(now, usegmt=True))
    return _date[1]
