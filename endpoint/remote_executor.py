"""Queries on a remote SPARQL server: the executor of the ``sparql`` backend.

There is no worker process to kill: the query runs on the user's server. The deadline is
kept from this side instead: the client asks the server to stop at the deadline where the
server has such a parameter, stops waiting when it passes, and closes the connection (which
most servers take as the signal to stop). The answer is read as it arrives and written in
the negotiated format by the same :func:`~.jobs.execute` as every other executor, so
content negotiation, the HTML table, the error shape and the deadline's 504 are the ones
the embedded store gives. ``SERVICE`` calls the allowlist admitted are sent as written: the
remote server makes them (the local proxy that bounds each call cannot be reached from
another machine), under the query's deadline.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from practicebank.remote_store import RemoteStore
from practicebank.sparql_client import RemoteError, RemoteTimeout

from .executors import Answer, _Collect, collected
from .jobs import JobError, QueryJob, deadline_error, run_query


class _Deadlined:
    """What :func:`~.jobs.run_query` queries: the remote store, under the job's deadline."""

    def __init__(self, store: RemoteStore, deadline: float) -> None:
        self.store, self.deadline = store, deadline

    def query(self, text: str, *, base_iri=None, use_default_graph_as_union=True,
              default_graph=None, named_graphs=None):
        left = self.deadline - time.time()
        if left <= 0:
            raise TimeoutError("the deadline passed before the query was sent")
        return self.store.query(text, base_iri=base_iri, default_graph=default_graph,
                                named_graphs=named_graphs, timeout=left)


class RemoteExecutor:
    """Runs each job on the remote server from the calling request thread (answers are
    buffered, so that an error met half-way is still a clean error answer)."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self._busy = 0
        self._count = threading.Lock()

    def run(self, job: QueryJob) -> Answer:
        channel = _Collect()
        with self._count:
            self._busy += 1
        try:
            run_query(_Deadlined(self.store, job.deadline), job, job.query, channel,
                      check_deadline=True, classify=classify(job))
        finally:
            with self._count:
                self._busy -= 1
        return collected(channel)

    def status(self) -> dict[str, int]:
        return {"workers": 0, "threads": 0, "busy": self._busy, "kills": 0, "reruns": 0,
                "ready": 1}

    def wait_ready(self, timeout: float = 60) -> bool:
        return True

    def close(self) -> None:
        pass


def classify(job: QueryJob) -> Callable[[BaseException], JobError | None]:
    """The error answer for what the remote server or the connection to it did."""
    def to_error(exc: BaseException) -> JobError | None:
        if isinstance(exc, TimeoutError | RemoteTimeout):
            return deadline_error(job)
        if isinstance(exc, RemoteError):
            # 400 is the server's parser or compiler refusing the query text: the same
            # answer as the embedded store's parser gives. Any other refusal (401/403:
            # our credentials; 404: a wrong URL; 413 …) is the backend's configuration,
            # nothing the client can change in its query.
            if exc.status == 400:
                return JobError(400, "syntax_error",
                                f"The store refused the query: {exc.message}. Fix the "
                                "query and send it again.")
            return JobError(502, "backend_failed",
                            f"The store behind this endpoint failed: {exc.message}. Try "
                            "again later, and tell the operator if it keeps happening.")
        return None
    return to_error
