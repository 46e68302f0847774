"""The evidence comparison behind /compare: for a topic or an intervention type, what the
practice bank says (its practices and their current ratings) beside what the Crime Reduction
Toolkit and CrimeSolutions say, and the crosswalk between their rating scales.

The scales are never equated: the crosswalk is a set of ``pb:ConceptMapping`` records (close,
narrow or related, with a note that limits each one), and the page shows each mapping with
its note and its source rather than converting one rating into another. Everything here is
read with SPARQL on the committed store, once per commit (:class:`PerCommit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from practicebank.namespaces import BASE

from .description_source import source
from .per_commit import PerCommit
from .practice_index import first_literal, narrower_closure, practice_index, rated_from, typed
from .runtime import get_runtime

PREFIXES = """PREFIX pb:      <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov:    <http://www.w3.org/ns/prov#>
PREFIX skos:    <http://www.w3.org/2004/02/skos/core#>
PREFIX concept: <https://w3id.org/practicebank/concept/>
"""

#: Where each kind of subject's concepts live, and its class.
KINDS = {
    "topic": (BASE + "concept/topic/", BASE + "def/Topic", "Topic"),
    "intervention": (BASE + "concept/intervention-type/", BASE + "def/InterventionType",
                     "Intervention type"),
}
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
#: How each mapping property reads, from the practice-bank rating to the other scale's.
MAPPING_WORDS = {
    SKOS + "closeMatch": "close to",
    SKOS + "relatedMatch": "related to",
    SKOS + "narrowMatch": "broader than (the other is narrower)",
    SKOS + "broadMatch": "narrower than (the other is broader)",
}
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,119}")
#: Practices listed by name on a comparison; the counts by rating always cover them all.
LISTED_PRACTICES = 100

CROSSWALK = PREFIXES + """
# The crosswalk: every mapping from a "Does it work?" rating to the Crime Reduction
# Toolkit's effect scale or CrimeSolutions' ratings, with its note and source.
SELECT ?mapping ?rating ?ratingLabel ?predicate ?target ?targetLabel ?scheme ?schemeLabel
       ?note ?source
WHERE {
  VALUES ?scheme { concept:emmie-effect concept:crimesolutions }
  ?mapping a pb:ConceptMapping ;
           pb:mappingSubject ?rating ;
           pb:mappingPredicate ?predicate ;
           pb:mappingObject ?target ;
           skos:scopeNote ?note .
  ?rating skos:inScheme concept:does-it-work ;
          skos:prefLabel ?ratingLabel .
  ?target skos:inScheme ?scheme ;
          skos:prefLabel ?targetLabel .
  ?scheme skos:prefLabel ?schemeLabel .
  OPTIONAL { ?mapping dcterms:source ?source }
}
ORDER BY ?ratingLabel ?schemeLabel ?targetLabel
"""

TOOLKIT = PREFIXES + """
# The Crime Reduction Toolkit's assessments of intervention types: the effect, the page
# read, and the quality of evidence per EMMIE dimension.
SELECT ?assessment ?type ?typeLabel ?effect ?effectLabel ?page ?summary ?dimensionLabel
       ?qualityLabel
WHERE {
  ?assessment a pb:EMMIEAssessment ;
              pb:assessedInterventionType ?type ;
              pb:ratingValue ?effect .
  ?type skos:prefLabel ?typeLabel .
  ?effect skos:prefLabel ?effectLabel .
  OPTIONAL { ?assessment prov:wasDerivedFrom ?page }
  OPTIONAL { ?assessment dcterms:abstract ?summary }
  OPTIONAL { ?assessment pb:emmieRating [ pb:emmieDimension/skos:prefLabel ?dimensionLabel ;
                                          pb:evidenceQuality/skos:prefLabel ?qualityLabel ] }
}
"""

CRIMESOLUTIONS = PREFIXES + """
# CrimeSolutions ratings of practices or intervention types, where the data holds any.
SELECT ?assessment ?about ?rating ?ratingLabel ?page
WHERE {
  ?assessment pb:ratingValue ?rating ;
              pb:assessedPractice|pb:assessedInterventionType|^pb:rating ?about .
  ?rating skos:inScheme concept:crimesolutions ;
          skos:prefLabel ?ratingLabel .
  OPTIONAL { ?assessment prov:wasDerivedFrom ?page }
}
"""





def run(query: str) -> list[dict[str, str | None]]:
    """The query's answer on the store as committed, as rows of plain strings."""
    runtime = get_runtime()
    with runtime.lock.reading():
        solutions = runtime.store.query(query)
        names = [v.value for v in solutions.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names}
                for row in solutions]


