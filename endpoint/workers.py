"""The supervised pool of query worker processes: how deadlines are really enforced.

pyoxigraph has no query timeout or cancel, and a thread cannot be stopped, so every query on
an on-disk store (except the lookups of :mod:`.lookups`, which cannot run away) runs in a
worker process that the server can kill. Each worker holds a read-only snapshot
(:mod:`.snapshots`) and answers one job at a time over a pipe, sending its serialised answer
back in chunks, which the server gathers into a :class:`Spool` before answering. The
server's request thread waits for each message with the time left before the job's
deadline; when it runs out, it SIGKILLs the worker, answers 504, and a background thread
starts a replacement. The kill also ends any remote call the query had open (the SERVICE
proxy lives in the worker), so no CPU or socket is left behind. When every worker is busy
a query waits for one until its deadline (503 then), and at most ``max_queued`` queries
wait at once (503 at once beyond that).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import select
import threading
import time
from multiprocessing.connection import Connection

from .executors import Answer, JobFailed
from .jobs import JobError, QueryJob, deadline_error
from .snapshots import Generation, Snapshots
from .spool import Spool

log = logging.getLogger("practicebank.workers")


def worker_main(conn: Connection) -> None:
    """The loop of one worker process: open the job's snapshot if needed, execute, repeat."""
    import signal

    import pyoxigraph as ox

    from .federation import ServiceProxy
    from .jobs import execute

    # Ctrl-C in a terminal reaches the whole process group; a worker is stopped by its pool.
    # (The server blocks its stop signals for a relay thread; a worker must not inherit that.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    proxy = ServiceProxy()
    store, opened = None, None
    channel = _PickleChannel(conn)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv_bytes()
        except EOFError:
            return
        path, job = pickle.loads(message)
        if path != opened:
            store = None  # close the old generation before opening the new one
            store, opened = ox.Store.read_only(path), path
        execute(store, job, channel, proxy=proxy)


def send_pickled(conn: Connection, message: object) -> None:
    """``message`` over ``conn`` as a plain pickle, in both directions (multiprocessing's own
    ``send`` goes through a ``ForkingPickler`` and a buffer per message: measurable on a
    30 µs query)."""
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


class _PickleChannel:
    """The worker's side of the pipe, as the channel :func:`~.jobs.execute` writes to."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send(self, message: tuple) -> None:
        send_pickled(self.conn, message)


class _Worker:
    def __init__(self, process, conn: Connection) -> None:
        self.process = process
        self.conn = conn
        self.generation: Generation | None = None
        # One poll object per pipe: multiprocessing's own poll() builds a selector per call,
        # which cost more than a cheap query.
        self.poller = select.poll()
        self.poller.register(conn.fileno(), select.POLLIN)

    def send(self, message: object) -> None:
        send_pickled(self.conn, message)

    def receive(self, timeout: float) -> tuple | None:
        """The worker's next message, or None when none came within ``timeout`` seconds."""
        if timeout <= 0 or not self.poller.poll(timeout * 1000):
            return None
        return pickle.loads(self.conn.recv_bytes())


class Overloaded(Exception):
    """No worker became free in time (answered 503)."""


