"""Where queries run: the executor interface, the answer type, and the in-process executor.

Three executors keep the :class:`Executor` contract: the worker pool (:mod:`.workers`, the
real thing for an embedded store on disk: deadlines enforced by killing a process), the
remote store's (:mod:`.remote_executor`: the query is sent to the SPARQL server and the wait
ends at the deadline), and :class:`InProcessExecutor`, which runs a job in the server's own
thread. It is the path for an in-memory store (tests, ``create_app`` with a ready
``PracticeStore``) and, measured against the worker pool, the "without deadline
machinery" line of the benchmark. It cannot stop a runaway query (pyoxigraph has no
cancel); it only stops streaming output at the deadline.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from practicebank.merged_default import live_view
from practicebank.store import PracticeStore

from .federation import ServiceProxy
from .jobs import JobError, QueryJob, execute


class Executor(Protocol):
    """Runs :class:`~.jobs.QueryJob` s and says how it is doing (for /metrics and /health)."""

    def run(self, job: QueryJob) -> Answer:
        """The answer to ``job``; raises :class:`JobFailed` (an error answer) or
        :class:`~.workers.Overloaded` (no room to run it now)."""

    def status(self) -> dict[str, int]:
        """``workers``, ``threads``, ``busy``, ``kills`` (deadline kills so far), ``reruns``
        (queries run again after a neighbour's kill) and ``ready`` (1 when it can take
        queries at full strength)."""

    def wait_ready(self, timeout: float = 60) -> bool:
        """Block until it can take queries at full strength (workers started)."""

    def close(self) -> None:
        ...


class JobFailed(Exception):
    """The job's answer is an error (raised before any byte of the answer was sent)."""

    def __init__(self, error: JobError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass
class Answer:
    """A successful answer: its content type, its bytes (whole, or read from a spool) and
    their length when known."""

    content_type: str
    body: Iterable[bytes]
    length: int | None = None


class RWLock:
    """Many readers or one writer: in-process queries must not see a write being validated."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def reading(self) -> Iterator[None]:
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class _Collect:
    def __init__(self) -> None:
        self.messages: list[tuple] = []

    def send(self, message: tuple) -> None:
        self.messages.append(message)


class InProcessExecutor:
    """Runs each job in the calling thread on the live store (answers are buffered)."""

    def __init__(self, store: PracticeStore, lock: RWLock) -> None:
        self.store = store
        self.lock = lock
        self.proxy = ServiceProxy()

    def run(self, job: QueryJob) -> Answer:
        channel = _Collect()
        with self.lock.reading():
            execute(live_view(self.store), job, channel, proxy=self.proxy, check_deadline=True)
        return collected(channel)

    def status(self) -> dict[str, int]:
        return {"workers": 0, "threads": 0, "busy": 0, "kills": 0, "reruns": 0, "ready": 1}

    def wait_ready(self, timeout: float = 60) -> bool:
        return True

    def close(self) -> None:
        self.proxy.close()


def collected(channel: _Collect) -> Answer:
    """The answer a job sent to ``channel``, whole; raises JobFailed for an error."""
    first = channel.messages[0]
    if first[0] == "error":
        raise JobFailed(JobError(*first[1:]))
    if any(m[0] == "abort" for m in channel.messages):
        aborted = next(m for m in channel.messages if m[0] == "abort")
        raise JobFailed(JobError(*aborted[1:]))
    body = [first[2]] + [m[1] for m in channel.messages[1:] if m[0] == "data"]
    return Answer(first[1], body, sum(len(chunk) for chunk in body))
