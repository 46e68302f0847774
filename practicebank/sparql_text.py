"""A small SPARQL lexer, for the few places the endpoint must read or edit query text.

pyoxigraph parses and evaluates in one call and exposes no algebra, so three jobs need the
text itself: finding the endpoint of every ``SERVICE`` (the allowlist and the proxy rewrite),
adding the protocol's ``using-graph-uri``/``using-named-graph-uri`` as ``USING`` clauses
(``Store.update`` has no dataset argument), and noticing ``USING``/``WITH`` that conflict
with them. A lexer is enough for all three because it gets the one hard part right: strings,
IRIs and comments are skipped whole, so a ``SERVICE`` inside a literal is not a keyword.
Tokens keep their offsets so edits replace exact spans.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

_PN_CHARS = r"A-Za-z0-9_\-\u00B7\u00C0-\uFFFF"
_TOKEN = re.compile(
    "|".join([
        r"(?P<comment>#[^\n\r]*)",
        r"(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''"
        r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
        r"|'(?:[^'\\\n\r]|\\.)*'"
        r'|"(?:[^"\\\n\r]|\\.)*")',
        # IRIREF: its characters, and \u/\U escapes (the loop unrolled: ~5x faster)
        r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*"
        r"(?:(?:\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})[^<>\"{}|^`\\\x00-\x20]*)*>)",
        r"(?P<var>[?$][" + _PN_CHARS + r"]+)",
        r"(?P<bnode>_:[" + _PN_CHARS + r".]*)",
        r"(?P<pname>(?:[A-Za-z\u00C0-\uFFFF][" + _PN_CHARS + r".]*)?:"
        r"(?:[" + _PN_CHARS + r".:]|%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])*)",
        r"(?P<word>[A-Za-z_][A-Za-z0-9_]*)",
        r"(?P<space>\s+)",
        r"(?P<other>.)",
    ]),
    re.S,
)


@dataclass(frozen=True)
class Token:
    kind: str  # comment, string, iri, var, bnode, pname, word, space, other
    text: str
    start: int
    end: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokenize(text: str) -> list[Token]:
    """Every token of ``text`` except spaces and comments, with its offsets."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("space", "comment"):
            continue
        value = m.group()
        if kind == "pname" and value.endswith("."):  # a local name cannot end with "."
            stripped = value.rstrip(".")
            out.append(Token(kind, stripped, m.start(), m.start() + len(stripped)))
            continue
        out.append(Token(kind, value, m.start(), m.end()))
    return out


#: The kind of answer each query form gives: solutions or a boolean, or a graph.
FORM_KINDS = {"SELECT": "results", "ASK": "results", "CONSTRUCT": "rdf", "DESCRIBE": "rdf"}


@lru_cache(maxsize=4096)
def _cached_kind(text: str) -> str | None:
    return _kind(text)


def query_kind(text: str) -> str | None:
    """``"results"`` (SELECT, ASK) or ``"rdf"`` (CONSTRUCT, DESCRIBE): the first word after
    the prologue (BASE and PREFIX declarations), read without lexing the rest of the text, so
    that the answer's format can be negotiated before the query runs. None when the text
    does not start like a query (the engine then reports the syntax error)."""
    return _cached_kind(text) if len(text) <= 2000 else _kind(text)


def _kind(text: str) -> str | None:
    expect = None  # what a declaration still needs: "pname" then "iri", or "iri"
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind in ("space", "comment"):
            continue
        if expect:
            if kind != expect[0]:
                return None
            expect = expect[1:]
            continue
        if kind != "word":
            return None
        word = value.upper()
        if word == "BASE":
            expect = ("iri",)
        elif word == "PREFIX":
            expect = ("pname", "iri")
        else:
            return FORM_KINDS.get(word)
    return None