class WorkerPool:
    """``size`` worker processes reading snapshots from ``snapshots``."""

    def __init__(self, size: int, snapshots: Snapshots, *, max_queued: int = 64) -> None:
        self.size = size
        self.snapshots = snapshots
        self.max_queued = max_queued
        self.kills = 0
        self._context = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._waiting = 0
        self._closed = False
        for _ in range(size):
            self._spawn_async()

    # -- processes -------------------------------------------------------------------------

    def _spawn_async(self) -> None:
        threading.Thread(target=self._spawn, daemon=True, name="spawn-worker").start()

    def _spawn(self) -> None:
        parent, child = self._context.Pipe(duplex=True)
        process = self._context.Process(target=worker_main, args=(child,), daemon=True,
                                        name="practicebank-query-worker")
        process.start()
        child.close()
        worker = _Worker(process, parent)
        try:
            if not parent.poll(60):
                raise EOFError("the worker did not start within 60 s")
            parent.recv()  # ("ready", pid)
        except (EOFError, OSError) as exc:
            log.error("A query worker failed to start: %s", exc)
            process.kill()
            return
        with self._cond:
            if self._closed:
                process.kill()
                return
            self._all.add(worker)
            self._idle.append(worker)
            self._cond.notify()

    def _kill(self, worker: _Worker, *, replace: bool = True) -> None:
        worker.process.kill()  # SIGKILL: a query in Rust cannot be interrupted any other way
        worker.process.join(5)
        worker.conn.close()
        self.snapshots.release(worker.generation)
        with self._cond:
            self._all.discard(worker)
            closed = self._closed
        if replace and not closed:
            self._spawn_async()

    def _checkout(self, deadline: float) -> _Worker:
        with self._cond:
            if not self._idle and self._waiting >= self.max_queued:
                raise Overloaded(f"{self._waiting} queries are already waiting for a worker")
            self._waiting += 1
            try:
                while not self._idle:
                    left = deadline - time.time()
                    if left <= 0:
                        raise Overloaded("no query worker became free before the deadline")
                    self._cond.wait(left)
                return self._idle.pop()
            finally:
                self._waiting -= 1

    def _checkin(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    # -- running a job ---------------------------------------------------------------------

    def run(self, job: QueryJob) -> Answer:
        """Run ``job`` on a worker; raises :class:`JobFailed` or :class:`Overloaded`."""
        worker = self._checkout(job.deadline)
        current = self.snapshots.current
        if worker.generation is None or worker.generation.number != current.number:
            generation = self.snapshots.acquire()
            self.snapshots.release(worker.generation)
            worker.generation = generation
        try:
            worker.send((worker.generation.path, job))
            first = self._receive(worker, job)
        except JobFailed:
            raise
        except BaseException:
            self._kill(worker)
            raise
        if first[0] == "error":
            self._checkin(worker)
            raise JobFailed(JobError(*first[1:]))
        _, content_type, data, done = first
        if done:
            self._checkin(worker)
            return Answer(content_type, [data], len(data))
        spool = self._spool(worker, job, data)
        return Answer(content_type, spool, spool.length)

    def _spool(self, worker: _Worker, job: QueryJob, first: bytes) -> Spool:
        """The rest of a large answer, gathered before anything is sent (see :class:`Spool`)."""
        spool = Spool()
        spool.write(first)
        try:
            while True:
                message = self._receive(worker, job)  # kills the worker at the deadline
                if message[0] == "data":
                    spool.write(message[1])
                elif message[0] == "end":
                    self._checkin(worker)
                    return spool.ready()
                else:  # abort: an evaluation error after the first rows
                    self._kill(worker)
                    raise JobFailed(JobError(*message[1:]))
        except BaseException:
            spool.close()
            raise

    def _receive(self, worker: _Worker, job: QueryJob) -> tuple:
        """The worker's next message, or kill it and raise the deadline's 504."""
        try:
            message = worker.receive(job.deadline - time.time())
            if message is not None:
                return message
        except (EOFError, OSError) as exc:
            log.error("A query worker died while answering: %s", exc)
            self._kill(worker)
            raise JobFailed(JobError(500, "internal_error", f"worker died: {exc}")) from exc
        self.kills += 1
        self._kill(worker)
        raise JobFailed(deadline_error(job))

    def status(self) -> dict[str, int]:
        with self._cond:
            return {"workers": len(self._all), "busy": len(self._all) - len(self._idle)}

    def wait_ready(self, timeout: float = 60) -> bool:
        """Block until every worker has started (tests and the benchmark use this)."""
        end = time.monotonic() + timeout
        with self._cond:
            while len(self._idle) < self.size:
                if not self._cond.wait(max(0.0, end - time.monotonic())):
                    return False
        return True

    def pids(self) -> list[int]:
        with self._cond:
            return [w.process.pid for w in self._all]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
        for worker in workers:
            self._kill(worker, replace=False)
