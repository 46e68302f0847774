"""HTML pages of the data's resources, made and rendered in the query workers.

A practice page costs about 2.4 ms of Python (reads, then the template). Made in the server
process, every page held the one GIL that every request needs, so pages stopped at about
420 a second on this 2-core machine however idle the second core was
(``bench/bench_pages.py``). Descriptions in RDF already go to the query workers
(:mod:`.describe_jobs`); a page goes the same way, with what its template needs:

- **the app**: each worker builds its own copy (``create_app`` with the server's
  settings, :func:`.page_requests.page_settings`) on its first page, for the templates,
  ``url_for`` and the links;
- **the request's address** (scheme, ``Host``, mount point, path and query string:
  :data:`.page_requests.ENVIRON_KEYS`), so links, ``canonical`` and the pages of incoming
  links are those the server would write; the page is rendered in a request context made
  of them.

The worker's app has no runtime. Anything a page would ask of it (a force's crime chart
runs a query, a dataset's counts come from the server's statistics) raises
:class:`MadeInServer`, and the worker answers :data:`MADE_IN_SERVER`: the server then makes
the page itself, as it does when every worker is busy. Pages known to need the server are
not sent at all (:data:`.page_requests.SERVER_PAGE_STEMS`).

The job layer (:mod:`.describe_jobs`) cannot import this module, which needs the whole app
(the app imports the job layer): ``create_app`` puts :func:`run_page` in the app's
settings as ``PAGE_MAKER``, the pool hands it to each worker it starts, as
multiprocessing hands a process its target, and the worker registers it
(:func:`.describe_jobs.set_page_maker`).
"""

from __future__ import annotations

import io
import logging
import pickle
import sys
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask, g

from .describe_jobs import not_found
from .description_source import PAGE_SOURCE
from .page_requests import MADE_IN_SERVER, PageRequest

if TYPE_CHECKING:
    from .descriptions import Source
    from .jobs import Channel
    from .linked_data import Made

log = logging.getLogger("practicebank.workers")


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
        channel.send(not_found(iri))
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
