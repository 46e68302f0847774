"""practicebank's web endpoint: a Flask app factory and one blueprint per concern.

``create_app`` builds a fresh app each call (nothing is global), so tests get an app around
an in-memory store and the server gets one around the store on disk. Settings come from the
declared table in :mod:`practicebank.settings`: defaults, then a config file, then
``PRACTICEBANK_*`` environment variables, then the mapping passed in (the ``serve`` flags,
or a test's).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from practicebank import settings
from practicebank.store import default_store_path

from . import (
    browse,
    charts,
    dataset,
    db,
    discovery,
    dumps,
    errors,
    graph_store,
    linked_data,
    metrics,
    page_jobs,
    pages,
    protocol,
    search,
    security_headers,
    site_links,
    update,
    workbench,
)
from .bodies import BodyGuard
from .fast_lane import FastLane
from .fast_pages import FastPages

#: Request bodies above this many bytes are refused with 413 (queries are short).
DEFAULT_MAX_CONTENT_LENGTH = settings.BY_NAME["max_content_length"].default


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """A new endpoint app.

    Keys: ``STORE`` (a ready store, embedded or remote; tests pass an in-memory one),
    ``STORE_PATH`` (the on-disk store opened on first use when ``STORE`` is absent),
    ``CONFIG_FILE`` (a TOML file of settings), every setting of
    :data:`practicebank.settings.SETTINGS` by its upper-case name (``QUERY_TIMEOUT``,
    ``WRITE_TOKEN`` …), and any Flask setting.
    """
    # An explicit instance path: Flask cannot guess one for a module under the
    # ``practicebank`` namespace package when it is installed in editable mode.
    app = Flask(__name__, instance_path=os.path.join(os.path.dirname(__file__), "instance"))
    app.config.from_mapping(
        STORE_PATH=default_store_path(),
        MAX_CONTENT_LENGTH=DEFAULT_MAX_CONTENT_LENGTH,
    )
    app.config.from_prefixed_env("PRACTICEBANK")
    # PRACTICEBANK_STORE is the CLI's store *path* variable, already read by
    # default_store_path(); it must not pass for a store object.
    if "STORE" in app.config and not hasattr(app.config["STORE"], "query"):
        del app.config["STORE"]
    if config:
        app.config.from_mapping(config)
    if isinstance(app.config.get("STORE"), str | os.PathLike):  # a path given as STORE
        app.config["STORE_PATH"] = os.fspath(app.config.pop("STORE"))
    app.config.update(settings.resolve(dict(config or {}),
                                       config_file=app.config.get("CONFIG_FILE")))
    # What the query workers make HTML pages with (handed to each as it starts: page_jobs).
    app.config.setdefault("PAGE_MAKER", page_jobs.run_page)

    errors.init_app(app)
    db.init_app(app)
    metrics.init_app(app)
    security_headers.init_app(app)
    site_links.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(dataset.bp)
    app.register_blueprint(protocol.bp)
    app.register_blueprint(update.bp)
    app.register_blueprint(graph_store.bp)
    app.register_blueprint(dumps.bp)
    app.register_blueprint(linked_data.bp)
    app.register_blueprint(discovery.bp)
    app.register_blueprint(workbench.bp)
    app.register_blueprint(search.bp)
    app.register_blueprint(browse.bp)
    app.register_blueprint(charts.bp)
    # Flask reads bodies through the guard: under a deadline, a cap and a bounded number of
    # readers. The fast lane, in front, takes only GETs and never reads a body.
    app.wsgi_app = BodyGuard(app, app.wsgi_app)
    app.wsgi_app = FastPages(app, app.wsgi_app)  # so do linked-data descriptions
    app.wsgi_app = FastLane(app, app.wsgi_app)  # the plain query GET skips Flask's machinery
    if app.config["PROXY_HOPS"]:  # outermost, so every layer sees the client's scheme and host
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_prefix=hops)
    return app


__all__ = ["create_app"]
