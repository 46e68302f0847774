"""Autocompletion terms: the ontology's classes and properties and the SKOS concepts.

Built once per commit (:class:`~.per_commit.PerCommit`) from the store through
:func:`~.description_source.source`, so the terms are those of the data being queried (a
vocabulary loaded later is offered after its commit). A few hundred terms, so a lookup is a
scan of all of them, in this order:

1. labels that start with the text typed (case- and accent-insensitive), shorter first;
2. labels with a word that starts with it, shorter first;
3. the properties that lead to a concept found in 1-2: those whose range is one of the
   concept's classes (``pb:ratingValue`` for the rating "Promising") and those whose range
   is the domain of such a property (``pb:rating``), so typing a value offers the path to
   it;
4. terms whose definition (or comment) has a word that starts with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import pyoxigraph as ox

from practicebank.namespaces import PREFIXES
from practicebank.text_analysis import fold

from .description_source import source
from .per_commit import PerCommit
from .store_scan import iri_of, links, literals, members

_RDF, _RDFS, _OWL, _SKOS = (PREFIXES[name] for name in ("rdf", "rdfs", "owl", "skos"))

#: Which types make a term which kind.
KIND_OF_TYPE = {
    _OWL + "Class": "class",
    _RDFS + "Class": "class",
    _OWL + "ObjectProperty": "property",
    _OWL + "DatatypeProperty": "property",
    _OWL + "AnnotationProperty": "property",
    _RDF + "Property": "property",
    _SKOS + "Concept": "concept",
}
KINDS = ("class", "property", "concept")
#: Label properties by kind, the preferred first.
LABELS = {"class": (_RDFS + "label",), "property": (_RDFS + "label",),
          "concept": (_SKOS + "prefLabel", _SKOS + "altLabel")}
NOTES = (_SKOS + "definition", _RDFS + "comment")
MAX_LIMIT = 50
#: A PN_LOCAL that needs no escaping: what may follow ``prefix:`` as it is.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


@dataclass(frozen=True)
class Term:
    """One term offered: its IRI, the label matched, its kind, how to write it in SPARQL
    (``pb:rating``, or ``<iri>`` when no prefix fits) and a note (definition or scheme)."""

    iri: str
    label: str
    kind: str
    prefixed: str
    note: str

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Entry:
    term: Term
    folded_label: str
    folded_text: str  # the definition or comment, for tier 4
    classes: frozenset[str]  # a concept's types besides skos:Concept


def prefixed(iri: str) -> str:
    """``iri`` under the longest prefix of :data:`PREFIXES` that leaves a plain local name,
    else ``<iri>``: always a valid SPARQL term."""
    best = ""
    for name, namespace in PREFIXES.items():
        local = iri[len(namespace):]
        if (iri.startswith(namespace) and _PLAIN_LOCAL.fullmatch(local)
                and len(namespace) > len(PREFIXES.get(best, ""))):
            best = name
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else f"<{iri}>"


class Completions:
    """The terms of one commit, and the lookup over them."""

    def __init__(self, entries: Iterable[_Entry], ranges: dict[str, set[str]],
                 domains: dict[str, set[str]]) -> None:
        self.entries = list(entries)
        self.by_iri = {e.term.iri: e for e in self.entries if e.term.kind == "property"}
        self.ranges = ranges  # property -> its ranges
        self.domains = domains  # property -> its domains

    def lookup(self, text: str, *, kind: str = "any", limit: int = 10) -> list[Term]:
        typed = " ".join(fold(text).split())
        if not typed:
            return []
        starts_word = re.compile(r"(?<![^\W_])" + re.escape(typed))
        tiers: dict[str, tuple[tuple, Term]] = {}

        def offer(entry: _Entry, rank: tuple) -> None:
            if kind != "any" and entry.term.kind != kind:
                return
            known = tiers.get(entry.term.iri)
            if known is None or rank < known[0]:
                tiers[entry.term.iri] = (rank, entry.term)

        concepts = []
        for entry in self.entries:
            label = entry.folded_label
            if label.startswith(typed):
                tier = 0
            elif starts_word.search(label):
                tier = 1
            elif starts_word.search(entry.folded_text):
                offer(entry, (3, len(label), label))
                continue
            else:
                continue
            offer(entry, (tier, len(label), label))
            if entry.term.kind == "concept":
                concepts.append(entry)
        for entry, rank in self._paths_to(concepts):
            offer(entry, rank)
        ranked = sorted(tiers.values(), key=lambda item: item[0])
        return [term for _, term in ranked[:limit]]

    def _paths_to(self, concepts: list[_Entry]) -> Iterable[tuple[_Entry, tuple]]:
        """Tier 3: properties whose range is a class of a concept found, then properties
        whose range is the domain of one of those."""
        classes = {c for entry in concepts for c in entry.classes}
        if not classes:
            return
        direct = [p for p, ranges in self.ranges.items() if ranges & classes]
        holders = {d for p in direct for d in self.domains.get(p, ())}
        leading = [p for p, ranges in self.ranges.items() if ranges & holders]
        for step, properties in enumerate((direct, leading)):
            for p in properties:
                entry = self.by_iri.get(p)
                if entry is not None:
                    yield entry, (2, step, entry.folded_label)


def build(src) -> Completions:
    """The completion terms of a store, read with one scan per predicate."""
    kinds: dict[str, str] = {}
    types: dict[str, set[str]] = {}
    for type_iri, kind in KIND_OF_TYPE.items():
        for member in members(src, ox.NamedNode(type_iri)):
            kinds.setdefault(member, kind)
    # A concept's classes, for tier 3: the classes declared subclasses of skos:Concept
    # (pb:Rating, pb:Topic …) are small, where all rdf:type triples are a practice each.
    for cls, supers in links(src, ox.NamedNode(_RDFS + "subClassOf")).items():
        if f"<{_SKOS}Concept>" in supers and cls.startswith("<"):
            for member in members(src, ox.NamedNode(iri_of(cls))):
                types.setdefault(member, set()).add(iri_of(cls))
    labels = {iri: literals(src, ox.NamedNode(iri))
              for iri in {p for ps in LABELS.values() for p in ps}}
    notes = [literals(src, ox.NamedNode(iri)) for iri in NOTES]
    schemes = links(src, ox.NamedNode(_SKOS + "inScheme"))
    scheme_labels = labels[_SKOS + "prefLabel"]

    entries = []
    for node, kind in kinds.items():
        note_texts = [n for found in notes for n in found.get(node, ())[:1]]
        if kind == "concept":
            note = "; ".join(sorted({scheme_labels.get(s, [iri_of(s)])[0]
                                     for s in schemes.get(node, ())}))
        else:
            note = note_texts[0] if note_texts else ""
        term_labels = [label for p in LABELS[kind] for label in labels[p].get(node, ())]
        if not term_labels:
            term_labels = [iri_of(node).rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1]]
        classes = frozenset(types.get(node, ()))
        for label in dict.fromkeys(term_labels):
            term = Term(iri_of(node), label, kind, prefixed(iri_of(node)), note)
            entries.append(_Entry(term, " ".join(fold(label).split()),
                                  fold(" ".join(note_texts)), classes))
    ranges, domains = ({iri_of(p): {iri_of(c) for c in classes} for p, classes in
                        links(src, ox.NamedNode(_RDFS + name)).items()}
                       for name in ("range", "domain"))
    return Completions(entries, ranges, domains)


COMPLETIONS: PerCommit[Completions] = PerCommit()


def complete(text: str, *, kind: str = "any", limit: int = 10) -> list[Term]:
    """The terms offered for ``text`` under the current commit (``kind``: class, property,
    concept or any)."""
    return COMPLETIONS.get("terms", lambda: build(source())).lookup(text, kind=kind,
                                                                     limit=limit)
