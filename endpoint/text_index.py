"""The full-text index of practices and organisations, built once per commit.

A practice's document is its titles (``dcterms:title``), its summaries (``dcterms:abstract``)
and the names of the organisations that ran it or took part (``pb:organisation``,
``pb:partner``, and the agents of its ``prov:qualifiedAttribution`` participations); an
organisation's is its names (``skos:prefLabel``, ``skos:altLabel``, ``rdfs:label``,
``schema:alternateName``). Words become terms through :mod:`practicebank.text_analysis`,
the same analysis as the SPARQL function ``pbf:matches``, so :func:`practice_ids` and
:func:`sparql_restriction` select the same practices.

The index is SQLite FTS5 in memory (standard library), fed the analysed terms through its
``ascii`` tokenizer, which leaves them as they are; ranking is FTS5's bm25 with the title
weighted above the names and the summary. Tantivy was measured against it: see
docs/search.md for the figures and the choice. Documents are read through
:func:`~.description_source.source`, one scan per predicate, so the index builds on the
remote backend too.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from practicebank.namespaces import PREFIXES
from practicebank.text_analysis import (
    MATCHES_FUNCTION,
    QueryTerm,
    index_terms,
    index_text,
    parse_query,
)

from .description_source import source
from .per_commit import PerCommit
from .store_scan import iri_of, links, literals, members

_RDFS = PREFIXES["rdfs"]
_SKOS = PREFIXES["skos"]
_DCTERMS = PREFIXES["dcterms"]
_PB = PREFIXES["pb"]
_PROV = PREFIXES["prov"]
_SCHEMA = PREFIXES["schema"]
_ORG = PREFIXES["org"]


def _node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


PRACTICE = _node(_PB + "Practice")
#: Classes whose members are organisations (a police force is typed both ways).
ORGANISATION_CLASSES = tuple(_node(i) for i in (_PB + "Organisation", _PB + "PoliceForce",
                                                _ORG + "Organization"))
TITLE = _node(_DCTERMS + "title")
SUMMARY = _node(_DCTERMS + "abstract")
#: Practice → organisation, directly.
ORGANISATION_LINKS = tuple(_node(_PB + name) for name in ("organisation", "partner"))
ATTRIBUTION = _node(_PROV + "qualifiedAttribution")
AGENT = _node(_PROV + "agent")
#: An organisation's names, the preferred one first.
NAMES = tuple(_node(i) for i in (_SKOS + "prefLabel", _SKOS + "altLabel", _RDFS + "label",
                                 _SCHEMA + "alternateName"))
#: bm25 weights of the columns (title, summary, names).
WEIGHTS = (5.0, 1.0, 2.0)
KINDS = ("practice", "organisation")
SNIPPET_WORDS = 30


@dataclass(frozen=True)
class Document:
    """What is indexed of one practice or organisation, as the text it was written in."""

    iri: str
    kind: str
    titles: tuple[str, ...]
    summaries: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def title(self) -> str:
        return (self.titles or (self.iri.rstrip("/").rsplit("/", 1)[-1],))[0]


@dataclass(frozen=True)
class Hit:
    """One ranked result: ``score`` is bm25, higher is better."""

    iri: str
    kind: str
    title: str
    snippet: str
    score: float


def collect_documents(src) -> list[Document]:
    """The documents of every practice, then every organisation, read with one scan per
    predicate (a ``Source``: the committed snapshot, or SPARQL on a remote store)."""
    practices = list(dict.fromkeys(members(src, PRACTICE)))
    organisations = list(dict.fromkeys(o for cls in ORGANISATION_CLASSES
                                       for o in members(src, cls)))
    titles, summaries = literals(src, TITLE), literals(src, SUMMARY)
    names: dict[str, list[str]] = {}
    for predicate in NAMES:
        for subject, values in literals(src, predicate).items():
            names.setdefault(subject, []).extend(values)
    involved: dict[str, set[str]] = {}
    for predicate in ORGANISATION_LINKS:
        for subject, objects in links(src, predicate).items():
            involved.setdefault(subject, set()).update(objects)
    agents = links(src, AGENT)
    for subject, participations in links(src, ATTRIBUTION).items():
        for participation in participations:
            involved.setdefault(subject, set()).update(agents.get(participation, ()))

    documents = []
    names_of: dict[frozenset[str], tuple[str, ...]] = {frozenset(): ()}  # shared tuples
    for p in practices:
        orgs = frozenset(involved.get(p, ()))
        org_names = names_of.get(orgs)
        if org_names is None:
            org_names = names_of[orgs] = tuple(dict.fromkeys(
                n for o in sorted(orgs) for n in names.get(o, ())))
        documents.append(Document(iri_of(p), "practice", tuple(titles.get(p, ())),
                                  tuple(summaries.get(p, ())), org_names))
    for o in organisations:
        own = tuple(dict.fromkeys(names.get(o, ())))
        documents.append(Document(iri_of(o), "organisation", own[:1], (), own[1:]))
    return documents


def _fts_term(term: QueryTerm) -> str:
    """One query term in FTS5's syntax. Terms are letters and digits only (see
    text_analysis), so quoting them is all the escaping there is."""
    if term.exact is not None:
        return f'"{term.exact}"'
    return "(" + " OR ".join(f'"{start}"*' for start in term.starts) + ")"


def fts_query(query: tuple[QueryTerm, ...]) -> str:
    return " AND ".join(_fts_term(term) for term in query)


class TextIndex:
    """An FTS5 index of documents, in memory. Practices get the lower rowids, so a kind is
    a rowid range. One connection, behind a lock: a search takes milliseconds."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.documents = sorted(documents, key=lambda d: KINDS.index(d.kind))
        self.ranges = {kind: (0, -1) for kind in KINDS}
        for kind in KINDS:
            rows = [i for i, d in enumerate(self.documents) if d.kind == kind]
            if rows:
                self.ranges[kind] = (rows[0], rows[-1])
        self.lock = threading.Lock()
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        # No prefix index and no 'optimize': on 100,000 practices neither made a query
        # faster, and together they cost a third of the build (docs/search.md).
        self.db.execute("CREATE VIRTUAL TABLE docs USING fts5("
                        "title, summary, names, tokenize='ascii')")
        analysed_names: dict[tuple[str, ...], str] = {}  # practices share their names

        def names_of(document: Document) -> str:
            found = analysed_names.get(document.names)
            if found is None:
                found = analysed_names[document.names] = _analysed(document.names)
            return found

        self.db.executemany(
            "INSERT INTO docs(rowid, title, summary, names) VALUES (?, ?, ?, ?)",
            ((i, _analysed(d.titles), _analysed(d.summaries), names_of(d))
             for i, d in enumerate(self.documents)))

    def _bounds(self, kind: str | None) -> tuple[int, int]:
        if kind is None:
            return 0, len(self.documents) - 1
        return self.ranges[kind]

    def count(self, query: tuple[QueryTerm, ...], kind: str | None = None) -> int:
        low, high = self._bounds(kind)
        with self.lock:
            return self.db.execute(
                "SELECT count(*) FROM docs WHERE docs MATCH ? AND rowid BETWEEN ? AND ?",
                (fts_query(query), low, high)).fetchone()[0]

    def rows(self, query: tuple[QueryTerm, ...], kind: str | None = None) -> list[int]:
        low, high = self._bounds(kind)
        with self.lock:
            return [row for (row,) in self.db.execute(
                "SELECT rowid FROM docs WHERE docs MATCH ? AND rowid BETWEEN ? AND ?",
                (fts_query(query), low, high))]

    def ranked(self, query: tuple[QueryTerm, ...], *, limit: int, offset: int,
               kind: str | None = None) -> list[tuple[Document, float]]:
        low, high = self._bounds(kind)
        weights = ", ".join(str(w) for w in WEIGHTS)
        with self.lock:
            found = self.db.execute(
                f"SELECT rowid, bm25(docs, {weights}) AS rank FROM docs "
                "WHERE docs MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rank, rowid "
                "LIMIT ? OFFSET ?", (fts_query(query), low, high, limit, offset)).fetchall()
        return [(self.documents[row], -rank) for row, rank in found]


