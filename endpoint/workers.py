"""The supervised pool of query worker processes: how deadlines are really enforced.

pyoxigraph has no query timeout or cancel, and a thread cannot be stopped, so every query on
an on-disk store (except the lookups of :mod:`.lookups`, which cannot run away) runs in a
worker process that the server can kill. Each worker holds a read-only snapshot
(:mod:`.snapshots`) and has a few query threads, each answering one job at a time over its
own pipe (a *slot*), sending its serialised answer back in chunks, which the server gathers
into a :class:`Spool` before answering. The server's request thread waits for each message
with the time left before the job's deadline; when it runs out, it SIGKILLs the worker,
answers 504, and a background thread starts a replacement. The kill also ends any remote
call the query had open (the SERVICE proxy lives in the worker), so no CPU or socket is left
behind, and it ends the other jobs of that worker: their request threads see their pipes
end and run them again on another worker. A worker that dies on its own is different: the
job that crashed it (named by the worker's fault handler) is never run again, so it cannot
take the standby down too; its neighbours are. When every slot is busy a query waits for one
until its deadline (503 then), and at most ``max_queued`` queries wait at once (503 at once
beyond that).
"""

from __future__ import annotations

import ctypes
import faulthandler
import logging
import multiprocessing
import os
import pickle
import re
import select
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection

from practicebank.formats import FORMATS
from practicebank.merged_default import open_snapshot

from .describe_jobs import set_page_maker
from .executors import Answer, JobFailed
from .federation import ServiceProxy
from .jobs import JobError, QueryJob, deadline_error, execute
from .query_limits import THREAD_STACK
from .snapshots import Generation, Snapshots
from .spool import Spool

log = logging.getLogger("practicebank.workers")


