"""The operations of a SPARQL update, read from its tokens: their kinds, the graphs each can
write, and where the data of ``INSERT DATA``/``DELETE DATA`` is.

A write needs two things from an update before running it: which graphs it can change (so
only those are compared after a run on a copy) and, for the commonest and largest updates,
``INSERT DATA``/``DELETE DATA``, the quads themselves without running anything. rdflib's
parser gave the first, at a quadratic cost in the size of the data (measured: 1,000 triples
1.5 s, 5,000 triples 67 s). The lexer of :mod:`.sparql_text` reads strings, IRIs and comments
whole, so the grammar's top level (operations, braces, ``GRAPH``, ``WITH``, ``USING``) can be
followed on its tokens in one linear pass (about 0.3 s for 1 MB). The data blocks are then
parsed by Oxigraph itself (:mod:`.write_plans`).

Anything this reader does not recognise makes it answer None ("any graph"), never a guess:
the write then compares every graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from practicebank.sparql_text import Token, tokenize

from .engine_terms import resolve_iri

DEFAULT = ox.DefaultGraph()
Graph = ox.NamedNode | ox.DefaultGraph
DATA_KINDS = ("INSERT DATA", "DELETE DATA")


@dataclass(frozen=True)
class Operation:
    """One operation of an update request."""

    kind: str  # INSERT DATA, DELETE DATA, DELETE WHERE, MODIFY, LOAD, CLEAR, DROP, CREATE…
    #: The graphs it can write, or None when any graph (a ``GRAPH ?g`` template, ALL…).
    graphs: frozenset[Graph] | None
    #: The PREFIX and BASE declarations in force, as text to put before the operation.
    prologue: str
    #: For INSERT DATA/DELETE DATA: the span of ``{ … }`` in the text.
    body: tuple[int, int] | None = None
    #: For DELETE WHERE and MODIFY: the text of its parts, each ``{ … }`` with its braces:
    #: "delete", "insert", "where", "with" (an IRI term) and "from" (its ``USING [NAMED]``
    #: clauses as FROM clauses); for CREATE, ADD, COPY and MOVE, "read": the graph it reads
    #: beside those it writes. What evaluating it elsewhere needs (:mod:`.remote_updates`).
    parts: dict[str, str] = field(default_factory=dict, compare=False)


class _Unknown(Exception):
    """The text is not an update this reader follows."""


def read_operations(text: str, *, base_iri: str | None = None) -> list[Operation] | None:
    """The operations of ``text``, or None when its structure is not recognised (including
    syntax errors: Oxigraph names those when the update is run)."""
    try:
        return _Reader(text, base_iri).operations()
    except (_Unknown, IndexError, ValueError):
        return None


def touched_graphs(update: str, *, base_iri: str | None = None) -> set[Graph] | None:
    """The graphs ``update`` can write to, or None when that cannot be known statically."""
    return graphs_of(read_operations(update, base_iri=base_iri))


def graphs_of(operations: list[Operation] | None) -> set[Graph] | None:
    """The graphs ``operations`` can write to, or None for any graph."""
    if operations is None:
        return None
    found: set[Graph] = set()
    for op in operations:
        if op.graphs is None:
            return None
        found |= op.graphs
    return found


class _Reader:
    """A one-pass reader of an update's tokens (the SPARQL 1.1 Update grammar's top level)."""

    def __init__(self, text: str, base_iri: str | None) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.base = base_iri  # the request's; BASE declarations are in the prologue text
        self.declarations: list[str] = []
        self.prologue_text = ""  # the declarations joined, rebuilt only when they change

    # -- tokens ------------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise _Unknown("unexpected end")
        self.i += 1
        return token

    def accept(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.is_word(*words):
            self.i += 1
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise _Unknown(f"expected {' or '.join(words)}")

    def symbol(self, char: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "other" and token.text == char

    def term(self, token: Token) -> ox.NamedNode | None:
        """The IRI a token names, as Oxigraph reads it with the declarations so far (see
        :mod:`.engine_terms`), or None for a variable (any graph)."""
        if token.kind == "var":
            return None
        if token.kind not in ("iri", "pname"):
            raise _Unknown(f"not a graph name: {token.text}")
        try:
            return ox.NamedNode(resolve_iri(token.text, self.prologue_text, base_iri=self.base))
        except ValueError as exc:
            raise _Unknown(str(exc)) from exc

    def group(self) -> tuple[int, int]:
        """Skip ``{ … }`` from the current token; its first and last token indexes."""
        if not self.symbol("{"):
            raise _Unknown("expected {")
        start, depth = self.i, 0
        while True:
            token = self.next()
            if token.kind == "other" and token.text == "{":
                depth += 1
            elif token.kind == "other" and token.text == "}":
                depth -= 1
                if depth == 0:
                    return start, self.i - 1

    # -- the grammar -------------------------------------------------------------------------

    def operations(self) -> list[Operation]:
        found = []
        while True:
            self.prologue()
            if self.peek() is None:
                return found
            found.append(self.operation())
            if self.peek() is None:
                return found
            if not self.symbol(";"):
                raise _Unknown("expected ;")
            self.i += 1

    def prologue(self) -> None:
        count = len(self.declarations)
        self.read_declarations()
        if len(self.declarations) != count:
            self.prologue_text = "\n".join(self.declarations) + "\n"

    def read_declarations(self) -> None:
        while True:
            token = self.peek()
            if token is not None and token.is_word("BASE"):
                iri = self.tokens[self.i + 1]
                if iri.kind != "iri":
                    raise _Unknown("BASE needs an IRI")
                self.declarations.append(self.text[token.start:iri.end])
                self.i += 2
            elif token is not None and token.is_word("PREFIX"):
                name, iri = self.tokens[self.i + 1], self.tokens[self.i + 2]
                if name.kind != "pname" or not name.text.endswith(":") or iri.kind != "iri":
                    raise _Unknown("PREFIX needs a name and an IRI")
                self.declarations.append(self.text[token.start:iri.end])
                self.i += 3
            else:
                return

    def operation(self) -> Operation:
        prologue = self.prologue_text
        first, second = self.peek(), self.peek(1)
        if first.is_word("INSERT", "DELETE") and second is not None and second.is_word("DATA"):
            self.i += 2
            start, end = self.group()
            graphs = self.quad_graphs(start, end, DEFAULT)
            span = (self.tokens[start].start, self.tokens[end].end)
            return Operation(f"{first.text.upper()} DATA", graphs, prologue, span)
        if first.is_word("DELETE") and second is not None and second.is_word("WHERE"):
            self.i += 2
            start, end = self.group()
            pattern = self.span_text(start, end)
            return Operation("DELETE WHERE", self.quad_graphs(start, end, DEFAULT), prologue,
                             parts={"delete": pattern, "where": pattern})
        if first.is_word("WITH", "DELETE", "INSERT"):
            parts: dict[str, str] = {}
            return Operation("MODIFY", self.modify(parts), prologue, parts=parts)
        kind = self.next().text.upper()
        self.accept("SILENT")
        if kind == "LOAD":
            self.next()  # the source IRI
            target: Graph | None = DEFAULT
            if self.accept("INTO"):
                self.expect("GRAPH")
                target = self.term(self.next())
            return Operation(kind, None if target is None else frozenset({target}), prologue)
        if kind in ("CLEAR", "DROP"):
            return Operation(kind, self.graph_ref(), prologue)
        if kind == "CREATE":
            self.expect("GRAPH")
            created = self.term(self.next())
            return Operation(kind, frozenset(), prologue, parts={"read": str(created)})
        if kind in ("ADD", "COPY", "MOVE"):
            source = self.graph_or_default()
            self.expect("TO")
            target = self.graph_or_default()
            found = {target, source} if kind == "MOVE" else {target}
            return Operation(kind, None if None in found else frozenset(found), prologue,
                             parts={"read": "" if source is None else str(source)})
        raise _Unknown(f"unknown operation {kind}")

    def modify(self, parts: dict[str, str]) -> frozenset[Graph] | None:
        default: Graph = DEFAULT
        if self.accept("WITH"):
            default = self.term(self.next())
            if default is None:
                raise _Unknown("WITH needs an IRI")
            parts["with"] = str(default)
        graphs: set[Graph] = set()
        unknown = False
        for word in ("DELETE", "INSERT"):
            if self.accept(word):
                start, end = self.group()
                parts[word.lower()] = self.span_text(start, end)
                found = self.quad_graphs(start, end, default)
                unknown |= found is None
                graphs |= found or set()
        using = []
        while self.accept("USING"):
            named = self.accept("NAMED")
            iri = self.term(self.next())
            if iri is None:
                raise _Unknown("USING needs an IRI")
            using.append(f"{'FROM NAMED' if named else 'FROM'} {iri}")
        parts["from"] = "\n".join(using)
        self.expect("WHERE")
        parts["where"] = self.span_text(*self.group())
        return None if unknown else frozenset(graphs)

    def span_text(self, start: int, end: int) -> str:
        """The text from token ``start`` to token ``end``, both included."""
        return self.text[self.tokens[start].start:self.tokens[end].end]

    def graph_ref(self) -> frozenset[Graph] | None:
        if self.accept("GRAPH"):
            return frozenset({self.term(self.next())})
        if self.accept("DEFAULT"):
            return frozenset({DEFAULT})
        self.expect("NAMED", "ALL")
        return None

    def graph_or_default(self) -> Graph | None:
        if self.accept("DEFAULT"):
            return DEFAULT
        self.accept("GRAPH")
        return self.term(self.next())

    def quad_graphs(self, start: int, end: int, default: Graph) -> frozenset[Graph] | None:
        """The graphs the quads between tokens ``start`` (``{``) and ``end`` (``}``) go to:
        each ``GRAPH g { … }``, and ``default`` if any triple stands outside one."""
        found: set[Graph] = set()
        j = start + 1
        while j < end:
            token = self.tokens[j]
            if token.is_word("GRAPH"):
                graph = self.term(self.tokens[j + 1])
                if graph is None:
                    return None
                found.add(graph)
                self.i, saved = j + 2, self.i
                _, close = self.group()
                self.i = saved
                j = close + 1
            else:
                if not (token.kind == "other" and token.text == "."):
                    found.add(default)
                j += 1
        return frozenset(found)