def query_hash(text: str) -> str:
    """A short stable id of a query for logs: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RemoteRef:
    """The endpoint term of one ``SERVICE`` clause or the source of one ``LOAD``, with the
    ``BASE``/``PREFIX`` declarations in force where it stands (verbatim, so the engine
    itself can resolve the term exactly as it will when it runs the text)."""

    keyword: str  # SERVICE or LOAD
    token: Token
    prolog: str
    silent: bool

    @property
    def is_variable(self) -> bool:
        return self.token.kind == "var"


class UncheckableRemote(ValueError):
    """A SERVICE or LOAD the lexer cannot read with certainty: such a request is refused."""


#: Keywords whose target must be checked. Oxigraph matches keywords without a word boundary
#: (``SERVICE:x`` is SERVICE then ``:x``), so any token that merely starts with one counts.
REMOTE_KEYWORDS = ("SERVICE", "LOAD")


def remote_refs(text: str, tokens: list[Token] | None = None) -> list[RemoteRef]:
    """Every ``SERVICE`` endpoint and ``LOAD`` source in ``text``.

    Fails closed: raises :class:`UncheckableRemote` for a token that starts like one of
    the keywords but is not the plain keyword (``SERVICE:x``, ``LOADx``), and for a keyword
    not followed by an IRI, a prefixed name or a variable.
    """
    tokens = tokenize(text) if tokens is None else tokens
    prolog: list[str] = []
    refs = []
    for i, tok in enumerate(tokens):
        if tok.kind not in ("word", "pname"):
            continue
        upper = tok.text.upper()
        if tok.is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            prolog.append(f"BASE {tokens[i + 1].text}")
        elif (tok.is_word("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
              and tokens[i + 2].kind == "iri" and tokens[i + 1].text.endswith(":")):
            prolog.append(f"PREFIX {tokens[i + 1].text} {tokens[i + 2].text}")
        elif tok.is_word(*REMOTE_KEYWORDS):
            j = i + 1
            silent = j < len(tokens) and tokens[j].is_word("SILENT")
            j += silent
            if j >= len(tokens) or tokens[j].kind not in ("iri", "pname", "var"):
                shown = tokens[j].text[:40] if j < len(tokens) else "the end of the text"
                raise UncheckableRemote(
                    f"{upper} must be followed by the endpoint's IRI, not {shown}.")
            refs.append(RemoteRef(upper, tokens[j], " ".join(prolog), silent))
        elif upper.startswith(REMOTE_KEYWORDS):
            raise UncheckableRemote(
                f"{tok.text[:40]} reads as a SERVICE or LOAD keyword run into a name; write "
                "the keyword as a word of its own, followed by a space and the endpoint IRI.")
    return refs


def replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end) span replaced; spans must not overlap."""
    out, last = [], 0
    for start, end, new in sorted(edits):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


def has_dataset_clause(text: str) -> bool:
    """True when a query names its own dataset (``FROM``/``FROM NAMED``): its default graph
    is then the one it names, never the union of the store's graphs. (pyoxigraph ignores
    ``FROM`` when asked for the union, so callers must ask.) Cheap for the many queries
    without the word: they are never lexed."""
    if "from" not in text.lower():
        return False
    try:
        return any(token.is_word("FROM") for token in tokenize(text))
    except ValueError:
        return False


def dataset_clauses(text: str) -> list[str]:
    """The ``USING``/``WITH`` keywords an update uses (they define its own dataset)."""
    return [t.text.upper() for t in tokenize(text) if t.is_word("USING", "WITH")]


def add_using(text: str, using: list[str], using_named: list[str]) -> str:
    """``text`` with ``USING <g>`` / ``USING NAMED <g>`` before the WHERE of every
    DELETE/INSERT operation: the protocol's ``using-graph-uri`` parameters as SPARQL.

    ``DELETE WHERE { P }`` takes no USING, so it becomes ``DELETE { P } USING … WHERE { P }``,
    which means the same.
    """
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    if not clause:
        return text
    tokens = tokenize(text)
    edits = []
    depth = 0
    modify = False  # inside an operation that has a DELETE or INSERT template
    for i, tok in enumerate(tokens):
        if tok.text in "{[(" and tok.kind == "other":
            depth += 1
        elif tok.text in "}])" and tok.kind == "other":
            depth -= 1
        elif depth == 0 and tok.kind == "other" and tok.text == ";":
            modify = False
        elif depth == 0 and tok.is_word("DELETE", "INSERT"):
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.is_word("DATA"):
                continue
            if tok.is_word("DELETE") and nxt is not None and nxt.is_word("WHERE"):
                try:
                    close = matching_brace(tokens, i + 2)
                except ValueError as exc:
                    raise ValueError(f"DELETE WHERE: {exc}") from exc
                group = text[tokens[i + 2].start:tokens[close].end]
                edits.append((tok.start, tokens[close].end,
                              f"DELETE {group} {clause} WHERE {group}"))
                continue
            modify = True
        elif depth == 0 and modify and tok.is_word("WHERE"):
            edits.append((tok.start, tok.start, clause + " "))
            modify = False
    return replace_spans(text, edits)


def matching_brace(tokens: list[Token], open_index: int) -> int:
    """The index of the ``}`` that closes the ``{`` at ``open_index``; ValueError when there
    is no ``{`` there or it is never closed."""
    if open_index >= len(tokens) or tokens[open_index].text != "{":
        raise ValueError("must be followed by { … }")
    depth = 0
    for j in range(open_index, len(tokens)):
        if tokens[j].kind == "other" and tokens[j].text == "{":
            depth += 1
        elif tokens[j].kind == "other" and tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced { }")
