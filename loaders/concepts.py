"""Look up SKOS concepts by the labels people write in spreadsheets.

Real input says "Untested – new or innovative", "untested - new or innovative",
"South East (as displayed)" or "HMICFRS report (label shown in key details)". The index maps
every prefLabel, altLabel and notation of a scheme, normalised, to its concept; the cleaning
helpers strip the annotations that spreadsheets add around a value.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from practicebank.namespaces import scheme
from practicebank.resources import VOCABULARIES, bundle_graph

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_QUOTES = re.compile(r"[\u2018\u2019\u02bc`]")

#: Values that mean "nothing here": "(blank in listing)", "(n/a)", "(unknown)", …
_ABSENT = re.compile(r"^\s*(\(.*|n/?a|none|unknown|-|—)?\s*$", re.IGNORECASE)
#: A trailing annotation: "South East (as displayed)", "Smarter practice (listed as …)".
_TRAILING_NOTE = re.compile(r"\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*$")
#: Words that mark a value the source itself is unsure of.
_HEDGE = re.compile(r"^(possibly|probably|perhaps|maybe|likely)\b", re.IGNORECASE)


def normalise(label: str) -> str:
    """Case-, dash-, quote- and space-insensitive key for a label."""
    text = _QUOTES.sub("'", _DASHES.sub("-", label)).casefold()
    text = re.sub(r"\s*-\s*", " - ", text)
    return re.sub(r"\s+", " ", text).strip().rstrip(".").strip()


def is_absent(value: str | None) -> bool:
    """True for empty cells and for placeholders such as "(blank in listing)" or "(n/a)"."""
    return value is None or bool(_ABSENT.match(value))


def is_hedged(value: str) -> bool:
    """True when the value starts with "Possibly", "Probably"…: not a fact to record."""
    return bool(_HEDGE.match(value.strip()))


def clean(value: str) -> str:
    """Strip trailing parenthetical annotations and surrounding space."""
    previous = None
    while previous != value:
        previous, value = value, _TRAILING_NOTE.sub("", value).strip()
    return value


def split_values(value: str | None, separator: str = ";") -> list[str]:
    """Split a multi-valued cell ("Adults; Families") into its present values.

    Separators inside brackets do not split: "Possibly X (a; b)" is one value.
    """
    if is_absent(value):
        return []
    if "(" not in value:  # the common case, without the bracket-aware scan
        return [part.strip() for part in value.split(separator) if not is_absent(part)]
    parts, depth, current = [], 0, []
    for char in value:
        depth += (char == "(") - (char == ")")
        if char == separator and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if not is_absent(part)]


def as_values(value: str | list | tuple | None) -> list[str]:
    """The present values of a field: a CSV cell is split on ";", a JSON array is taken
    item by item (an item may itself not be split: JSON needs no separator)."""
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if not is_absent(str(item))]
    return split_values(value)


class ConceptIndex:
    """Every concept of every scheme, findable by any of its labels or its notation."""

    def __init__(self, vocabularies: Graph) -> None:
        self._index: dict[tuple[str, str], URIRef] = {}
        self._found: dict[tuple[str, str], URIRef | None] = {}
        self._labels: dict[str, list[str]] = {}
        for concept, _, scheme_iri in vocabularies.triples((None, SKOS.inScheme, None)):
            name = str(scheme_iri).rsplit("/", 1)[-1]
            for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.notation):
                for label in vocabularies.objects(concept, prop):
                    self._index.setdefault((name, normalise(str(label))), concept)
            pref = vocabularies.value(concept, SKOS.prefLabel)
            if pref is not None:
                self._labels.setdefault(name, []).append(str(pref))

    def find(self, scheme_name: str, label: str) -> URIRef | None:
        """The concept of ``scheme_name`` labelled ``label`` as written or, failing that,
        without its bracketed annotation ("Violence (other)" is a label; "South East (as
        displayed)" is not)."""
        key = (scheme_name, label)
        if key not in self._found:  # spreadsheets repeat the same few labels
            self._found[key] = self._index.get((scheme_name, normalise(label))) or \
                self._index.get((scheme_name, normalise(clean(label))))
        return self._found[key]

    def labels(self, scheme_name: str) -> list[str]:
        """The preferred labels of a scheme, for "expected one of …" messages."""
        return sorted(self._labels.get(scheme_name, []))

    def scheme(self, scheme_name: str) -> URIRef:
        return scheme(scheme_name)


@lru_cache(maxsize=1)
def bundled_index() -> ConceptIndex:
    """The index over the bundled vocabularies (built once per process)."""
    return ConceptIndex(bundle_graph(VOCABULARIES))
