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
from urllib.parse import urljoin

_PN_CHARS = r"A-Za-z0-9_\-\u00B7\u00C0-\uFFFF"
_TOKEN = re.compile(
    "|".join([
        r"(?P<comment>#[^\n\r]*)",
        r"(?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''"
        r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
        r"|'(?:[^'\\\n\r]|\\.)*'"
        r'|"(?:[^"\\\n\r]|\\.)*")',
        r"(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)",
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


def query_hash(text: str) -> str:
    """A short stable id of a query for logs: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RemoteRef:
    """The endpoint term of one ``SERVICE`` clause or the source of one ``LOAD``: its token,
    and the IRI it names (``None`` when it is a variable)."""

    keyword: str  # SERVICE or LOAD
    token: Token
    iri: str | None
    silent: bool


_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape_iri(text: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


def _unescape_local(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def remote_refs(text: str, *, base_iri: str | None = None) -> list[RemoteRef]:
    """Every ``SERVICE`` endpoint and ``LOAD`` source in ``text``, resolved with the PREFIX
    and BASE declarations before it. Raises ValueError for an undeclared prefix."""
    tokens = tokenize(text)
    prefixes: dict[str, str] = {}
    base = base_iri
    refs = []
    for i, tok in enumerate(tokens):
        if tok.is_word("BASE") and i + 1 < len(tokens) and tokens[i + 1].kind == "iri":
            base = _resolve(_unescape_iri(tokens[i + 1].text[1:-1]), base)
        elif (tok.is_word("PREFIX") and i + 2 < len(tokens) and tokens[i + 1].kind == "pname"
              and tokens[i + 2].kind == "iri" and tokens[i + 1].text.endswith(":")):
            prefixes[tokens[i + 1].text[:-1]] = _resolve(
                _unescape_iri(tokens[i + 2].text[1:-1]), base)
        elif tok.is_word("SERVICE", "LOAD"):
            j = i + 1
            silent = j < len(tokens) and tokens[j].is_word("SILENT")
            j += silent
            if j >= len(tokens):
                continue  # a syntax error; the parser will say so
            term = tokens[j]
            if term.kind == "iri":
                iri = _resolve(_unescape_iri(term.text[1:-1]), base)
            elif term.kind == "pname":
                prefix, _, local = term.text.partition(":")
                if prefix not in prefixes:
                    raise ValueError(f"The prefix {prefix}: of {tok.text.upper()} {term.text} "
                                     "is not declared.")
                iri = prefixes[prefix] + _unescape_local(local)
            elif term.kind == "var":
                iri = None
            else:
                continue
            refs.append(RemoteRef(tok.text.upper(), term, iri, silent))
    return refs


def _resolve(iri: str, base: str | None) -> str:
    return urljoin(base, iri) if base else iri


def replace_spans(text: str, edits: list[tuple[int, int, str]]) -> str:
    """``text`` with each (start, end) span replaced; spans must not overlap."""
    out, last = [], 0
    for start, end, new in sorted(edits):
        out.append(text[last:start])
        out.append(new)
        last = end
    out.append(text[last:])
    return "".join(out)


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
                close = _matching_brace(tokens, i + 2)
                group = text[tokens[i + 2].start:tokens[close].end]
                edits.append((tok.start, tokens[close].end,
                              f"DELETE {group} {clause} WHERE {group}"))
                continue
            modify = True
        elif depth == 0 and modify and tok.is_word("WHERE"):
            edits.append((tok.start, tok.start, clause + " "))
            modify = False
    return replace_spans(text, edits)


def _matching_brace(tokens: list[Token], open_index: int) -> int:
    if open_index >= len(tokens) or tokens[open_index].text != "{":
        raise ValueError("DELETE WHERE must be followed by { … }")
    depth = 0
    for j in range(open_index, len(tokens)):
        if tokens[j].kind == "other" and tokens[j].text == "{":
            depth += 1
        elif tokens[j].kind == "other" and tokens[j].text == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced { } in DELETE WHERE")
