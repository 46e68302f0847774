"""What a reader hands back: the RDF it produced, where each node came from, and its problems.

Converters (CSV, JSON) write triples into a :class:`TripleBuffer`, which renders them as
N-Triples at once: building an rdflib graph costs about ten times more per triple, and
N-Triples is what Oxigraph bulk-loads fastest. RDF input is not converted at all: the
:class:`Conversion` keeps the file's own bytes and format, for Oxigraph to parse.
``Conversion.graph`` still gives an rdflib graph, for small inputs (``convert``, tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import IO

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, XSD
from rdflib.term import Node

from practicebank.namespaces import GRAPH, ORG, PB, PREFIXES, SCHEMA
from practicebank.problems import Locate, Problem, default_locate

from .limits import DEFAULT_LIMITS, ReadLimits

OGL = URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")

#: Byte sequences that every blank node in a document of these formats contains.
BLANK_NODE_MARKS = {
    ox.RdfFormat.N_TRIPLES: (b"_:",),
    ox.RdfFormat.N_QUADS: (b"_:",),
    ox.RdfFormat.TURTLE: (b"_:", b"["),
    ox.RdfFormat.TRIG: (b"_:", b"["),
}


class BlankNodeSniffer:
    """A binary stream that notes whether what was read could contain a blank node, so
    that a load can skip looking for them (a full scan) when the text has none."""

    def __init__(self, stream: IO[bytes], marks: tuple[bytes, ...]) -> None:
        self._stream = stream
        self._marks = marks
        self._tail = b""
        self.seen = False

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if not self.seen and data:
            window = self._tail + data
            self.seen = any(mark in window for mark in self._marks)
            self._tail = data[-1:]
        return data

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def nt_term(term: Node) -> str:
    """One rdflib term in N-Triples syntax (rdflib's own ``n3()`` is several times slower)."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = f'"{str(term).translate(_ESCAPES)}"'
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype is not None and term.datatype != XSD.string:
            return f"{text}^^<{term.datatype}>"
        return text
    if isinstance(term, BNode):
        return f"_:{term}"
    raise TypeError(f"not an RDF term: {term!r}")


#: Where a converter running under :func:`streaming` sends its N-Triples as it goes.
_SINK: ContextVar[Callable[[bytes], object] | None] = ContextVar("triple_sink", default=None)


@contextmanager
def streaming(sink: Callable[[bytes], object]) -> Iterator[None]:
    """Make the converters run in this context write N-Triples to ``sink`` in chunks as
    they convert, instead of keeping them: a load then bulk-loads from a pipe while the
    conversion is still running, so converting and loading use both cores."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)


class TripleBuffer:
    """Triples as N-Triples lines, in the order added (duplicates are removed by the store).

    Under :func:`streaming` the lines go to the sink every ``FLUSH_EVERY`` triples (and on
    :meth:`flush`); the buffer then only counts them."""

    FLUSH_EVERY = 40_000

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._flushed = 0
        self._sink = _SINK.get()
        self.blank_nodes = False  # whether any triple has one (they need IRIs on load)

    def add(self, triple: tuple[Node, Node, Node]) -> None:
        s, p, o = triple
        if isinstance(s, BNode) or isinstance(o, BNode):
            if self._sink is not None:  # chunks are loaded apart: labels would not join up
                raise ValueError("a streaming converter must mint IRIs, not blank nodes")
            self.blank_nodes = True
        self._lines.append(f"{nt_term(s)} {nt_term(p)} {nt_term(o)} .\n")
        if self._sink is not None and len(self._lines) >= self.FLUSH_EVERY:
            self.flush()

    def extend(self, triples: Iterable[tuple[Node, Node, Node]]) -> None:
        for triple in triples:
            self.add(triple)

    def flush(self) -> None:
        """Send what is buffered to the sink (nothing to do when not streaming)."""
        if self._sink is not None and self._lines:
            self._sink("".join(self._lines).encode("utf-8"))
            self._flushed += len(self._lines)
            self._lines.clear()

    @property
    def streamed(self) -> bool:
        return self._sink is not None

    def __len__(self) -> int:
        return self._flushed + len(self._lines)

    def ntriples(self) -> bytes:
        if self._sink is not None:
            raise RuntimeError("these triples were streamed to a loader, not kept")
        return "".join(self._lines).encode("utf-8")


#: (row, column) of an input -> the location fields of a Problem (row, column, pointer…).
def json_locate(row: int | None, column: str | None) -> dict:
    """Record ``row`` (1-based) of a JSON array, as a JSON Pointer (0-based)."""
    if row is None:
        return {"column": column}
    pointer = f"/{row - 1}" + (f"/{column}" if column else "")
    return {"row": row, "column": column, "row_label": "record", "pointer": pointer}


def jsonl_locate(row: int | None, column: str | None) -> dict:
    """Line ``row`` of a JSON Lines file; the pointer is into that line's object."""
    if row is None:
        return {"column": column}
    return {"row": row, "column": column, "row_label": "line",
            "pointer": f"/{column}" if column else ""}


@dataclass(frozen=True)
class ReadContext:
    """What every reader is told about its input."""

    file: str                  # as shown in reports
    name: str                  # the file's own name, without folders or .gz (street files)
    graph_name: str            # the graph the data becomes (graph/{graph_name})
    by_lsoa: bool = False      # street-level crime: also count per LSOA
    limits: ReadLimits = DEFAULT_LIMITS  # how much of the input may be read (limits.py)


@dataclass
class Conversion:
    """The RDF a reader produced from one input, with row numbers for its nodes.

    ``rows`` maps a node (its IRI as text) to the (row or record, column or field) of the
    input it came from, so that validation can say where a shape failed.
    """

    triples: TripleBuffer = field(default_factory=TripleBuffer)
    rows: dict[str, tuple[int | None, str | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: RDF input as it is: (bytes or a binary stream, its format). None for converters.
    rdf: tuple[bytes | IO[bytes], ox.RdfFormat] | None = None
    #: How this input names places: CSV rows, JSON records or JSON Lines lines.
    locate: Locate = default_locate
    _graph: Graph | None = field(default=None, repr=False)

    def may_have_blank_nodes(self) -> bool:
        """False only when we know there are none: converters track it, and N-Triples,
        N-Quads, Turtle and TriG can only have one where "_:" or "[" occurs (see
        :class:`BlankNodeSniffer`); for other RDF input we cannot tell without parsing."""
        if self.rdf is None:
            return self.triples.blank_nodes
        seen = getattr(self.rdf[0], "seen", None)  # through any wrapper (progress bars)
        return True if seen is None else seen

    def payload(self) -> tuple[bytes | IO[bytes], ox.RdfFormat]:
        """What to bulk-load: the converted N-Triples, or the RDF file itself."""
        return self.rdf if self.rdf is not None else (self.triples.ntriples(),
                                                     ox.RdfFormat.N_TRIPLES)

    @property
    def graph(self) -> Graph:
        """The triples as an rdflib graph (parsed on first use; for small inputs only)."""
        if self._graph is None:
            data, fmt = self.payload()
            raw = data if isinstance(data, bytes) else data.read()
            g = Graph()
            for prefix, iri in PREFIXES.items():
                g.bind(prefix, iri, override=True)
            store = ox.Store()
            store.load(raw, format=fmt)
            g.parse(data=_as_triples(store), format="nt")
            self._graph = g
        return self._graph

    def add_row(self, node: Node, row: int | None, column: str | None = None) -> None:
        """Remember where ``node`` came from (the first place wins)."""
        self.rows.setdefault(str(node), (row, column))

    def describe_dataset(self, graph_name: str, title: str, source: URIRef | None = None,
                         licence: URIRef = OGL) -> None:
        """State the licence and title of the graph this conversion becomes."""
        dataset = GRAPH[graph_name]
        self.triples.add((dataset, RDF.type, DCAT.Dataset))
        self.triples.add((dataset, DCTERMS.title, Literal(title, lang="en")))
        self.triples.add((dataset, DCTERMS.license, licence))
        if source is not None:
            self.triples.add((dataset, DCTERMS.source, source))


def _as_triples(store: ox.Store) -> str:
    """Every quad of ``store`` as an N-Triples line (graph names dropped: files are merged)."""
    return "".join(f"{q.subject} {q.predicate} {q.object} .\n" for q in store)


__all__ = ["Conversion", "OGL", "ORG", "PB", "SCHEMA", "TripleBuffer", "nt_term"]