@dataclass
class Mapping:
    iri: str
    rating: str
    rating_label: str
    predicate: str
    target: str
    target_label: str
    scheme: str
    scheme_label: str
    note: str
    source: str | None

    @property
    def words(self) -> str:
        return MAPPING_WORDS.get(self.predicate, self.predicate)


@dataclass
class ToolkitAssessment:
    iri: str
    type: str
    type_label: str
    effect: str
    effect_label: str
    page: str | None = None
    summary: str | None = None
    quality: dict[str, str] = field(default_factory=dict)


@dataclass
class Practice:
    iri: str
    title: str
    rating: str | None = None
    rating_label: str = "Not rated"
    rating_order: int = 99
    rated_from: str | None = None
    types: set[str] = field(default_factory=set)


@dataclass
class Comparison:
    kind: str
    iri: str
    label: str
    practices: list[Practice]
    by_rating: list[tuple[str, int]]
    mappings: list[Mapping]
    toolkit: list[ToolkitAssessment]
    crimesolutions: list[dict]


#: One cache per kind of value (some builds read others: the list of subjects reads the
#: Toolkit's assessments and the topic tree).
CROSSWALK_CACHE: PerCommit[list] = PerCommit()
TOOLKIT_CACHE: PerCommit[dict] = PerCommit()
CRIMESOLUTIONS_CACHE: PerCommit[list] = PerCommit()
SUBJECTS_CACHE: PerCommit[list] = PerCommit()
CLOSURE_CACHE: PerCommit[dict] = PerCommit()
SUBJECT_CACHE: PerCommit[object] = PerCommit()


def crosswalk() -> list[Mapping]:
    return CROSSWALK_CACHE.get("crosswalk", lambda: [
        Mapping(r["mapping"], r["rating"], r["ratingLabel"], r["predicate"], r["target"],
                r["targetLabel"], r["scheme"], r["schemeLabel"], r["note"], r["source"])
        for r in run(CROSSWALK)])


def toolkit() -> dict[str, ToolkitAssessment]:
    def build() -> dict[str, ToolkitAssessment]:
        found: dict[str, ToolkitAssessment] = {}
        for r in run(TOOLKIT):
            a = found.setdefault(r["assessment"], ToolkitAssessment(
                r["assessment"], r["type"], r["typeLabel"], r["effect"], r["effectLabel"]))
            a.page = a.page or r["page"]
            a.summary = a.summary or r["summary"]
            if r["dimensionLabel"] and r["qualityLabel"]:
                a.quality[r["dimensionLabel"]] = r["qualityLabel"]
        return found
    return TOOLKIT_CACHE.get("toolkit", build)


def crimesolutions() -> list[dict]:
    return CRIMESOLUTIONS_CACHE.get("crimesolutions", lambda: run(CRIMESOLUTIONS))


def subjects() -> list[dict]:
    """Topics and intervention types that have something to compare, with counts."""
    return SUBJECTS_CACHE.get("subjects", build_subjects)


