"""Operations: ``/metrics`` in the Prometheus text format, and one access-log line per request.

Counters live in the app (nothing global), behind a lock, and are few: requests by status,
a histogram of query time, deadline kills and reruns, worker processes and their threads
(all and busy), and the store's size (triples from the runtime's per-write cache, bytes on
disk). The access log is one JSON object per request on the ``practicebank.access`` logger,
written when the response is closed, so a streamed answer is timed to its last byte.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from bisect import bisect_left
from collections import Counter

from flask import Blueprint, Flask, Response, current_app, g, request

from .runtime import EXTENSION as RUNTIME
from .runtime import get_runtime

bp = Blueprint("metrics", __name__)
EXTENSION = "practicebank.metrics"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
access_log = logging.getLogger("practicebank.access")


class Metrics:
    """The app's counters."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.buckets = [0] * len(BUCKETS)
        self.query_count = 0
        self.query_sum = 0.0

    def observe_request(self, method: str, status: int) -> None:
        with self.lock:
            self.requests[(method, status)] += 1

    def observe_query(self, seconds: float) -> None:
        with self.lock:
            self.query_count += 1
            self.query_sum += seconds
            first = bisect_left(BUCKETS, seconds)  # cumulative: every bucket from there up
            for i in range(first, len(BUCKETS)):
                self.buckets[i] += 1

    def render(self, runtime) -> str:
        lines = [
            "# HELP practicebank_http_requests_total HTTP requests answered, by method and status.",
            "# TYPE practicebank_http_requests_total counter",
        ]
        with self.lock:
            for (method, status), count in sorted(self.requests.items()):
                lines.append(f'practicebank_http_requests_total{{method="{method}",'
                             f'status="{status}"}} {count}')
            lines += [
                "# HELP practicebank_query_duration_seconds Time to answer a query "
                "(until its first bytes).",
                "# TYPE practicebank_query_duration_seconds histogram",
            ]
            for bound, count in zip(BUCKETS, self.buckets, strict=True):
                lines.append(f'practicebank_query_duration_seconds_bucket{{le="{bound}"}} {count}')
            lines.append(f'practicebank_query_duration_seconds_bucket{{le="+Inf"}} '
                         f"{self.query_count}")
            lines.append(f"practicebank_query_duration_seconds_sum {self.query_sum:.6f}")
            lines.append(f"practicebank_query_duration_seconds_count {self.query_count}")
        if runtime is not None:
            status = runtime.executor.status()
            lane = runtime.lookups
            lookups = (lane.answered, lane.handed_over) if lane is not None else (0, 0)
            stats = runtime.stats()
            lines += [
                "# HELP practicebank_deadline_kills_total Query workers killed at a deadline.",
                "# TYPE practicebank_deadline_kills_total counter",
                f"practicebank_deadline_kills_total {status['kills']}",
                "# HELP practicebank_lookups_total Lookups by IRI answered in the server process, "
                "and those handed to the workers because their answer outgrew one chunk.",
                "# TYPE practicebank_lookups_total counter",
                f'practicebank_lookups_total{{path="in_process"}} {lookups[0]}',
                f'practicebank_lookups_total{{path="handed_over"}} {lookups[1]}',
                "# HELP practicebank_query_reruns_total Queries run again because the worker "
                "process answering them was killed for another query's deadline (or died).",
                "# TYPE practicebank_query_reruns_total counter",
                f"practicebank_query_reruns_total {status['reruns']}",
                "# HELP practicebank_workers Query worker processes.",
                "# TYPE practicebank_workers gauge",
                f'practicebank_workers {status["workers"]}',
                "# HELP practicebank_worker_threads Query threads of the worker processes "
                "(queries they can answer at once), and how many are busy.",
                "# TYPE practicebank_worker_threads gauge",
                f'practicebank_worker_threads{{state="all"}} {status["threads"]}',
                f'practicebank_worker_threads{{state="busy"}} {status["busy"]}',
                "# HELP practicebank_store_triples Triples in the store (all graphs).",
                "# TYPE practicebank_store_triples gauge",
                f"practicebank_store_triples {stats['triples']}",
                "# HELP practicebank_store_graphs Named graphs in the store.",
                "# TYPE practicebank_store_graphs gauge",
                f"practicebank_store_graphs {len(stats['graphs'])}",
                "# HELP practicebank_store_bytes Size of the store's files on disk.",
                "# TYPE practicebank_store_bytes gauge",
                f"practicebank_store_bytes {runtime.disk_bytes()}",
                "# HELP practicebank_store_writes_total Writes committed since the server started.",
                "# TYPE practicebank_store_writes_total counter",
                f"practicebank_store_writes_total {runtime.freshness.writes}",
            ]
        return "\n".join(lines) + "\n"


def get_metrics() -> Metrics:
    return current_app.extensions[EXTENSION]


@bp.get("/metrics")
def metrics() -> Response:
    """The counters in the Prometheus text exposition format (version 0.0.4)."""
    return Response(get_metrics().render(get_runtime()),
                    content_type="text/plain; version=0.0.4; charset=utf-8")


def _start() -> None:
    g.started = time.monotonic()
    g.started_wall = time.time()


def _finish(response: Response) -> Response:
    app = current_app._get_current_object()
    method, path, status = request.method, request.path, response.status_code
    started = g.get("started", time.monotonic())
    query = g.get("query_hash")
    app.extensions[EXTENSION].observe_request(method, status)
    if app.config.get("ACCESS_LOG", True):
        response.call_on_close(lambda: log_access(method, path, status, started, query))
    return response


def log_access(method: str, path: str, status: int, started: float, query: str | None) -> None:
    """The access-log line of one request, timed from ``started`` (``time.monotonic()``)."""
    access_log.info(json.dumps({
        "method": method, "path": path, "status": status,
        "duration_ms": round((time.monotonic() - started) * 1000, 2),
        "query_hash": query,
    }))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Metrics()
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


__all__ = ["RUNTIME", "get_metrics", "init_app"]
