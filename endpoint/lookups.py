"""Lookups by IRI, answered in the server process: the one kind of query that cannot run away.

A worker process is what makes a deadline real (:mod:`.workers`), but the hop costs more
than a cheap query: on the 2-core benchmark machine, two process wake-ups and a pickle each
way per request cost about three times Oxigraph's own 30 µs for "the title of practice X".
Linked-data clients mostly send exactly that: one triple pattern about one subject.

Such a query is a single index scan whose work is proportional to its output, with no
filter, join, sort, aggregate or offset that could work without producing rows. So it runs
here, on the current snapshot (opened read-only in this process, counted like a worker's so
it is not deleted under us), with its output capped at one chunk: if the answer grows past
:data:`~.jobs.CHUNK` bytes the attempt is dropped and the job goes to the worker pool like
any other. Its cost is thus bounded by one chunk of index scan, far under any deadline, and
the deadline is still checked. Anything the classifier is unsure of goes to the workers.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import pyoxigraph as ox

from .executors import Answer, JobFailed
from .jobs import JobError, QueryJob, execute
from .snapshots import Generation, Snapshots
from .sparql_text import Token, tokenize

#: Terms that name one resource (a constant subject or predicate).
_CONSTANT = ("iri", "pname")
#: Longer texts are never lookups (and are not worth remembering).
MAX_LOOKUP_LENGTH = 2000


@lru_cache(maxsize=4096)  # at most 4096 texts of <= 2000 characters
def is_lookup(text: str) -> bool:
    """True for ``[PREFIX…] SELECT vars|* [WHERE] { <s> p o [.] } [LIMIT n]`` (or ``ASK``)
    with a constant subject, a constant or variable predicate and a variable or constant
    object: nothing else, not even a comment-free FILTER."""
    if len(text) > MAX_LOOKUP_LENGTH:
        return False
    try:
        tokens = tokenize(text)
    except ValueError:
        return False
    i = _skip_prologue(tokens)
    if i >= len(tokens):
        return False
    if tokens[i].is_word("SELECT"):
        i += 1
        if i < len(tokens) and tokens[i].kind == "other" and tokens[i].text == "*":
            i += 1
        else:
            start = i
            while i < len(tokens) and tokens[i].kind == "var":
                i += 1
            if i == start:
                return False
    elif tokens[i].is_word("ASK"):
        i += 1
    else:
        return False
    if i < len(tokens) and tokens[i].is_word("WHERE"):
        i += 1
    rest = [t.text if t.kind == "other" else t.kind for t in tokens[i:]]
    if rest[:1] != ["{"] or len(rest) < 5:
        return False
    subject, predicate, obj = tokens[i + 1], tokens[i + 2], tokens[i + 3]
    if subject.kind not in _CONSTANT:
        return False
    if not (predicate.kind in (*_CONSTANT, "var") or predicate.is_word("A")):
        return False
    if obj.kind not in (*_CONSTANT, "var"):
        return False
    tail = rest[4:]
    if tail[:1] == ["."]:
        tail = tail[1:]
    if tail[:1] != ["}"]:
        return False
    limit = tokens[len(tokens) - len(tail) + 1:]
    if not limit:
        return True
    return (limit[0].is_word("LIMIT") and len(limit) > 1
            and all(t.kind == "other" and t.text.isdigit() for t in limit[1:]))


def _skip_prologue(tokens: list[Token]) -> int:
    i = 0
    while i < len(tokens):
        if tokens[i].is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            i += 2
        elif (tokens[i].is_word("PREFIX") and i + 2 < len(tokens)
              and tokens[i + 1].kind == "pname" and tokens[i + 2].kind == "iri"):
            i += 3
        else:
            break
    return i


class _TooBig(Exception):
    """The answer outgrew one chunk: hand the job to a worker."""


class _OneChunk:
    """A channel that keeps a whole answer of one message and refuses a second."""

    def __init__(self) -> None:
        self.message: tuple | None = None
        self.overflow = False

    def send(self, message: tuple) -> None:
        if self.overflow or self.message is not None or (
                message[0] == "head" and not message[3]):
            # Raised inside pyoxigraph's serialiser, which may wrap it: the flag is the truth.
            self.overflow = True
            raise _TooBig
        self.message = message


class LookupLane:
    """Answers lookups in process on the current snapshot; None means "use the workers"."""

    def __init__(self, snapshots: Snapshots) -> None:
        self.snapshots = snapshots
        self._lock = threading.Lock()
        self._view: tuple[Generation, ox.Store] | None = None
        self.answered = 0  # lookups answered here, and those handed to the workers
        self.handed_over = 0

    def view(self) -> ox.Store:
        """The current snapshot, opened read-only here (once per generation)."""
        current = self.snapshots.current
        view = self._view
        if view is not None and view[0].number == current.number:
            return view[1]
        with self._lock:
            if self._view is None or self._view[0].number != current.number:
                generation = self.snapshots.acquire()
                old, self._view = self._view, (generation, ox.Store.read_only(generation.path))
                if old is not None:
                    self.snapshots.release(old[0])
            return self._view[1]

    def run(self, job: QueryJob) -> Answer | None:
        if job.remote is not None and job.remote.endpoints or not is_lookup(job.query):
            return None
        channel = _OneChunk()
        try:
            execute(self.view(), job, channel, check_deadline=True)
        except _TooBig:
            pass
        message = channel.message
        if channel.overflow or message is None:
            self.handed_over += 1
            return None
        self.answered += 1
        if message[0] == "error":
            raise JobFailed(JobError(*message[1:]))
        return Answer(message[1], [message[2]], len(message[2]))

    def close(self) -> None:
        with self._lock:
            if self._view is not None:
                self.snapshots.release(self._view[0])
                self._view = None