def _analysed(texts: Iterable[str]) -> str:
    return " ".join(map(index_text, texts))


_WORD_SPAN = re.compile(r"[^\W_]+")


def word_matches(word: str, query: tuple[QueryTerm, ...]) -> bool:
    """True when one word of a text is one the query looks for (to mark it in a snippet)."""
    found = set(index_terms(word))
    return bool(found) and any(term.matches(found) for term in query)


def snippet(document: Document, query: tuple[QueryTerm, ...]) -> str:
    """About :data:`SNIPPET_WORDS` words of the summary, from a little before its first
    word the query looks for (or its start); an organisation's other names."""
    if document.kind == "organisation" or not document.summaries:
        return "; ".join(document.names) if document.kind == "organisation" else ""
    text = document.summaries[0]
    spans = list(_WORD_SPAN.finditer(text))
    if len(spans) <= SNIPPET_WORDS:
        return text
    first = next((i for i, m in enumerate(spans) if word_matches(m.group(), query)), 0)
    start = max(0, min(first - 5, len(spans) - SNIPPET_WORDS))
    end = start + SNIPPET_WORDS
    head = "… " if start else ""
    tail = " …" if end < len(spans) else ""
    cut_from = spans[start].start() if start else 0
    cut_to = spans[end - 1].end() if end < len(spans) else len(text)
    return head + text[cut_from:cut_to] + tail


