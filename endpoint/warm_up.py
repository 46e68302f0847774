"""Build what is built once per commit when the server starts, not on a visitor's time.

The listing's order, the text and facet indexes, the autocompletion terms, the charts and
the comparison's subjects each read much of the store (on 100,000 practices, seconds to a
minute or two each), and the first request that needs one would wait for it
(:mod:`.per_commit`). ``practicebank serve`` calls :func:`start` once the query workers are
up: one background thread builds them in turn, logging each, while requests are served (a
request that needs a value before its turn builds it itself; the thread then finds it done).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)


def _builders() -> tuple[tuple[str, Callable[[], object]], ...]:
    """What to build, cheapest and most visited first (imported here: only serve needs it)."""
    from . import browse, charts, compare, completion, resource_pages, text_index
    from .chart_queries import CHARTS

    return (
        ("the practices' listing order", lambda: resource_pages.ordered_members(
            resource_pages.LISTED_CLASSES["id/practice/"][0], "id/practice/")),
        ("the autocompletion terms", lambda: completion.complete("a")),
        ("the full-text index", text_index.current_index),
        ("the facet index", browse.facet_index),
        ("the charts' figures", lambda: [charts.chart_data(spec) for spec in CHARTS]),
        ("the comparison's subjects", compare.subjects),
    )


def warm(app: Flask) -> None:
    """Build every value of :func:`_builders` for the current commit, in this thread."""
    with app.app_context():
        for name, build in _builders():
            started = time.monotonic()
            try:
                build()
            except Exception:  # a visitor's request will build it, and say what is wrong
                log.warning("Could not build %s at start-up", name, exc_info=True)
                continue
            log.info("Built %s in %.1f s", name, time.monotonic() - started)


EXTENSION = "practicebank.warm_up"


def start(app: Flask) -> threading.Thread:
    """:func:`warm` in a daemon thread (it never holds up the server's start or stop);
    ``/health`` says ``"warming": true`` until it is done."""
    thread = threading.Thread(target=warm, args=(app,), name="warm-up", daemon=True)
    app.extensions[EXTENSION] = thread
    thread.start()
    return thread


def warming(app: Flask) -> bool:
    """Whether the start-up builds are still running."""
    thread = app.extensions.get(EXTENSION)
    return thread is not None and thread.is_alive()
