"""Where queries run: the answer type both executors return, and the in-process executor.

:class:`InProcessExecutor` runs a job in the server's own thread. It is the path for an
in-memory store (tests, ``create_app`` with a ready ``PracticeStore``) and, measured against
the worker pool, the "without deadline machinery" line of the benchmark. It cannot stop a
runaway query (pyoxigraph has no cancel); it only stops streaming output at the deadline.
The worker pool (:mod:`.workers`) is the real thing for a store on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from practicebank.store import PracticeStore

from .federation import ServiceProxy
from .jobs import JobError, QueryJob, execute


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

    kills = 0
    reruns = 0

    def __init__(self, store: PracticeStore, lock: RWLock) -> None:
        self.store = store
        self.lock = lock
        self.proxy = ServiceProxy()

    def run(self, job: QueryJob) -> Answer:
        channel = _Collect()
        with self.lock.reading():
            execute(self.store.ox, job, channel, proxy=self.proxy, check_deadline=True)
        first = channel.messages[0]
        if first[0] == "error":
            raise JobFailed(JobError(*first[1:]))
        if any(m[0] == "abort" for m in channel.messages):
            aborted = next(m for m in channel.messages if m[0] == "abort")
            raise JobFailed(JobError(*aborted[1:]))
        body = [first[2]] + [m[1] for m in channel.messages[1:] if m[0] == "data"]
        return Answer(first[1], body, sum(len(chunk) for chunk in body))

    def status(self) -> dict[str, int]:
        return {"workers": 0, "threads": 0, "busy": 0}

    def close(self) -> None:
        self.proxy.close()