def marked(text: str, query: tuple[QueryTerm, ...]) -> list[tuple[str, bool]]:
    """``text`` as pieces, each with whether it is a word the query looks for: the page
    marks those (each piece is escaped on its own)."""
    pieces: list[tuple[str, bool]] = []
    at = 0
    for m in _WORD_SPAN.finditer(text):
        if word_matches(m.group(), query):
            if m.start() > at:
                pieces.append((text[at:m.start()], False))
            pieces.append((m.group(), True))
            at = m.end()
    if at < len(text):
        pieces.append((text[at:], False))
    return pieces


# -- the index of the current commit, and the API the other views use -----------------------

INDEXES: PerCommit[TextIndex] = PerCommit()


def current_index() -> TextIndex:
    """The index of the store as last committed (built on first use after each commit)."""
    return INDEXES.get("text", lambda: TextIndex(collect_documents(source())))


def search(q: str, limit: int = 20, offset: int = 0,
           kind: str | None = None) -> tuple[int, list[Hit]]:
    """The number of documents matching ``q`` and the ``limit`` best from ``offset``;
    ``kind`` ("practice" or "organisation") keeps one kind. ``ValueError`` for an unusable
    ``q`` or ``kind``."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of: {', '.join(KINDS)}.")
    query = parse_query(q)
    index = current_index()
    total = index.count(query, kind)
    found = index.ranked(query, limit=limit, offset=offset, kind=kind) if total else []
    return total, [Hit(d.iri, d.kind, d.title, snippet(d, query), round(score, 4))
                   for d, score in found]


def practice_ids(q: str) -> set[str]:
    """The IRIs of the practices matching ``q`` under the current commit (``ValueError``
    with a short sentence for an unusable ``q``)."""
    query = parse_query(q)
    index = current_index()
    return {index.documents[row].iri for row in index.rows(query, "practice")}


def sparql_string(text: str) -> str:
    """``text`` as a SPARQL string literal."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("\r", "\\r"))
    return f'"{escaped}"'


def sparql_restriction(q: str, var: str = "p") -> str:
    """A SPARQL group pattern keeping the practices ``?var`` that :func:`practice_ids`
    gives for ``q``, through ``pbf:matches`` (so only on this server's embedded store).

    One block per word of ``q``: a practice matches when each word is in its title, its
    summary or the name of one of its organisations, which is what the index asks. Per
    word, the matching texts are found first and the practices from them (on 100,000
    practices, four times as fast as matching one concatenated text per practice). It
    uses the prefixes pb:, dcterms:, prov:, skos:, rdfs: and schema: of
    :data:`~practicebank.namespaces.PREFIXES`; ``ValueError`` for an unusable ``q``."""
    query = parse_query(q)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise ValueError("var must be a SPARQL variable name without its '?'.")
    blocks = []
    for number, term in enumerate(query, 1):
        text, org = f"?{var}_text{number}", f"?{var}_org{number}"
        word = sparql_string(term.word + ("*" if term.exact is None else ""))
        matches = f"FILTER(<{MATCHES_FUNCTION}>({text}, {word}))"
        blocks.append(
            f"{{ SELECT DISTINCT ?{var} WHERE {{  # {word}\n"
            f"    {{ ?{var} dcterms:title|dcterms:abstract {text}\n"
            f"      {matches} }}\n"
            f"    UNION {{ {org} skos:prefLabel|skos:altLabel|rdfs:label|schema:alternateName"
            f" {text}\n"
            f"      {matches}\n"
            f"      ?{var} pb:organisation|pb:partner|prov:qualifiedAttribution/prov:agent"
            f" {org} }} }} }}")
    return "{ " + "\n  ".join(blocks) + f"\n  ?{var} a pb:Practice }}"