def worker_main(conns: list[Connection], crash_path: str | None = None,
                page_maker: Callable | None = None) -> None:
    """One worker process: a thread per pipe, each answering one job at a time on the
    snapshot the process has open (shared, so concurrent queries share its caches).
    ``page_maker`` makes HTML pages here (:mod:`.page_jobs`); without one, the server does.

    If the process crashes, Python's fault handler writes which thread it was in to
    ``crash_path``, so the pool knows which query to blame (see :meth:`WorkerPool._gone`).
    """
    import signal

    crash_file = open(crash_path, "w") if crash_path is not None else None
    if crash_file is not None:
        faulthandler.enable(file=crash_file, all_threads=True)  # names the crashed thread

    # Ctrl-C in a terminal reaches the whole process group; a worker is stopped by its pool.
    # (The server blocks its stop signals for a relay thread; a worker must not inherit that.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    proxy = ServiceProxy()
    snapshot = _OpenSnapshot()
    set_page_maker(page_maker)
    # Oxigraph parses and evaluates recursively on the thread's own stack; this one holds
    # any query under the shape limits with a wide margin (query_limits.py).
    threading.stack_size(THREAD_STACK)
    threads = [threading.Thread(target=_serve, args=(conn, snapshot, proxy, crash_file),
                                name=f"query-{k}") for k, conn in enumerate(conns)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()  # every pipe closed: the server is gone


def _serve(conn: Connection, snapshot: _OpenSnapshot, proxy, crash_file) -> None:
    """The loop of one query thread of a worker: take a job, execute it, repeat. A thread
    that fails reports itself in ``crash_file`` as the fault handler would, so the pool
    blames its query alone."""

    channel = _PickleChannel(conn)
    _alternate_signal_stack()
    conn.send(("ready", os.getpid(), threading.get_ident()))
    store = None
    try:
        while True:
            try:
                message = conn.recv_bytes()
            except (EOFError, OSError):
                return
            path, job = pickle.loads(message)
            # Held until the next job: the server keeps this job's snapshot until then too.
            store = snapshot.open(path)
            execute(store, job, channel, proxy=proxy)
    except BaseException:
        log.exception("A query thread failed")
        if crash_file is not None:
            crash_file.write(f"Current thread {threading.get_ident():#x}\n")
            crash_file.flush()
        raise
    finally:
        conn.close()  # the server sees the pipe end and replaces this process


class _StackT(ctypes.Structure):
    _fields_ = [("ss_sp", ctypes.c_void_p), ("ss_flags", ctypes.c_int),
                ("ss_size", ctypes.c_size_t)]


_ALTERNATE_STACKS: list = []  # kept alive for the life of their threads


def _alternate_signal_stack(size: int = 256 * 1024) -> None:
    """Give this thread a stack of its own for signal handlers.

    A query that overflows its thread's stack dies of SIGSEGV with no stack left to run a
    handler on; Python's fault handler only has an alternate stack on the main thread. With
    one here, it runs, and writes which thread crashed (measured: without it, nothing is
    written). Best effort: where ``sigaltstack`` is missing, a crash is just not attributed.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buffer = ctypes.create_string_buffer(size)
        stack = _StackT(ctypes.cast(buffer, ctypes.c_void_p), 0, size)
        if libc.sigaltstack(ctypes.byref(stack), None) == 0:
            _ALTERNATE_STACKS.append(buffer)
    except (OSError, AttributeError):
        pass


class _OpenSnapshot:
    """The snapshot a worker process last opened, shared by its query threads.

    One open store per process, not per thread: measured on the 100k-practice data, eight
    facet counts at once cost ~13% less CPU each in one process than spread over processes
    with their own block caches (``oxigraph serve`` gets the same saving from its threads).
    A thread asked for a newer snapshot opens it; one still answering on the old one keeps
    its own reference until its next job.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: str | None = None
        self._store = None

    def open(self, path: str):
        with self._lock:
            if path != self._path:
                self._store, self._path = None, None  # close ours before opening the next
                self._store, self._path = open_snapshot(path), path
            return self._store


def send_pickled(conn: Connection, message: object) -> None:
    """``message`` over ``conn`` as a plain pickle, in both directions (multiprocessing's own
    ``send`` goes through a ``ForkingPickler`` and a buffer per message: measurable on a
    30 µs query)."""
    conn.send_bytes(pickle.dumps(message, pickle.HIGHEST_PROTOCOL))


class _PickleChannel:
    """A query thread's side of its pipe, as the channel :func:`~.jobs.execute` writes to."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def send(self, message: tuple) -> None:
        send_pickled(self.conn, message)


class _Process:
    """One worker process and its slots (one pipe and query thread each)."""

    def __init__(self, rank: int, process) -> None:
        self.rank = rank  # spawn order: jobs go to the oldest live process with a free slot
        self.process = process
        self.slots: list[_Slot] = []
        self.lost = False  # killed (or died): its slots are never used again
        #: True when the pool killed it at another job's deadline: the other jobs it was
        #: answering are innocent, and run again.
        self.killed_for_deadline = False
        #: Where its fault handler writes, and the thread that crashed it, once read: the
        #: query of that thread is never run again; the others are.
        self.crash_path: str | None = None
        self.culprit: int | None = None
        self.culprit_read = False
        self.culprit_lock = threading.Lock()


class _Slot:
    """The server's end of one query thread of a worker process."""

    def __init__(self, owner: _Process, conn: Connection) -> None:
        self.owner = owner
        self.conn = conn
        self.generation: Generation | None = None
        self.thread: int | None = None  # the query thread's ident in its process
        # One poll object per pipe: multiprocessing's own poll() builds a selector per call,
        # which cost more than a cheap query.
        self.poller = select.poll()
        self.poller.register(conn.fileno(), select.POLLIN)

    def send(self, message: object) -> None:
        send_pickled(self.conn, message)

    def receive(self, timeout: float) -> tuple | None:
        """The thread's next message, or None when none came within ``timeout`` seconds."""
        if timeout <= 0 or not self.poller.poll(timeout * 1000):
            return None
        return pickle.loads(self.conn.recv_bytes())


#: The line of a fault handler's report that names the thread that crashed.
_CURRENT_THREAD = re.compile(r"^Current thread (0x[0-9a-fA-F]+)", re.MULTILINE)


def _remove(path: str | None) -> None:
    if path:
        try:
            os.unlink(path)
        except OSError:
            pass


class _Lost(Exception):
    """The slot's process was killed at another query's deadline: run the job again."""


def choose_slot(idle: list, spread: bool):
    """Of the free slots, the one on the oldest worker (queries share its open store and
    caches, and the others stand by warm); with ``spread``, the one on the worker with the
    most free slots, the oldest of those: a description (:mod:`.describe_jobs`) is Python
    under its worker's GIL, and eight at once on one worker made about two thirds as many
    a second as when spread over two (docs/publishing.md)."""
    if not spread:
        return min(idle, key=lambda s: s.owner.rank)
    free = Counter(s.owner for s in idle)
    return min(idle, key=lambda s: (-free[s.owner], s.owner.rank))


class Overloaded(Exception):
    """No worker became free in time (answered 503)."""


#: Content types of the formats whose documents end explicitly (:attr:`Format.closed`): a
#: copy cut short does not parse, so a large answer in one of them is passed on as the
#: worker makes it. Any other large answer is spooled whole first (see :class:`Spool`).
STREAMED = frozenset(f.content_type for f in FORMATS if f.closed)


class _Stream:
    """A large answer passed on chunk by chunk, as the worker sends it (a WSGI body).

    The status line has gone when the deadline cuts it, so the cut must show in the body: the
    document is left unclosed and a line saying why is added, so no parser takes it for a
    whole answer. If the client leaves early, the rest is read and dropped in the background
    (:func:`_drain`), within the deadline.
    """

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        self.first, self.rest = first, rest  # rest: WorkerPool._chunks
        self.finished = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        while True:  # not ``yield from``: closing this generator must not close ``rest``
            try:
                chunk = next(self.rest)
            except StopIteration:
                self.finished = True
                return
            except JobFailed as failed:  # the deadline (the worker was killed) or an error
                self.finished = True
                yield cut_notice(failed.error)
                return
            except _Lost as lost:
                self.finished = True
                yield cut_notice(JobError(500, "internal_error",
                                          f"The query worker ended while answering ({lost})."))
                return
            yield chunk

    def close(self) -> None:
        if not self.finished:
            self.finished = True
            threading.Thread(target=_drain, args=(self.rest,), daemon=True,
                             name="drain-answer").start()


def _drain(chunks: Iterator[bytes]) -> None:
    """Read the rest of an answer its client no longer wants, so the worker thread is free
    again without a kill (which would take the process's other queries down)."""
    try:
        for _ in chunks:
            pass
    except (JobFailed, _Lost):
        pass  # the deadline came first (the process was killed), or it was lost


def cut_notice(error: JobError) -> bytes:
    """What ends a streamed answer that could not be finished (after an unclosed document)."""
    return (f"\n\n[practicebank] This answer is incomplete: {error.kind} "
            f"({error.code}). {error.message}\n").encode()


class WorkerPool:
    """``size`` worker processes of ``threads`` query threads each, reading snapshots from
    ``snapshots``.

    A job goes to a free slot of the oldest live process, so one process takes the load (its
    queries share one open store) and the others stand by warm: when a deadline kill ends
    the first, the queries it was answering for other clients run again at once on the next
    (each at most :data:`ATTEMPTS` times, within its own deadline), and a replacement starts
    in the background.
    """

    ATTEMPTS = 2

    def __init__(self, size: int, snapshots: Snapshots, *, threads: int = 1,
                 max_queued: int = 64, page_maker: Callable | None = None) -> None:
        self.size = size
        self.threads = threads
        self.page_maker = page_maker  # handed to each worker (by reference, as a target is)
        self.snapshots = snapshots
        self.max_queued = max_queued
        self.kills = 0
        self.reruns = 0
        self._context = multiprocessing.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Slot] = []
        self._processes: set[_Process] = set()
        self._spawned = 0
        self._waiting = 0
        self._closed = False
        for _ in range(size):
            self._spawn_async()

    # -- processes -------------------------------------------------------------------------

    def _spawn_async(self) -> None:
        threading.Thread(target=self._spawn, daemon=True, name="spawn-worker").start()

    def _spawn(self) -> None:
        pipes = [self._context.Pipe(duplex=True) for _ in range(self.threads)]
        handle, crash_path = tempfile.mkstemp(prefix="practicebank-worker-", suffix=".crash")
        os.close(handle)
        process = self._context.Process(target=worker_main,
                                        args=([c for _, c in pipes], crash_path,
                                              self.page_maker),
                                        daemon=True, name="practicebank-query-worker")
        process.start()
        for _, child in pipes:
            child.close()
        with self._cond:
            self._spawned += 1
            owner = _Process(self._spawned, process)
        owner.crash_path = crash_path
        try:
            for parent, _ in pipes:
                if not parent.poll(60):
                    raise EOFError("the worker did not start within 60 s")
                slot = _Slot(owner, parent)
                slot.thread = parent.recv()[2]  # ("ready", pid, thread ident)
                owner.slots.append(slot)
        except (EOFError, OSError) as exc:
            log.error("A query worker failed to start: %s", exc)
            process.kill()
            _remove(crash_path)
            for parent, _ in pipes:
                parent.close()
            return
        with self._cond:
            if self._closed:
                process.kill()
                for slot in owner.slots:
                    slot.conn.close()
                return
            self._processes.add(owner)
            self._idle.extend(owner.slots)
            self._cond.notify_all()

    def _lose(self, owner: _Process) -> None:
        """Kill ``owner`` (once) and start a replacement. Its idle slots are closed here; a
        busy slot is closed by the request thread using it, which sees the pipe end."""
        with self._cond:
            if owner.lost:
                return
            owner.lost = True
            self._processes.discard(owner)
            idle = [s for s in self._idle if s.owner is owner]
            self._idle = [s for s in self._idle if s.owner is not owner]
            closed = self._closed
        owner.process.kill()  # SIGKILL: a query in Rust cannot be interrupted any other way
        owner.process.join(5)
        self._culprit(owner)  # read (and remove) its crash report, if any
        for slot in idle:
            self._close_slot(slot)
        if not closed:
            self._spawn_async()

    def _close_slot(self, slot: _Slot) -> None:
        slot.conn.close()
        self.snapshots.release(slot.generation)
        slot.generation = None

    def _checkout(self, deadline: float, spread: bool = False) -> _Slot:
        """A free slot (:func:`choose_slot`), waiting for one until ``deadline``; with
        ``spread`` (a description), none is waited for: the server makes it itself."""
        with self._cond:
            if not self._idle and spread:  # the caller makes it itself rather than wait
                raise Overloaded("every query worker is busy")
            if not self._idle and self._waiting >= self.max_queued:
                raise Overloaded(f"{self._waiting} queries are already waiting for a worker")
            self._waiting += 1
            try:
                while not self._idle:
                    if self._closed:
                        raise Overloaded("the server is stopping")
                    left = deadline - time.time()
                    if left <= 0:
                        raise Overloaded("no query worker became free before the deadline")
                    self._cond.wait(left)
                slot = choose_slot(self._idle, spread)
                self._idle.remove(slot)
                return slot
            finally:
                self._waiting -= 1

    def _checkin(self, slot: _Slot) -> None:
        with self._cond:
            if not slot.owner.lost:
                self._idle.append(slot)
                self._cond.notify()
                return
        self._close_slot(slot)

    # -- running a job ---------------------------------------------------------------------

    def run(self, job: QueryJob) -> Answer:
        """Run ``job`` on a worker; raises :class:`JobFailed` or :class:`Overloaded`."""
        for attempt in range(1, self.ATTEMPTS + 1):
            slot = self._checkout(job.deadline, spread=job.describe is not None)
            try:
                return self._run_on(slot, job)
            except _Lost as lost:
                if attempt == self.ATTEMPTS:
                    raise JobFailed(JobError(
                        500, "internal_error",
                        f"The query worker was stopped twice while answering ({lost}). "
                        "Try again in a moment.")) from lost
                with self._cond:
                    self.reruns += 1
        raise AssertionError("unreachable")

    def _run_on(self, slot: _Slot, job: QueryJob) -> Answer:
        current = self.snapshots.current
        if slot.generation is None or slot.generation.number != current.number:
            generation = self.snapshots.acquire()
            self.snapshots.release(slot.generation)
            slot.generation = generation
        try:
            try:
                slot.send((slot.generation.path, job))
            except OSError as exc:
                raise self._gone(slot, exc) from exc
            first = self._receive(slot, job)
        except (JobFailed, _Lost):
            raise
        except BaseException:
            self._lose(slot.owner)
            self._close_slot(slot)
            raise
        if first[0] == "error":
            self._checkin(slot)
            raise JobFailed(JobError(*first[1:]))
        _, content_type, data, done = first
        if done:
            self._checkin(slot)
            return Answer(content_type, [data], len(data))
        if content_type in STREAMED:
            return Answer(content_type, _Stream(data, self._chunks(slot, job)))
        spool = self._spool(slot, job, data)
        return Answer(content_type, spool, spool.length)

    def _spool(self, slot: _Slot, job: QueryJob, first: bytes) -> Spool:
        """The rest of a large answer, gathered before anything is sent (see :class:`Spool`)."""
        spool = Spool()
        spool.write(first)
        try:
            for chunk in self._chunks(slot, job):
                spool.write(chunk)
        except BaseException:
            spool.close()
            raise
        return spool.ready()

    def _chunks(self, slot: _Slot, job: QueryJob) -> Iterator[bytes]:
        """The rest of a large answer, chunk by chunk as the worker sends it; the slot is
        checked in at its end. Raises :class:`JobFailed` for an error after the first rows
        (the thread is free again), at the deadline (the worker is killed) or when the
        worker died on its own, and :class:`_Lost` if it was killed for another job."""
        while (message := self._receive(slot, job))[0] == "data":
            yield message[1]
        self._checkin(slot)
        if message[0] == "abort":
            raise JobFailed(JobError(*message[1:]))

    def _receive(self, slot: _Slot, job: QueryJob) -> tuple:
        """The next message for ``job``: at its deadline, kill the process and raise the
        504; if the process is gone, see :meth:`_gone`."""
        try:
            message = slot.receive(job.deadline - time.time())
        except (EOFError, OSError) as exc:
            raise self._gone(slot, exc) from exc
        if message is not None:
            return message
        with self._cond:
            self.kills += 1
            slot.owner.killed_for_deadline = not slot.owner.lost
        self._lose(slot.owner)
        self._close_slot(slot)
        raise JobFailed(deadline_error(job))

    def _gone(self, slot: _Slot, exc: BaseException) -> Exception:
        """The pipe of ``slot`` broke. If the pool killed its process at another job's
        deadline, the job is innocent: :class:`_Lost`, so it runs again. If the process died
        on its own (a crash, the OOM killer), any of its jobs may be the cause, and running
        it again could take the next process down with every query on it: it fails with a
        500 instead (logged, and the process replaced)."""
        owner = slot.owner
        if not owner.lost:
            log.error("A query worker died while answering: %r", exc)
            self._lose(owner)
        self._close_slot(slot)
        if owner.killed_for_deadline:
            return _Lost(f"worker process {owner.process.pid} was stopped")
        culprit = self._culprit(owner)
        if culprit is not None and culprit != slot.thread:
            return _Lost(f"worker process {owner.process.pid} crashed on another query")
        return JobFailed(JobError(
            500, "worker_crashed",
            "The query worker died while answering this query, so it was not run again (it "
            "may be what made the worker fail). If it keeps happening, simplify the query "
            "or tell the operator."))

    @staticmethod
    def _culprit(owner: _Process) -> int | None:
        """The thread that crashed ``owner``, from its fault handler's report, read once (a
        dead process's pipes end after the report is written). A process killed with
        SIGKILL, by us or the OOM killer, leaves none: then no query is known innocent."""
        with owner.culprit_lock:
            if not owner.culprit_read:
                owner.culprit_read = True
                try:
                    with open(owner.crash_path or "", encoding="utf-8",
                              errors="replace") as f:
                        found = _CURRENT_THREAD.search(f.read(1 << 16))
                except OSError:
                    found = None
                _remove(owner.crash_path)
                if found:
                    owner.culprit = int(found.group(1), 16)
                    log.error("A query worker crashed in thread %#x; that query is not run "
                              "again, the others it was answering are", owner.culprit)
            return owner.culprit

    def status(self) -> dict[str, int]:
        with self._cond:
            slots = sum(len(p.slots) for p in self._processes)
            return {"workers": len(self._processes), "threads": slots,
                    "busy": slots - len(self._idle), "kills": self.kills,
                    "reruns": self.reruns, "ready": int(len(self._processes) >= self.size)}

    def wait_ready(self, timeout: float = 60) -> bool:
        """Block until every worker has started (tests and the benchmark use this)."""
        end = time.monotonic() + timeout
        with self._cond:
            while len(self._idle) < self.size * self.threads:
                if not self._cond.wait(max(0.0, end - time.monotonic())):
                    return False
        return True

    def pids(self) -> list[int]:
        with self._cond:
            return [p.process.pid for p in self._processes]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            processes = list(self._processes)
        for owner in processes:
            self._lose(owner)
