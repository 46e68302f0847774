"""Lookups by IRI, answered in the server process: the one kind of query that cannot run away.

A worker process is what makes a deadline real (:mod:`.workers`), but the hop costs more
than a cheap query: on the 2-core benchmark machine, two process wake-ups and a pickle each
way per request cost about three times Oxigraph's own 30 µs for "the title of practice X".
Linked-data clients mostly send exactly that: one triple pattern about one subject.

Such a query is a single index scan whose work is proportional to its output, with no
filter, join, sort, aggregate or offset that could work without producing rows. So it runs
here, on the current snapshot (opened read-only in this process, counted like a worker's so
it is not deleted under us), capped at :data:`ROW_CAP` + 1 rows by a ``LIMIT`` added to its
text, and serialised by Oxigraph straight to bytes (measured: a Python file object as the
sink costs a GIL round trip per write, 15% of lookup throughput under load). Every row
takes at least one byte, so an answer of at most ``ROW_CAP`` bytes cannot have been cut
by the added limit; a longer one is dropped and the job goes to the worker pool like any
other. The work here is thus bounded by one index scan of at most ``ROW_CAP`` + 1 rows,
milliseconds at most. Anything the classifier is unsure of goes to the workers, and so does
any error (the workers then give the standard answer).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from practicebank.formats import Format
from practicebank.merged_default import open_snapshot
from practicebank.sparql_text import Token, tokenize

from .executors import Answer
from .snapshots import Generation, Snapshots

#: Terms that name one resource (a constant subject or predicate).
_CONSTANT = ("iri", "pname")
#: Longer texts are never lookups (and are not worth remembering).
MAX_LOOKUP_LENGTH = 2000
#: Rows a lookup may have and still be answered here (and bytes: see the module docstring).
ROW_CAP = 8192


def is_lookup(text: str) -> bool:
    """True for ``[PREFIX…] SELECT vars|* [WHERE] { <s> p o [.] } [LIMIT n]`` (or ``ASK``)
    with a constant subject, a constant or variable predicate and a variable or constant
    object: nothing else, not even a FILTER."""
    return lookup_shape(text) is not None


@dataclass(frozen=True)
class Shape:
    """What the in-process path needs to know of a lookup: its form and its LIMIT."""

    form: str  # SELECT or ASK
    limit: int | None


@lru_cache(maxsize=4096)  # at most 4096 texts of <= 2000 characters
def lookup_shape(text: str) -> Shape | None:
    """The :class:`Shape` of a lookup (see :func:`is_lookup`), or None for anything else."""
    if len(text) > MAX_LOOKUP_LENGTH:
        return None
    try:
        tokens = tokenize(text)
    except ValueError:
        return None
    i = _skip_prologue(tokens)
    if i >= len(tokens):
        return None
    form = tokens[i].text.upper()
    if tokens[i].is_word("SELECT"):
        i += 1
        if i < len(tokens) and tokens[i].kind == "other" and tokens[i].text == "*":
            i += 1
        else:
            start = i
            while i < len(tokens) and tokens[i].kind == "var":
                i += 1
            if i == start:
                return None
    elif tokens[i].is_word("ASK"):
        i += 1
    else:
        return None
    if i < len(tokens) and tokens[i].is_word("WHERE"):
        i += 1
    rest = [t.text if t.kind == "other" else t.kind for t in tokens[i:]]
    if rest[:1] != ["{"] or len(rest) < 5:
        return None
    subject, predicate, obj = tokens[i + 1], tokens[i + 2], tokens[i + 3]
    if subject.kind not in _CONSTANT:
        return None
    if not (predicate.kind in (*_CONSTANT, "var") or predicate.is_word("A")):
        return None
    if obj.kind not in (*_CONSTANT, "var"):
        return None
    tail = rest[4:]
    if tail[:1] == ["."]:
        tail = tail[1:]
    if tail[:1] != ["}"]:
        return None
    limit = tokens[len(tokens) - len(tail) + 1:]
    if not limit:
        return Shape(form, None)
    if (limit[0].is_word("LIMIT") and len(limit) > 1
            and all(t.kind == "other" and t.text.isdigit() for t in limit[1:])):
        return Shape(form, int("".join(t.text for t in limit[1:])))
    return None


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
                old, self._view = self._view, (generation, open_snapshot(generation.path))
                if old is not None:
                    self.snapshots.release(old[0])
            return self._view[1]

    def answer(self, query: str, fmt: Format, base_iri: str | None) -> Answer | None:
        """The answer to ``query`` (on the default dataset) in ``fmt``, if it is a lookup
        whose answer is small, else None (:func:`.sparql.answer` tries this first)."""
        shape = lookup_shape(query)
        if shape is None:
            return None
        if fmt.results_format is None:  # the HTML table is written by Python: a worker's job
            return None
        text, capped = query, False
        if shape.form == "SELECT" and (shape.limit is None or shape.limit > ROW_CAP):
            text, capped = f"{text}\nLIMIT {ROW_CAP + 1}", True  # a new line ends any comment
        try:
            data = self.view().query(text, base_iri=base_iri,
                                     use_default_graph_as_union=True
                                     ).serialize(format=fmt.results_format)
        except (SyntaxError, OSError, RuntimeError, ValueError):
            return None  # a worker answers with the standard error
        if capped and len(data) > ROW_CAP:
            self.handed_over += 1  # perhaps cut by the added LIMIT: a worker answers in full
            return None
        self.answered += 1
        return Answer(fmt.content_type, [data], len(data))

    def close(self) -> None:
        with self._lock:
            if self._view is not None:
                self.snapshots.release(self._view[0])
                self._view = None
