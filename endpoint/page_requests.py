"""What the server sends a query worker to make an HTML page (:mod:`.page_jobs` makes it).

Kept apart from the making: the server and the job messages need only these plain pieces,
while the making needs the whole app, which imports the job layer.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from flask import Flask, current_app, request

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
