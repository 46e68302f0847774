"""HTML pages of the data's resources, made and rendered in the query workers.

A practice page costs about 2.4 ms of Python (reads, then the template). Made in the server
process, every page held the one GIL that every request needs, so pages stopped at about
420 a second on this 2-core machine however idle the second core was
(``bench/bench_pages.py``). Descriptions in RDF already go to the query workers
(:mod:`.describe_jobs`); a page goes the same way, with what its template needs:

- **the app**: each worker builds its own copy (``create_app`` with the server's settings,
  :func:`page_settings`) on its first page, for the templates, ``url_for`` and the links;
- **the request's address** (scheme, ``Host``, mount point, path and query string:
  :data:`ENVIRON_KEYS`), so links, ``canonical`` and the pages of incoming links are those
  the server would write; the page is rendered in a request context made of them.

The worker's app has no runtime. Anything a page would ask of it (a force's crime chart
runs a query, a dataset's counts come from the server's statistics) raises
:class:`MadeInServer`, and the worker answers :data:`MADE_IN_SERVER`: the server then makes
the page itself, as it does when every worker is busy. Pages known to need the server are
not sent at all (:data:`SERVER_PAGE_STEMS`).
"""

from __future__ import annotations

import io
import logging
import pickle
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g, request

from .description_source import PAGE_SOURCE

if TYPE_CHECKING:
    from .descriptions import Source
    from .jobs import Channel
    from .linked_data import Made

log = logging.getLogger("practicebank.workers")

#: What of the request a page depends on: werkzeug's ``host_url``, ``script_root``,
#: ``path`` and ``args`` are made of these.
ENVIRON_KEYS = ("REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_NAME",
                "SERVER_PORT", "SERVER_PROTOCOL", "HTTP_HOST", "wsgi.url_scheme")
#: Pages made in the server straight away: a force's crime chart runs a query, a dataset
#: shows the server's counts (both need the runtime, which a worker has not).
SERVER_PAGE_STEMS = ("id/force/", "id/dataset/")
#: The error kind of a worker's answer when a page needs the server.
MADE_IN_SERVER = "made_in_server"
#: Settings never sent to a worker (secrets; a page needs none of them).
SECRET_WORDS = ("TOKEN", "PASSWORD", "SECRET")
#: Where the app keeps its settings as sent to workers.
SETTINGS_KEY = "practicebank.page_settings"


@dataclass(frozen=True)
class PageRequest:
    """What a worker needs to make a page besides the IRI: the resource's path, the app's
    settings (pickled once per app) and the request's address."""

    stem: str
    settings: bytes
    environ: tuple[tuple[str, str], ...]


def page_in_worker(stem: str) -> bool:
    """Whether the page of the resource at ``stem`` is sent to a worker."""
    return not stem.startswith(SERVER_PAGE_STEMS)


def page_request(stem: str) -> PageRequest:
    """The page request of the current request (server side, in a request context)."""
    environ = request.environ
    return PageRequest(stem, page_settings(current_app),
                       tuple((key, environ[key]) for key in ENVIRON_KEYS
                             if isinstance(environ.get(key), str)))


def page_settings(app: Flask) -> bytes:
    """The app's plain settings, pickled: the store object, secrets and Flask's own
    non-scalar defaults are left out (the worker's ``create_app`` sets its defaults)."""
    cached = app.extensions.get(SETTINGS_KEY)
    if cached is None:
        plain = {key: value for key, value in app.config.items()
                 if _plain(value) and key != "STORE"
                 and not any(word in key for word in SECRET_WORDS)}
        cached = app.extensions[SETTINGS_KEY] = pickle.dumps(plain)
    return cached


def _plain(value: object) -> bool:
    if isinstance(value, str | int | float | bool | type(None)):
        return True
    return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)


# -- in the worker -----------------------------------------------------------------------------


class MadeInServer(Exception):
    """The page needs what only the server has (its runtime)."""


class NoRuntime:
    """A worker app's runtime: there is none, and asking for anything says so."""

    def __getattr__(self, name: str) -> Any:
        raise MadeInServer(f"the page asks for the runtime's {name}")


_apps: dict[bytes, Flask] = {}
_apps_lock = threading.Lock()


def page_app(settings: bytes) -> Flask:
    """This worker's app for ``settings`` (built on first use; one at a time)."""
    with _apps_lock:
        app = _apps.get(settings)
        if app is None:
            from . import create_app
            from .runtime import EXTENSION

            app = create_app(pickle.loads(settings))
            app.extensions[EXTENSION] = NoRuntime()
            _apps.clear()
            _apps[settings] = app
        return app


def run_page(store_source: Source, iri: str, page: PageRequest, incoming_page: int,
             channel: Channel) -> None:
    """Make the page of ``iri`` from ``store_source`` and send it to ``channel``: one head
    message, a 404 error when nothing is known about it, or :data:`MADE_IN_SERVER` when the
    page needs the server (or failed here: the server then makes it, or explains why not)."""
    try:
        made = _render(store_source, iri, page, incoming_page)
    except MadeInServer as why:
        channel.send(("error", 409, MADE_IN_SERVER, str(why)))
        return
    except Exception:
        log.exception("A page failed in a worker: %s", iri)
        channel.send(("error", 409, MADE_IN_SERVER, "the page failed in the worker"))
        return
    if made is None:
        channel.send(("error", 404, "not_found", f"Nothing is known about {iri} here."))
        return
    channel.send(("head", made.content_type, made.body, True))


def _render(store_source: Source, iri: str, page: PageRequest,
            incoming_page: int) -> Made | None:
    """The page, made as the server makes it, in a request context of the worker's app
    with the request's address, reading ``store_source``."""
    from . import linked_data
    from .fast_pages import PlainContext

    app = page_app(page.settings)
    environ: dict[str, Any] = {"wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
                               **dict(page.environ)}
    context = PlainContext(app, environ)
    context._session = app.session_interface.make_null_session(app)
    context.push()
    try:
        setattr(g, PAGE_SOURCE, store_source)
        return linked_data.make_here(page.stem, iri, linked_data.page_document(page.stem),
                                     incoming_page)
    finally:
        context.pop()