def build_subjects() -> list[dict]:
    """Topics with practices (their own or their narrower topics'), counted from the
    practice index; intervention types with practices or a Toolkit assessment."""
    index, src = practice_index(), source()
    within: dict[str, set[str]] = {}  # topic -> itself and every topic above it
    for broader, narrower in topic_closure().items():
        for topic in narrower:
            within.setdefault(topic, set()).add(broader)
    under: dict[str, set[str]] = {}
    for practice, topics in index.topics.items():
        for broader in set().union(set(), *(within.get(t, ()) for t in topics)):
            under.setdefault(broader, set()).add(practice)
    by_type: dict[str, set[str]] = {}
    for practice, types in index.intervention_types.items():
        for t in types:
            by_type.setdefault(t, set()).add(practice)
    assessed: dict[str, int] = {}
    for a in toolkit().values():
        assessed[a.type] = assessed.get(a.type, 0) + 1
    found = []
    for kind, members, counts in (("topic", under, {}),
                                  ("intervention", by_type, assessed)):
        prefix = KINDS[kind][0]
        for iri in set(members) | set(counts):
            label = first_literal(src, iri, SKOS + "prefLabel")
            if label is None or not iri.startswith(prefix):
                continue
            found.append({"kind": kind, "iri": iri, "label": label, "slug": iri[len(prefix):],
                          "practices": len(members.get(iri, ())),
                          "assessments": counts.get(iri, 0)})
    return sorted(found, key=lambda s: (s["kind"], s["label"].lower()))


def topic_closure() -> dict[str, set[str]]:
    """Topic -> itself and its narrower topics, at any depth (per commit)."""
    return CLOSURE_CACHE.get("closure", lambda: narrower_closure(source(), typed(source(),
                                                                         KINDS["topic"][1])))


def subject_label(kind: str, slug: str) -> tuple[str, str] | None:
    """(IRI, label) of the topic or intervention type ``slug``; None if there is none."""
    if not SLUG.fullmatch(slug):
        return None
    prefix, cls, _ = KINDS[kind]
    iri = prefix + slug
    rows = run(PREFIXES + f"SELECT ?label WHERE {{ <{iri}> a <{cls}> ; "
                          "skos:prefLabel ?label } LIMIT 1")
    return (iri, rows[0]["label"]) if rows else None


def practices_of(kind: str, iri: str) -> list[Practice]:
    """The practices under the topic (with its narrower topics) or of the intervention type,
    from the practice index; titles are read for the ones listed only."""
    index = practice_index()
    if kind == "topic":
        wanted = topic_closure().get(iri, {iri})
        members = [p for p, topics in index.topics.items() if topics & wanted]
    else:
        members = [p for p, types in index.intervention_types.items() if iri in types]
    found = []
    for p in members:
        best = min(index.current(p), key=lambda r: (r.order, r.iri))
        found.append(Practice(p, p, best.iri or None, best.label, best.order, None,
                              index.intervention_types.get(p, set())))
    found.sort(key=lambda p: (p.rating_order, p.iri))
    src = source()
    for p in found[:LISTED_PRACTICES]:
        p.title = first_literal(src, p.iri, DCTERMS_TITLE) or p.iri
        assessment = index.assessments.get((p.iri, p.rating or ""))
        p.rated_from = rated_from(src, assessment) if assessment else None
    found[:LISTED_PRACTICES] = sorted(found[:LISTED_PRACTICES],
                                      key=lambda p: (p.rating_order, p.title.lower()))
    return found


def compare(kind: str, slug: str) -> Comparison | None:
    """The comparison for a topic or intervention type; None if ``slug`` names none."""
    found = subject_label(kind, slug)
    if found is None:
        return None
    iri, label = found
    return SUBJECT_CACHE.get((kind, iri), lambda: build_comparison(kind, iri, label))


def build_comparison(kind: str, iri: str, label: str) -> Comparison:
    practices = practices_of(kind, iri)
    counts: dict[tuple[int, str], int] = {}
    for p in practices:
        counts[(p.rating_order, p.rating_label)] = counts.get(
            (p.rating_order, p.rating_label), 0) + 1
    by_rating = [(name, n) for (_, name), n in sorted(counts.items())]
    types = {iri} if kind == "intervention" else set().union(set(), *(p.types for p in practices))
    assessments = [a for a in toolkit().values() if a.type in types]
    ratings = {p.rating for p in practices if p.rating}
    effects = {a.effect for a in assessments}
    mappings = [m for m in crosswalk() if m.rating in ratings or m.target in effects]
    about = types | {p.iri for p in practices}
    cs = [r for r in crimesolutions() if r["about"] in about]
    return Comparison(kind, iri, label, practices, by_rating, mappings, assessments, cs)
