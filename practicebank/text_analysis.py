"""Text into search terms, and search text into a query: one analysis for every matcher.

The full-text index (:mod:`endpoint.text_index`) and the SPARQL function ``pbf:matches``
must agree on every document, so both call :func:`terms` and :func:`parse_query` here and
nothing else decides what a word is. The analysis:

* folding: Unicode NFKD with combining marks removed, then ``casefold`` ("Café" → "cafe");
* words: runs of letters and digits (``[^\\W_]+``), so punctuation, hyphens, apostrophes and
  underscores separate words;
* stemming: Snowball English (the ``snowballstemmer`` package), so "burglaries" and
  "burglary" are one term; a document also keeps each word as written, for prefixes.

Every term is a run of lower-case letters and digits with no ASCII punctuation, which is
what lets the index hand them to SQLite FTS5's ``ascii`` tokenizer unchanged (that tokenizer
splits only on ASCII punctuation and spaces, and folds only ASCII capitals).

A query is words, all required (AND). A word ending in ``*`` is a prefix; so is the last
word when ``last_is_prefix`` (search as you type). There are no operators, columns or
phrases: quotes, parentheses, colons and the like are separators, so any text parses.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox
import snowballstemmer

from .namespaces import FUNCTION

#: The longest query text accepted (the routes refuse longer ones with 400).
MAX_QUERY_CHARS = 200
#: At most this many words in one query: each is a condition on the index.
MAX_QUERY_WORDS = 12
#: The shortest prefix (``ab*``): one letter matches nearly every document.
MIN_PREFIX = 2

_WORD = re.compile(r"[^\W_]+")
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_STEMMER = snowballstemmer.stemmer("english")
#: Stems by folded word: the stemmer is pure Python (~10 µs a word) while a store's
#: vocabulary is small, so each word is stemmed once.
_STEMS: dict[str, str] = {}
_MAX_CACHED_STEMS = 500_000


def fold(text: str) -> str:
    """Case- and accent-folded text."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.casefold()


def words(text: str) -> list[str]:
    """The folded words of ``text``, unstemmed, in order."""
    return _WORD.findall(fold(text))


def stem(word: str) -> str:
    """The Snowball English stem of one folded word; a word with a digit is its own stem
    (numbers are many, and the stemmer costs about 10 µs a word)."""
    if not word.isalpha():
        return word
    found = _STEMS.get(word)
    if found is None:
        if len(_STEMS) >= _MAX_CACHED_STEMS:
            _STEMS.clear()
        found = _STEMS[word] = _STEMMER.stemWord(word)
    return found


def terms(text: str) -> list[str]:
    """The stems of ``text``, in order (with repeats)."""
    return [stem(word) for word in words(text)]


class _IndexWords(dict):
    """Folded word -> its index text: the stem, then the word itself when it differs.
    A dictionary (filled on first sight), so a whole text is mapped by C-level calls."""

    def __missing__(self, word: str) -> str:
        if len(self) >= _MAX_CACHED_STEMS:
            self.clear()
        stemmed = stem(word)
        value = self[word] = stemmed if stemmed == word else f"{stemmed} {word}"
        return value


_INDEX_WORDS = _IndexWords()


def index_text(text: str) -> str:
    """What a document is made of, as space-separated terms: each word's stem, and the word
    as written when that differs, so a prefix reaches the words a stem has cut short
    ("organisatio*" reaches "organisations", whose stem is "organis")."""
    return " ".join(map(_INDEX_WORDS.__getitem__, words(text)))


def index_terms(text: str) -> list[str]:
    """:func:`index_text` as a list."""
    return index_text(text).split()


@dataclass(frozen=True)
class QueryTerm:
    """One required word of a query: an exact term, or a prefix that any term may start
    with. A prefix is tried both as typed and stemmed ("burglary*" reaches the term
    "burglari"), so ``starts`` holds one or two strings."""

    word: str
    exact: str | None = None
    starts: tuple[str, ...] = ()

    def matches(self, document_terms: set[str] | frozenset[str]) -> bool:
        if self.exact is not None:
            return self.exact in document_terms
        return any(term.startswith(self.starts) for term in document_terms)


def parse_query(text: str, *, last_is_prefix: bool = False) -> tuple[QueryTerm, ...]:
    """The required terms of a search text; ``ValueError`` (a short sentence for the user)
    when there is nothing to search for or the text is too long."""
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"The search text is longer than {MAX_QUERY_CHARS} characters.")
    # Stars are looked for in the folded text itself: folding may change lengths.
    folded = fold(text)
    found = list(_WORD.finditer(folded))
    chunks = [(m.group(), folded[m.end():m.end() + 1] == "*") for m in found]
    if not chunks:
        raise ValueError("The search text has no words to search for.")
    if len(chunks) > MAX_QUERY_WORDS:
        raise ValueError(f"Search for at most {MAX_QUERY_WORDS} words at once.")
    if last_is_prefix and found[-1].end() == len(folded):  # still typing the last word
        chunks[-1] = (chunks[-1][0], len(chunks[-1][0]) >= MIN_PREFIX)
    short = next((word for word, prefix in chunks if prefix and len(word) < MIN_PREFIX), None)
    if short is not None:
        raise ValueError(f"Type at least {MIN_PREFIX} letters before a * ({short}*).")
    seen: dict[QueryTerm, None] = {}
    for word, prefix in chunks:
        if prefix:
            starts = tuple(dict.fromkeys((word, stem(word))))
            seen[QueryTerm(word, starts=starts)] = None
        else:
            seen[QueryTerm(word, exact=stem(word))] = None
    return tuple(seen)


def matches(text: str | Iterable[str], query: tuple[QueryTerm, ...]) -> bool:
    """True when the terms of ``text`` (one string, or several fields) satisfy every term
    of ``query``: the meaning of ``pbf:matches`` and of a hit in the index."""
    if isinstance(text, str):
        text = (text,)
    document_terms = set(" ".join(map(index_text, text)).split())
    return all(term.matches(document_terms) for term in query)


# -- the SPARQL function ---------------------------------------------------------------------

#: ``pbf:matches(?text, "query")``: true when the literal's terms satisfy the query.
FUNCTION_NAMESPACE = str(FUNCTION)
MATCHES_FUNCTION = FUNCTION_NAMESPACE + "matches"


@lru_cache(maxsize=256)
def _parsed(text: str) -> tuple[QueryTerm, ...] | None:
    try:
        return parse_query(text)
    except ValueError:
        return None


def sparql_matches(text: object, query: object) -> ox.Literal | None:
    """``pbf:matches``: ``"true"^^xsd:boolean`` when the literal ``text`` matches the
    literal ``query``. None (an evaluation error, so a FILTER drops the row) when either is
    not a literal or the query has no words."""
    if not isinstance(text, ox.Literal) or not isinstance(query, ox.Literal):
        return None
    parsed = _parsed(query.value)
    if parsed is None:
        return None
    return ox.Literal(matches(text.value, parsed))


#: The custom functions every query evaluated on the embedded store may call.
SPARQL_FUNCTIONS = {ox.NamedNode(MATCHES_FUNCTION): sparql_matches}
