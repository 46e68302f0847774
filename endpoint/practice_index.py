"""Which practices are on which topics, of which intervention type, rated what: read for
the evidence comparison (/compare) by scanning one predicate at a time, once per commit.

A comparison needs each practice's current rating beside its topics; on 100,000 practices a
SPARQL join of the two, with the "not superseded" test, takes half a minute or more, while
a scan per predicate of the committed store's indexes (the approach of
resource_pages.build_order) reads each fact once. The subjects of pb:topic and
pb:interventionType are practices by those properties' domain.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from practicebank.namespaces import BASE

from . import store_scan
from .description_source import source
from .per_commit import PerCommit
from .store_scan import iri_of

PB = BASE + "def/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV_DERIVED = "http://www.w3.org/ns/prov#wasDerivedFrom"
DOES_IT_WORK = ox.NamedNode(BASE + "concept/does-it-work")


def node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


@dataclass(frozen=True)
class Rating:
    iri: str
    label: str
    order: int


NOT_RATED = Rating("", "Not rated", 99)


@dataclass
class PracticeIndex:
    """Facts about every practice, as sets and maps of IRIs (strings)."""

    topics: dict[str, set[str]] = field(default_factory=dict)  # practice -> topics
    intervention_types: dict[str, set[str]] = field(default_factory=dict)
    ratings: dict[str, set[Rating]] = field(default_factory=dict)  # current, does-it-work
    assessments: dict[tuple[str, str], str] = field(default_factory=dict)  # (p, rating) -> a

    def current(self, practice: str) -> set[Rating]:
        return self.ratings.get(practice) or {NOT_RATED}


INDEX: PerCommit[PracticeIndex] = PerCommit()


def practice_index() -> PracticeIndex:
    return INDEX.get("practices", lambda: build_index(source()))


def pairs(src, predicate: str, subjects: set[str] | None = None) -> Iterable[tuple[str, str]]:
    """(subject, object) IRIs of every ``predicate`` triple (once each, whatever the graph),
    read as :mod:`.store_scan` reads them (Oxigraph's TSV: half the time of term objects)."""
    seen = set()
    for subject, obj in store_scan.pairs(src, node(predicate)):
        if subject.startswith("<") and obj.startswith("<"):
            pair = (iri_of(subject), iri_of(obj))
            if pair not in seen and (subjects is None or pair[0] in subjects):
                seen.add(pair)
                yield pair


def first_literal(src, subject: str, predicate: str, languages=("en", None)) -> str | None:
    """The subject's ``predicate`` literal, English or untagged first."""
    found = [q.object for q in src.quads(node(subject), node(predicate), None, 16)
             if isinstance(q.object, ox.Literal)]
    for language in languages:
        for literal in sorted(found, key=lambda lit: lit.value):
            if literal.language == language:
                return literal.value
    return None


def typed(src, cls: str) -> set[str]:
    """IRIs of the instances of ``cls``."""
    return {iri_of(key) for key in store_scan.members(src, node(cls))}


def narrower_closure(src, topics: set[str]) -> dict[str, set[str]]:
    """Topic -> itself and every topic under it (skos:broader, any depth)."""
    children: dict[str, set[str]] = {}
    for child, parent in pairs(src, SKOS + "broader"):
        if child in topics and parent in topics:
            children.setdefault(parent, set()).add(child)
    closure = {}
    for topic in topics:
        found, todo = {topic}, [topic]
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in found:
                    found.add(child)
                    todo.append(child)
        closure[topic] = found
    return closure


def build_index(src) -> PracticeIndex:
    index = PracticeIndex()
    for predicate, target in (("topic", index.topics),
                              ("interventionType", index.intervention_types)):
        for practice, value in pairs(src, PB + predicate):
            target.setdefault(practice, set()).add(value)
    read_ratings(src, index)
    return index


def read_ratings(src, index: PracticeIndex) -> None:
    """Each practice's current "Does it work?" ratings: of its assessments (pb:rating or
    pb:assessedPractice) with a value in that scheme, those no assessment supersedes."""
    scale = {q.subject.value for q in src.quads(None, node(SKOS + "inScheme"), DOES_IT_WORK,
                                                 1000) if isinstance(q.subject, ox.NamedNode)}
    ratings = {}
    for iri in scale:
        label = first_literal(src, iri, SKOS + "prefLabel")
        order = first_literal(src, iri, PB + "order", languages=(None,))
        if label is not None and order is not None:
            ratings[iri] = Rating(iri, label, int(order))
    superseded = {o for _, o in pairs(src, PB + "supersedes")}
    about: set[tuple[str, str]] = set(pairs(src, PB + "assessedPractice"))
    about |= {(a, p) for p, a in pairs(src, PB + "rating")}
    values: dict[str, set[str]] = {}
    for assessment, value in pairs(src, PB + "ratingValue"):
        if value in ratings:
            values.setdefault(assessment, set()).add(value)
    for assessment, practice in about:
        if assessment in superseded:
            continue
        for value in values.get(assessment, ()):
            index.ratings.setdefault(practice, set()).add(ratings[value])
            index.assessments[(practice, value)] = min(
                assessment, index.assessments.get((practice, value), assessment))


def rated_from(src, assessment: str) -> str | None:
    """The page an assessment was read from (prov:wasDerivedFrom), if it names one."""
    pages = sorted(q.object.value for q in src.quads(node(assessment), node(PROV_DERIVED),
                                                    None, 4) if isinstance(q.object, ox.NamedNode))
    return pages[0] if pages else None
