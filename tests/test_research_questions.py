"""The research questions the 2.0 model answers: endpoint/queries/22-… to 34-… (R.22-R.34).

Each query runs on the demo store (everything ``serve --demo`` loads: the sample practices and
the corpus gathered from the public record) and must give the answer worked out here,
independently, from the source files read with the csv module: ``data/corpus/*.csv``, the
shared ``practices.csv`` and ``forces.csv``, ``data/sample-practices.csv`` (for its
``same_intervention_as`` column), ``data/force-regions.csv`` and
``data/organisation-aliases.csv``. Facts of the vocabularies that an answer needs (labels, the
topic hierarchy, the order of the scales) are stated by hand below, each with where it comes
from. A practice is known by the slug of its title, the key by which the corpus joins a record
to a sample practice (docs/model-v2-spec.md, section 7).

Where the demo data cannot make a question non-empty (no local practice names its
intervention type, none states a cost or has more than one rating, no practice is adapted
from, replicates or succeeds another), a second store adds the synthetic Turtle of this
module, and the expected answer is computed from that Turtle's triples, read with rdflib
(never with SPARQL).
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import find_shared
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS

from practicebank.loaders.load import ensure_demo
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "endpoint" / "queries"
DATA = ROOT / "data"
CORPUS = DATA / "corpus"
DOMAIN = find_shared() / "domain"

BASE = "https://w3id.org/practicebank/"
PB = BASE + "def/"
GRAPH = BASE + "graph/"
PRACTICE = BASE + "id/practice/"
EXTRA_GRAPH = GRAPH + "research-question-test"
SCHEMA = "https://schema.org/"

# -- facts of the vocabularies, by hand (ontology/vocabularies.ttl, ontology/practicebank.ttl,
#    data/organisations.ttl) -------------------------------------------------------------------

#: The "Does it work?" ratings, as practices.csv spells them (the concepts' prefLabels).
RATINGS = {"Worked", "Promising", "Untested – new or innovative", "Didn't work"}

#: prefLabels of the recognised-practice concepts.
TILLEY, STAR, HMICFRS, SMARTER = "Tilley award", "Police STAR Fund", "HMICFRS", "Smarter practice"

#: The Toolkit's effect labels as the CSV writes them -> (point of the emmie-effect scale, the
#: concept's prefLabel). "No impact (some studies suggest a decrease)" is the newer wording of
#: point 3 (some reduction, not significant overall): crime-reduction-toolkit.notes.md.
TOOLKIT_EFFECT = {
    "Overall reduction": (1, "Overall reduced crime"),
    "Overall reduction, some rises": (2, "Overall reduced crime, with some increases"),
    "Some reduction": (3, "Some reduction, no significant overall effect"),
    "No impact (some studies suggest a decrease)": (
        3, "Some reduction, no significant overall effect"),
    "Mixed findings": (4, "Mixed increases and reductions, no significant overall effect"),
    "Overall rise": (8, "Overall increased crime"),
}
#: pb:order of the evidence-quality concepts, by prefLabel.
QUALITY_ORDER = {"Very strong": 4, "Strong": 3, "Moderate": 2, "Low": 1, "No information": 0}
#: A quality cell of the Toolkit CSV -> the evidence-quality concept's prefLabel: the new
#: pages' words are the labels; the old pages' 0-4 scores map to them by number
#: (docs/model-v2-spec.md), and "0 (icon empty)" is a 0.
QUALITY_LABEL = {**{label: label for label in QUALITY_ORDER},
                 **{str(order): label for label, order in QUALITY_ORDER.items()},
                 "0 (icon empty)": "No information"}
#: Query variable -> the Toolkit CSV column of that EMMIE dimension's quality.
EMMIE_COLUMNS = {
    "effectQuality": "effect_quality",
    "mechanismQuality": "mechanism",
    "moderatorsQuality": "moderators",
    "implementationQuality": "implementation",
    "economicCostQuality": "economic_cost",
}

#: The themes (top concepts of the topic scheme) and, for every topic label the sources
#: use, the theme(s) it falls under through skos:broader. A theme is under itself.
#: Violence against women and girls is a theme of its own, only skos:related to Violence.
THEMES = {
    "Violence", "Violence against women and girls", "Acquisitive crime",
    "Anti-social behaviour and disorder", "Exploitation and vulnerability", "Road safety",
    "Organisational change", "Drugs and alcohol harm", "Public protection", "Cyber and fraud",
}
TOPIC_THEMES = {
    **{theme: {theme} for theme in THEMES},
    "Community engagement": {"Organisational change"},
    "Contact management": {"Organisational change"},
    "Diversity and inclusion": {"Organisational change"},
    "Ethics and values": {"Organisational change"},
    "Leadership, development and learning": {"Organisational change"},
    "Operational policing": {"Organisational change"},
    "Organisation including workforce": {"Organisational change"},
    "Crime prevention": {"Public protection"},
    "Criminal justice": {"Public protection"},
    "Intelligence and investigation": {"Public protection"},
    "Offender management": {"Public protection"},
    "Drugs and alcohol": {"Drugs and alcohol harm"},
    "Vulnerability and safeguarding": {"Exploitation and vulnerability"},
    "Anti-social behaviour": {"Anti-social behaviour and disorder"},
    "Violence (other)": {"Violence"},
    "Violence including homicide": {"Violence"},
    "Knife crime": {"Violence"},
    "Homicide prevention": {"Violence"},
    "Dangerous driving": {"Road safety"},
}
#: The corpus's topic hints (Tilley and HMICFRS topic_hint, STAR Fund theme) that name a topic
#: of the scheme, as we read them: the topic's own label, or plain words for it ("domestic
#: abuse", "mental health", "workforce"). Every other hint names none, including those about
#: violence or burglary: the corpus converter writes a crime problem (pb:crimeProblem) for
#: those, never a topic, so they reach no theme (reported as a gap of the corpus).
HINT_TOPICS = {
    "acquisitive crime": {"Acquisitive crime"},
    "alcohol-related violence": {"Drugs and alcohol"},
    "anti-social behaviour": {"Anti-social behaviour"},
    "begging and street drinking": {"Drugs and alcohol"},
    "class A drug supply": {"Drugs and alcohol"},
    "community engagement": {"Community engagement"},
    "contact management": {"Contact management"},
    "domestic abuse": {"Violence against women and girls"},
    "ethics": {"Ethics and values"},
    "knife crime": {"Knife crime"},
    "mental health": {"Vulnerability and safeguarding"},
    "missing children": {"Vulnerability and safeguarding"},
    "missing persons": {"Vulnerability and safeguarding"},
    "motorcycle casualties": {"Road safety"},
    "officer wellbeing": {"Organisation including workforce"},
    "road safety": {"Road safety"},
    "staff wellbeing": {"Organisation including workforce"},
    "vulnerability": {"Vulnerability and safeguarding"},
    "workforce": {"Organisation including workforce"},
    "workforce wellbeing": {"Organisation including workforce"},
    "youth anti-social behaviour": {"Anti-social behaviour"},
}
#: Tilley categories whose CSV wording is an altLabel: the concept's prefLabel.
TILLEY_CATEGORY = {"Partnership projects": "Partnership"}
#: The CSV's programme cells -> (the inspection-programme concept's prefLabel, the prefLabel of
#: the programme it is skos:broader to, if any). PEEL 2017, 2018/19 and 2021/22 are
#: altLabels of PEEL.
PROGRAMME = {
    "PEEL spotlight": ("PEEL spotlight", "PEEL"),
    "PEEL 2017": ("PEEL", None),
    "PEEL 2018/19": ("PEEL", None),
    "PEEL 2021/22": ("PEEL", None),
}
#: The links between practices (subproperties of dcterms:relation) and their rdfs:labels.
LINK_LABELS = {
    "sameInterventionAs": "same intervention as", "adaptedFrom": "adapted from",
    "replicates": "replicates", "succeededBy": "succeeded by", "succeeds": "succeeds",
}
#: Labels of the concepts and organisations the synthetic Turtle uses.
CONCEPT_LABELS = {
    "does-it-work/worked": "Worked", "does-it-work/promising": "Promising",
    "does-it-work/untested-new-or-innovative": "Untested – new or innovative",
    "crimesolutions/promising": "Promising",
    "does-it-work": "Does it work?", "crimesolutions": "CrimeSolutions rating",
}
COLLEGE = "College of Policing"  # every sample rating is the College's (the v1 default)

# -- synthetic statements for what the demo leaves empty -------------------------------------

RESEARCH_TURTLE = """
@base <https://w3id.org/practicebank/id/> .
@prefix pb:          <https://w3id.org/practicebank/def/> .
@prefix dcterms:     <http://purl.org/dc/terms/> .
@prefix prov:        <http://www.w3.org/ns/prov#> .
@prefix skos:        <http://www.w3.org/2004/02/skos/core#> .
@prefix schema:      <https://schema.org/> .
@prefix xsd:         <http://www.w3.org/2001/XMLSchema#> .
@prefix concept:     <https://w3id.org/practicebank/concept/> .
@prefix dow:         <https://w3id.org/practicebank/concept/does-it-work/> .
@prefix emmie:       <https://w3id.org/practicebank/concept/emmie-effect/> .
@prefix emmiedim:    <https://w3id.org/practicebank/concept/emmie-dimension/> .
@prefix quality:     <https://w3id.org/practicebank/concept/evidence-quality/> .
@prefix role:        <https://w3id.org/practicebank/concept/participation-role/> .
@prefix topic:       <https://w3id.org/practicebank/concept/topic/> .
@prefix cs:          <https://w3id.org/practicebank/concept/crimesolutions/> .
@prefix itype:       <https://w3id.org/practicebank/concept/intervention-type/> .
@prefix round:       <https://w3id.org/practicebank/concept/star-fund-round/> .
@prefix source:      <https://w3id.org/practicebank/concept/recognised-practice/> .
@prefix practice:    <practice/> .
@prefix orgid:       <organisation/> .
@prefix force:       <force/> .

# R.22, R.31: practices that say which Toolkit intervention type they are: two sample
# practices, and synthetic ones (one of two types, whose street-lighting assessment gives no
# qualities; one of a type the Toolkit finds raises crime; one of a type it has not assessed).
practice:crime-hot-spots-mobile-phone-app pb:interventionType itype:hot-spots-policing .
practice:focussed-deterrence-fd-for-habitual-knife-carriers
    pb:interventionType itype:focused-deterrence-strategies .
practice:synthetic-alley-gating a pb:Practice ;
    dcterms:title "Synthetic alley-gating scheme (test fixture)"@en ;
    pb:interventionType itype:alley-gating .
practice:synthetic-lighting-and-cctv a pb:Practice ;
    dcterms:title "Synthetic lighting and CCTV scheme (test fixture)"@en ;
    pb:interventionType itype:improved-street-lighting , itype:cctv .
practice:synthetic-prison-visits-for-youths a pb:Practice ;
    dcterms:title "Synthetic prison visits for youths (test fixture)"@en ;
    pb:interventionType itype:scared-straight-programmes .
practice:synthetic-restorative-circle a pb:Practice ;
    dcterms:title "Synthetic restorative circle (test fixture)"@en ;
    pb:interventionType itype:synthetic-restorative-justice .

# R.31: two assessments of synthetic types, at the edges of "an overall reduction on at
# least moderate evidence": point 2 on moderate evidence (in), point 1 on low evidence (out).
<assessment/toolkit/synthetic-moderate-evidence> a pb:RatingAssessment , pb:EMMIEAssessment ;
    pb:assessedInterventionType itype:synthetic-moderate-evidence ;
    pb:ratingScale concept:emmie-effect ; pb:ratingValue emmie:2 ;
    pb:emmieRating <assessment/toolkit/synthetic-moderate-evidence/effect> .
<assessment/toolkit/synthetic-moderate-evidence/effect> a pb:EMMIERating ;
    pb:emmieDimension emmiedim:effect ; pb:evidenceQuality quality:moderate .
itype:synthetic-moderate-evidence a skos:Concept , pb:InterventionType ;
    skos:prefLabel "Synthetic type on moderate evidence (test fixture)"@en .
<assessment/toolkit/synthetic-low-evidence> a pb:RatingAssessment , pb:EMMIEAssessment ;
    pb:assessedInterventionType itype:synthetic-low-evidence ;
    pb:ratingScale concept:emmie-effect ; pb:ratingValue emmie:1 ;
    pb:emmieRating <assessment/toolkit/synthetic-low-evidence/effect> .
<assessment/toolkit/synthetic-low-evidence/effect> a pb:EMMIERating ;
    pb:emmieDimension emmiedim:effect ; pb:evidenceQuality quality:low .
itype:synthetic-low-evidence a skos:Concept , pb:InterventionType ;
    skos:prefLabel "Synthetic type on low evidence (test fixture)"@en .

# R.25: a topic two levels below the violence theme.
topic:synthetic-knife-surrender a skos:Concept ;
    skos:prefLabel "Synthetic knife surrender (test fixture)"@en ;
    skos:broader topic:knife-crime .
practice:synthetic-restorative-circle pb:topic topic:synthetic-knife-surrender .

# R.32: a practice Merseyside Police led, recognised by a STAR Fund grant (below) and by a
# Tilley award typed only by its class (no pb:recognitionSource).
practice:synthetic-alley-gating prov:qualifiedAttribution
    <participation/synthetic-alley-gating/merseyside> .
<participation/synthetic-alley-gating/merseyside> a prov:Attribution , pb:Participation ;
    prov:agent force:merseyside ; prov:hadRole role:lead .
<recognition/synthetic-alley-gating/tilley-award/2024> a pb:TilleyAward ;
    pb:recognises practice:synthetic-alley-gating .

# R.29: three ratings on one scale, each newer one superseding the one before (listed out of
# order), and a practice rated once on each of two scales.
practice:synthetic-alley-gating pb:rating
    <assessment/synthetic-alley-gating/does-it-work/2024-06-30> ,
    <assessment/synthetic-alley-gating/does-it-work> ,
    <assessment/synthetic-alley-gating/does-it-work/2022-03-01> .
<assessment/synthetic-alley-gating/does-it-work> a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-alley-gating ;
    pb:ratingScale concept:does-it-work ; pb:ratingValue dow:untested-new-or-innovative .
<assessment/synthetic-alley-gating/does-it-work/2022-03-01> a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-alley-gating ;
    pb:ratingScale concept:does-it-work ; pb:ratingValue dow:promising ;
    dcterms:date "2022-03-01"^^xsd:date ; pb:assessedBy orgid:college-of-policing ;
    pb:supersedes <assessment/synthetic-alley-gating/does-it-work> .
<assessment/synthetic-alley-gating/does-it-work/2024-06-30> a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-alley-gating ;
    pb:ratingScale concept:does-it-work ; pb:ratingValue dow:worked ;
    dcterms:date "2024-06-30"^^xsd:date ; pb:assessedBy orgid:college-of-policing ;
    pb:supersedes <assessment/synthetic-alley-gating/does-it-work/2022-03-01> .
practice:synthetic-lighting-and-cctv pb:rating
    <assessment/synthetic-lighting-and-cctv/does-it-work/2023-01-15> ,
    <assessment/synthetic-lighting-and-cctv/crimesolutions/2023-05-01> .
<assessment/synthetic-lighting-and-cctv/does-it-work/2023-01-15> a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-lighting-and-cctv ;
    pb:ratingScale concept:does-it-work ; pb:ratingValue dow:promising ;
    dcterms:date "2023-01-15"^^xsd:date .
<assessment/synthetic-lighting-and-cctv/crimesolutions/2023-05-01> a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-lighting-and-cctv ;
    pb:ratingScale concept:crimesolutions ; pb:ratingValue cs:promising ;
    dcterms:date "2023-05-01"^^xsd:date .

# R.27, R.28: what two practices cost, and two STAR Fund grants of one round with amounts.
practice:synthetic-alley-gating pb:cost <practice/synthetic-alley-gating/cost> .
<practice/synthetic-alley-gating/cost> a schema:MonetaryAmount ;
    schema:value "12500"^^xsd:decimal ; schema:currency "GBP" ; pb:period "2023/24" ;
    dcterms:description "Gates, locks and fitting"@en .
practice:synthetic-lighting-and-cctv pb:cost <practice/synthetic-lighting-and-cctv/cost> .
<practice/synthetic-lighting-and-cctv/cost> a schema:MonetaryAmount ;
    schema:value "80000.00"^^xsd:decimal ; schema:currency "GBP" ;
    pb:period "P2Y"^^xsd:duration .
<recognition/synthetic-alley-gating/police-star-fund/2023-24> a pb:Recognition , pb:StarFundGrant ;
    pb:recognises practice:synthetic-alley-gating ;
    pb:recognitionSource source:police-star-fund ;
    pb:fundingRound round:2023-24 ;
    schema:amount <recognition/synthetic-alley-gating/police-star-fund/2023-24/amount> .
<recognition/synthetic-alley-gating/police-star-fund/2023-24/amount> a schema:MonetaryAmount ;
    schema:value "60000"^^xsd:decimal ; schema:currency "GBP" .
<recognition/synthetic-lighting-and-cctv/police-star-fund/2023-24> a pb:Recognition ,
        pb:StarFundGrant ;
    pb:recognises practice:synthetic-lighting-and-cctv ;
    pb:recognitionSource source:police-star-fund ;
    pb:fundingRound round:2023-24 ;
    schema:amount <recognition/synthetic-lighting-and-cctv/police-star-fund/2023-24/amount> .
<recognition/synthetic-lighting-and-cctv/police-star-fund/2023-24/amount>
    a schema:MonetaryAmount ;
    schema:value "40000.50"^^xsd:decimal ; schema:currency "GBP" .

# R.34: a practice that succeeded another (both directions, as the loaders write them), one
# that replicates a sample practice, and one adapted from a practice the store does not hold.
practice:synthetic-lighting-and-cctv pb:succeededBy practice:synthetic-alley-gating .
practice:synthetic-alley-gating pb:succeeds practice:synthetic-lighting-and-cctv ;
    pb:adaptedFrom practice:synthetic-undescribed-original .
practice:synthetic-restorative-circle pb:replicates practice:nudging-down-burglary .
"""


# -- stores ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo() -> PracticeStore:
    """Everything ``serve --demo`` loads, loaded as it loads it."""
    store = PracticeStore()
    ensure_demo(store)
    return store


@pytest.fixture(scope="module")
def extended(demo: PracticeStore) -> PracticeStore:
    """A copy of the demo store plus the synthetic Turtle of this module."""
    store = PracticeStore()
    store.ox.bulk_extend(demo.ox)
    store.ox.load(RESEARCH_TURTLE, format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(EXTRA_GRAPH))
    return store


@cache
def synthetic() -> Graph:
    """The synthetic Turtle as an rdflib graph, to work expected answers out from."""
    return Graph().parse(data=RESEARCH_TURTLE, format="turtle")


def pb(name: str) -> URIRef:
    return URIRef(PB + name)


# -- helpers --------------------------------------------------------------------------------


def run(store: PracticeStore, key: str) -> list[dict[str, str | None]]:
    """Run the library query ``{key}-*.rq``; each row as {variable: lexical value or None}."""
    (path,) = sorted(QUERIES.glob(f"{key}-*.rq"))
    results = store.query(path.read_text(encoding="utf-8"))
    names = [v.value for v in results.variables]
    return [{n: (row[n].value if row[n] is not None else None) for n in names}
            for row in results]


def local(iri: str | None) -> str | None:
    """The last path segment of an IRI: a concept's notation, a slug."""
    return None if iri is None else iri.rstrip("/").rsplit("/", 1)[-1]


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


@cache
def same_practice() -> dict[str, str]:
    """Corpus titles that name a practice listed under another title, from the source file
    that says so (data/corpus/same-practice.csv): slug -> slug of the practice's title."""
    return {_slug(row["title"]): _slug(row["practice_title"])
            for row in read(ROOT / "data" / "corpus" / "same-practice.csv")}


def key(title: str) -> str:
    """A practice's key: the slug of its title (how the corpus joins sources up), or of the
    title of the practice data/corpus/same-practice.csv says it is."""
    slug = _slug(title)
    return same_practice().get(slug, slug)


def split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def amount(text: str | None) -> Decimal | None:
    return Decimal(text.replace(",", "")) if text else None


@cache
def read(path: Path) -> tuple[dict[str, str], ...]:
    with path.open(newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def corpus(name: str) -> tuple[dict[str, str], ...]:
    return read(CORPUS / f"{name}.csv")


def round_key(text: str) -> str | None:
    """"2023/24" -> "2023-24" (the round's notation); None for a blank round."""
    return text.replace("/", "-") if text else None


def force_slug(force: dict[str, str]) -> str:
    """A force's slug: its data.police.uk id, else the slug of its name (forces.csv)."""
    return force["data_police_uk_id"] or key(force["name"])


@cache
def force_names() -> dict[str, str]:
    """The names a source may give a force -> its name in forces.csv (its prefLabel): the
    name itself, its Police Force Area's name and the aliases of organisation-aliases.csv."""
    forces = read(DOMAIN / "forces.csv")
    by_slug = {force_slug(f): f["name"] for f in forces}
    names = {f["name"].casefold(): f["name"] for f in forces}
    for f in forces:
        if f["ons_pfa_name"]:
            names.setdefault(f["ons_pfa_name"].casefold(), f["name"])
    for alias in read(DATA / "organisation-aliases.csv"):
        target = alias["organisation"].removeprefix("id/force/")
        if target in by_slug:
            names[alias["alias"].casefold()] = by_slug[target]
    return names


def organisation(cell: str, *, annotated: bool = False) -> str | None:
    """The English name the graph gives the organisation a cell names, or None. The sample's
    cells carry notes in brackets ("Kent Police (per contact and news; …)") or say that none
    is known ("(blank in listing)"); the corpus's cells are names as written."""
    name = cell.strip()
    if not name or name.startswith("("):
        return None
    if annotated:
        name = re.sub(r"\s*\(.*\)\s*$", "", name)
    return force_names().get(name.casefold(), name)


@cache
def force_regions() -> dict[str, str]:
    """A force's name -> the notation of its region (data/force-regions.csv)."""
    regions = {row["force"]: row["region"] for row in read(DATA / "force-regions.csv")}
    return {f["name"]: regions[force_slug(f)] for f in read(DOMAIN / "forces.csv")
            if force_slug(f) in regions}


# -- the practices, as the source files describe them -----------------------------------------


@dataclass
class Practice:
    """What the source files say about one practice (all sources that name it)."""

    title: str
    leads: set[str] = field(default_factory=set)
    partners: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)
    #: (source label, key): one recognition per source and year, round or report.
    recognitions: set[tuple[str, str | None]] = field(default_factory=set)

    @property
    def organisations(self) -> set[str]:
        return self.leads | self.partners

    @property
    def sources(self) -> set[str]:
        return {source for source, _ in self.recognitions}


#: The sample's notes name a partner organisation as "Partner charity: Autism Guernsey".
_NOTE_PARTNER = re.compile(r"\bpartner (?:charity|organisation):\s*([^.;]+)", re.IGNORECASE)


@cache
def practices() -> dict[str, Practice]:
    """Every practice of the sources, by key."""
    found: dict[str, Practice] = {}

    def practice(title: str) -> Practice:
        return found.setdefault(key(title), Practice(title))

    # Practice-bank records: the sample and the corpus's new entries.
    for row in (*read(DOMAIN / "practices.csv"), *corpus("practice-bank")):
        p = practice(row["title"])
        if lead := organisation(row["organisation"], annotated=True):
            p.leads.add(lead)
        p.partners |= {organisation(name) for name in _NOTE_PARTNER.findall(row["notes"])}
        p.topics |= set(split(row["topics"]))
        recognised = row["recognised_practice"]
        # "Possibly Police STAR Fund (…)" is a guess, not a recognition.
        for prefix, source in (("Smarter practice", SMARTER), ("HMICFRS", HMICFRS)):
            if recognised.startswith(prefix):
                p.recognitions.add((source, None))
    for row in corpus("tilley-awards"):
        p = practice(row["title"])
        p.leads |= {organisation(name) for name in split(row["lead_organisation"])}
        p.partners |= {organisation(name) for name in split(row["partners"])}
        p.recognitions.add((TILLEY, row["year"]))
        p.topics |= hint_topics(row["topic_hint"])
    for row in corpus("star-fund"):
        p = practice(row["title"])
        p.leads |= {organisation(name) for name in split(row["lead_organisation"])}
        p.partners |= {organisation(name) for name in split(row["partners"])}
        p.recognitions.add((STAR, round_key(row["round"]) or "undated"))
        p.topics |= hint_topics(row["theme"])
    for row in corpus("hmicfrs-practice"):
        p = practice(row["title"])
        p.leads |= {organisation(name) for name in split(row["lead_organisation"])}
        # A mention is keyed by its report, else the report's year, else by nothing (the
        # v1 IRI, which a sample recognition from HMICFRS shares).
        report = key(row["report_title"]) or row["report_date"][:4] or None
        p.recognitions.add((HMICFRS, report))
        p.topics |= hint_topics(row["topic_hint"])
    return found


def hint_topics(cell: str) -> set[str]:
    return {topic for hint in split(cell) for topic in HINT_TOPICS.get(hint, ())}


# -- the library ----------------------------------------------------------------------------


def test_ten_or_more_research_queries():
    keys = sorted(int(p.name[:2]) for p in QUERIES.glob("*.rq") if p.name[:2].isdigit()
                  and int(p.name[:2]) >= 22)
    assert keys == list(range(22, 35))


# -- R.22 the Toolkit evidence behind each local practice --------------------------------------


def toolkit() -> dict[str, dict[str, str]]:
    return {row["slug"]: row for row in corpus("crime-reduction-toolkit")}


def test_r22_no_demo_practice_states_its_intervention_type(demo: PracticeStore):
    headings = {*read(DOMAIN / "practices.csv")[0], *corpus("practice-bank")[0]}
    assert not {"intervention_type", "intervention_types"} & headings
    assert run(demo, "22") == []


def test_r22_toolkit_evidence_behind_practices(extended: PracticeStore):
    rows = run(extended, "22")
    got = {
        (row["practice"], local(row["interventionType"])): (
            row["interventionTypeLabel"], row["effectLabel"],
            tuple(row[v] for v in EMMIE_COLUMNS), row["toolkitPage"])
        for row in rows
    }
    assert len(got) == len(rows), "one row per practice and intervention type"

    expected = {}
    for practice, kind in synthetic().subject_objects(pb("interventionType")):
        page = toolkit().get(local(str(kind)))
        evidence = (None, None, (None,) * 5, None)
        if page is not None:
            # The intervention types' prefLabels are the Toolkit's titles (vocabularies.ttl).
            evidence = (page["title"], TOOLKIT_EFFECT[page["effect"]][1],
                        tuple(QUALITY_LABEL.get(page[c]) for c in EMMIE_COLUMNS.values()),
                        page["source_url"])
        expected[str(practice), local(str(kind))] = evidence
    assert got == expected
    assert len(expected) == 7

    alley = got[PRACTICE + "synthetic-alley-gating", "alley-gating"]
    assert alley[2] == ("Very strong", "Strong", "Strong", "Strong", "Moderate")
    lighting = got[PRACTICE + "synthetic-lighting-and-cctv", "improved-street-lighting"]
    assert lighting[1] == "Overall reduced crime" and lighting[2] == (None,) * 5
    titles = {row["title"] for row in rows if row["practice"].startswith(PRACTICE + "crime-")}
    assert titles == {"Crime hot spots mobile phone app"}


# -- R.23 STAR Fund projects by round and the lead's region ----------------------------------


def test_r23_star_fund_by_round_and_region(demo: PracticeStore):
    rows = run(demo, "23")
    got = Counter(
        (local(r["round"]), key(r["title"]), r["leadName"], local(r["region"]),
         amount(r["amount"]), r["currency"])
        for r in rows)

    expected = Counter()
    for row in corpus("star-fund"):
        p = practices()[key(row["title"])]
        for lead in sorted(p.leads) or [None]:
            value = amount(row["amount_gbp"])
            expected[(round_key(row["round"]), key(row["title"]), lead,
                      force_regions().get(lead), value, "GBP" if value else None)] += 1
    assert got == expected
    assert len(rows) == 28

    by_title = {r["title"]: r for r in rows}
    assert by_title["InterACT"]["regionLabel"] == "South East"
    assert by_title["LLM case file preparation assistant"]["roundLabel"] == "2024/25"
    # Newest round first, unstated rounds last.
    rounds = [r["round"] for r in rows]
    stated = [r for r in rounds if r is not None]
    assert stated == sorted(stated, reverse=True)
    assert rounds == stated + [None] * (len(rounds) - len(stated))


# -- R.24 Tilley winners by year and category -------------------------------------------------


def test_r24_tilley_winners_by_year_and_category(demo: PracticeStore):
    rows = run(demo, "24")
    got = {(r["year"], r["categoryLabel"], key(r["title"])):
           (frozenset(split(r["leads"])), int(r["entriesThatYear"])) for r in rows}
    assert len(got) == len(rows)

    entries = Counter(row["year"] for row in corpus("tilley-awards"))
    expected = {}
    for row in corpus("tilley-awards"):
        if row["outcome"] == "winner":
            category = TILLEY_CATEGORY.get(row["category"], row["category"]) or None
            leads = {organisation(name) for name in split(row["lead_organisation"])}
            expected[row["year"], category, key(row["title"])] = (frozenset(leads),
                                                                   entries[row["year"]])
    assert got == expected
    assert len(expected) == 16
    assert [r["year"] for r in rows] == sorted(r["year"] for r in rows)
    assert got["2009", "Violence against women", "hull-domestic-abuse-partnership"] == (
        frozenset({"Hull Citysafe"}), 3)


# -- R.25 practices under each broad theme ---------------------------------------------------


def test_r25_practices_under_each_broad_theme(demo: PracticeStore):
    rows = run(demo, "25")
    got: dict[str, set[str]] = {}
    counts = {}
    for r in rows:
        got.setdefault(r["themeLabel"], set())
        if r["practice"] is not None:
            got[r["themeLabel"]].add(key(r["title"]))
        counts[r["themeLabel"]] = int(r["practicesUnderTheme"])

    expected: dict[str, set[str]] = {theme: set() for theme in THEMES}
    for practice_key, p in practices().items():
        for topic in p.topics:
            for theme in TOPIC_THEMES[topic]:
                expected[theme].add(practice_key)
    assert got == expected
    assert counts == {theme: len(keys) for theme, keys in expected.items()}
    assert len(rows) == sum(max(len(keys), 1) for keys in expected.values()), "no repeats"
    assert counts["Cyber and fraud"] == 0
    assert "kent-and-medway-safer-knife-replacement-scheme" in got["Violence"]
    assert "knife-recognition-ai" in got["Violence"], "a corpus hint, through Knife crime"
    ordered = [int(r["practicesUnderTheme"]) for r in rows]
    assert ordered == sorted(ordered, reverse=True)


def test_r25_themes_reach_down_every_level(demo: PracticeStore, extended: PracticeStore):
    """The synthetic topic is two levels under Violence (its skos:broader is Knife crime)."""
    g = synthetic()
    (topic,) = g.objects(URIRef(PRACTICE + "synthetic-restorative-circle"), pb("topic"))
    assert g.value(topic, SKOS.broader) == URIRef(BASE + "concept/topic/knife-crime")
    before = [r for r in run(demo, "25") if r["themeLabel"] == "Violence"]
    after = [r for r in run(extended, "25") if r["themeLabel"] == "Violence"]
    assert {r["practice"] for r in after} == {r["practice"] for r in before} | {
        PRACTICE + "synthetic-restorative-circle"}
    assert {int(r["practicesUnderTheme"]) for r in after} == {len(before) + 1}


# -- R.26 multi-agency practices and roles ----------------------------------------------------


def test_r26_multi_agency_practices_by_role(demo: PracticeStore):
    rows = run(demo, "26")
    got = {(key(r["title"]), r["organisationName"]): (set(split(r["roles"])),
                                                       int(r["organisations"])) for r in rows}
    assert len(got) == len(rows)

    expected = {}
    for practice_key, p in practices().items():
        if len(p.organisations) >= 2:
            for org in p.organisations:
                roles = ({"Lead"} if org in p.leads else set()) | (
                    {"Partner"} if org in p.partners else set())
                expected[practice_key, org] = (roles, len(p.organisations))
    assert got == expected
    assert len({k for k, _ in expected}) == 18
    assert got["autism-passport-scheme", "Autism Guernsey"] == ({"Partner"}, 2)
    assert got["the-knowledge-campaign", "West Yorkshire Police"] == ({"Partner"}, 4)
    ordered = [int(r["organisations"]) for r in rows]
    assert ordered == sorted(ordered, reverse=True)


# -- R.27 STAR Fund money per round ------------------------------------------------------------


def expected_round_money(grants: list[tuple[str | None, Decimal | None]]) -> dict:
    """round -> (grants, grants with an amount, total, smallest, largest); all in GBP."""
    by_round: dict[str | None, list[Decimal | None]] = defaultdict(list)
    for round_, value in grants:
        by_round[round_].append(value)
    out = {}
    for round_, values in by_round.items():
        stated = [v for v in values if v is not None]
        out[round_] = (len(values), len(stated), sum(stated) if stated else None,
                       min(stated, default=None), max(stated, default=None))
    return out


def got_round_money(rows: list[dict]) -> dict:
    got = {}
    for r in rows:
        assert r["currency"] in ("GBP", None)
        got[local(r["round"])] = (
            int(r["grants"]), int(r["grantsWithAmount"] or 0), amount(r["total"]),
            amount(r["smallest"]), amount(r["largest"]))
        if r["mean"] is not None:
            assert abs(Decimal(r["mean"]) - Decimal(r["total"]) / int(r["grantsWithAmount"])) \
                < Decimal("0.000001")
    assert len(got) == len(rows), "one row per round (one currency)"
    return got


def csv_grants() -> list[tuple[str | None, Decimal | None]]:
    return [(round_key(row["round"]), amount(row["amount_gbp"])) for row in corpus("star-fund")]


def synthetic_grants() -> list[tuple[str | None, Decimal | None]]:
    g = synthetic()
    out = []
    for grant in g.subjects(RDF.type, pb("StarFundGrant")):
        money = g.value(grant, URIRef(SCHEMA + "amount"))
        out.append((local(str(g.value(grant, pb("fundingRound")))),
                    g.value(money, URIRef(SCHEMA + "value")).toPython()))
    return out


def test_r27_star_fund_money_per_round(demo: PracticeStore):
    rows = run(demo, "27")
    assert got_round_money(rows) == expected_round_money(csv_grants())
    unstated = got_round_money(rows)[None]
    assert unstated[1] == 9 and unstated[2] == Decimal("1514411.88")
    assert [local(r["round"]) for r in rows] == ["2024-25", "2023-24", "2022-23", None]
    assert rows[0]["roundLabel"] == "2024/25"


def test_r27_amounts_of_a_round_add_up(extended: PracticeStore):
    got = got_round_money(run(extended, "27"))
    assert got == expected_round_money(csv_grants() + synthetic_grants())
    assert got["2023-24"] == (3, 2, Decimal("100000.50"), Decimal("40000.50"), Decimal(60000))


# -- R.28 cost and grants per practice --------------------------------------------------------


def test_r28_grants_per_practice(demo: PracticeStore):
    rows = run(demo, "28")
    got = {key(r["title"]): (amount(r["cost"]), amount(r["granted"]), r["grantCurrency"],
                             int(r["grants"]), r["currentRating"]) for r in rows}
    assert len(got) == len(rows)
    # The sources state no practice's cost; the STAR Fund CSV states amounts of some grants.
    assert "cost_gbp" not in read(DOMAIN / "practices.csv")[0]
    granted: dict[str, list[Decimal]] = defaultdict(list)
    for row in corpus("star-fund"):
        if row["amount_gbp"]:
            granted[key(row["title"])].append(amount(row["amount_gbp"]))
    assert got == {k: (None, sum(v), "GBP", len(v), None) for k, v in granted.items()}
    values = [amount(r["granted"]) for r in rows]
    assert values == sorted(values, reverse=True)


def test_r28_cost_beside_grants_and_current_rating(demo: PracticeStore,
                                                   extended: PracticeStore):
    rows = run(extended, "28")
    got = {r["practice"]: r for r in rows}
    assert len(got) == len(rows), "one row per practice (its current rating only)"
    g = synthetic()
    for practice, cost in g.subject_objects(pb("cost")):
        row = got[str(practice)]
        assert amount(row["cost"]) == g.value(cost, URIRef(SCHEMA + "value")).toPython()
        assert row["costCurrency"] == str(g.value(cost, URIRef(SCHEMA + "currency")))
        assert row["costPeriod"] == str(g.value(cost, pb("period")))
        covers = g.value(cost, DCTERMS.description)
        assert row["costCovers"] == (str(covers) if covers is not None else None)
        grants = [grant for grant in g.subjects(pb("recognises"), practice)
                  if (grant, RDF.type, pb("StarFundGrant")) in g]
        assert int(row["grants"]) == len(grants) == 1
        assert amount(row["granted"]) == g.value(
            g.value(grants[0], URIRef(SCHEMA + "amount")), URIRef(SCHEMA + "value")).toPython()
        (current,) = current_assessments(practice, "does-it-work")
        assert row["currentRating"] == CONCEPT_LABELS[concept_key(g.value(current,
                                                                          pb("ratingValue")))]
    assert got[PRACTICE + "synthetic-alley-gating"]["currentRating"] == "Worked"
    assert {r["practice"] for r in rows if "synthetic" in r["practice"]} == {
        str(practice) for practice in g.subjects(pb("cost"), None)}
    assert [r for r in rows if "synthetic" not in r["practice"]] == run(demo, "28")
    ordered = [amount(r["cost"]) or amount(r["granted"]) for r in rows]
    assert ordered == sorted(ordered, reverse=True)


# -- R.29 current rating and history ----------------------------------------------------------


def concept_key(iri) -> str:
    return str(iri).removeprefix(BASE + "concept/")


def current_assessments(practice: URIRef, scale: str) -> list[URIRef]:
    """From the synthetic Turtle: the practice's assessments on ``scale`` that no other
    supersedes."""
    g = synthetic()
    superseded = set(g.objects(None, pb("supersedes")))
    return [a for a in g.objects(practice, pb("rating"))
            if concept_key(g.value(a, pb("ratingScale"))) == scale and a not in superseded]


def test_r29_current_rating_of_each_practice(demo: PracticeStore):
    rows = run(demo, "29")
    got = {key(r["title"]): (r["scaleLabel"], r["currentRating"], r["ratedOn"], r["ratedBy"],
                             r["previousRating"], int(r["assessments"])) for r in rows}
    assert len(got) == len(rows)
    expected = {
        key(row["title"]): ("Does it work?", row["does_it_work"], None, COLLEGE, None, 1)
        for row in (*read(DOMAIN / "practices.csv"), *corpus("practice-bank"))
        if row["does_it_work"] in RATINGS
    }
    assert got == expected
    assert len(expected) == 17


def test_r29_current_rating_follows_supersession(extended: PracticeStore):
    rows = [r for r in run(extended, "29") if "synthetic" in r["practice"]]
    got = {(r["practice"], r["scaleLabel"]): (r["current"], r["currentRating"], r["ratedOn"],
                                              r["ratedBy"], r["previousRating"],
                                              int(r["assessments"])) for r in rows}
    g = synthetic()
    expected = {}
    for practice in set(g.subjects(pb("rating"), None)):
        scales = {concept_key(g.value(a, pb("ratingScale")))
                  for a in g.objects(practice, pb("rating"))}
        for scale in scales:
            (current,) = current_assessments(practice, scale)
            previous = g.value(current, pb("supersedes"))
            date = g.value(current, DCTERMS.date)
            by = g.value(current, pb("assessedBy"))
            expected[str(practice), CONCEPT_LABELS[scale]] = (
                str(current), CONCEPT_LABELS[concept_key(g.value(current, pb("ratingValue")))],
                str(date) if date is not None else None,
                COLLEGE if by is not None else None,
                CONCEPT_LABELS[concept_key(g.value(previous, pb("ratingValue")))]
                if previous is not None else None,
                sum(1 for a in g.objects(practice, pb("rating"))
                    if concept_key(g.value(a, pb("ratingScale"))) == scale))
    assert got == expected
    assert got[PRACTICE + "synthetic-alley-gating", "Does it work?"][1:] == (
        "Worked", "2024-06-30", COLLEGE, "Promising", 3)
    assert run(extended, "29")[0]["practice"] == PRACTICE + "synthetic-alley-gating", (
        "the longest history first")


# -- R.30 HMICFRS reports and the practices they mention ---------------------------------------


def test_r30_hmicfrs_reports_and_practices(demo: PracticeStore):
    rows = run(demo, "30")
    got = {(r["reportTitle"], key(r["title"])): (
        r["programmeLabel"], r["partOfLabel"], r["reportDate"], r["reportPage"],
        frozenset(split(r["leads"]))) for r in rows}
    assert len(got) == len(rows)
    expected = {}
    for row in corpus("hmicfrs-practice"):
        if row["report_title"]:
            programme, part_of = PROGRAMME[row["programme"]]
            expected[row["report_title"], key(row["title"])] = (
                programme, part_of, row["report_date"] or None, row["report_url"] or None,
                frozenset(organisation(n) for n in split(row["lead_organisation"])))
    assert got == expected
    assert len(expected) == 9
    assert [r["programmeLabel"] for r in rows] == sorted(r["programmeLabel"] for r in rows)
    peel_dates = [r["reportDate"] or "" for r in rows if r["programmeLabel"] == "PEEL"]
    assert peel_dates == sorted(peel_dates)


# -- R.31 intervention types that reduce crime ------------------------------------------------


def reducing_types() -> dict[str, tuple[int, int]]:
    """Toolkit types with an overall reduction (effect point 1 or 2) on evidence about effect
    of moderate quality or better: slug -> (effect point, quality order)."""
    found = {}
    for slug, row in toolkit().items():
        point, _ = TOOLKIT_EFFECT[row["effect"]]
        quality = QUALITY_LABEL.get(row["effect_quality"])
        if point <= 2 and quality is not None and QUALITY_ORDER[quality] >= 2:
            found[slug] = (point, QUALITY_ORDER[quality])
    return found


def test_r31_types_that_reduce_crime(demo: PracticeStore):
    rows = run(demo, "31")
    got = {local(r["interventionType"]): int(r["localPractices"]) for r in rows}
    assert got == {slug: 0 for slug in reducing_types()}
    assert len(got) == 16
    assert "improved-street-lighting" not in got, "no quality of evidence on effect given"
    assert "electronic-monitoring-of-offenders" not in got, "mixed findings"


def synthetic_reducing_types() -> dict[str, tuple[int, int]]:
    """The same rule applied to the synthetic Turtle's assessments (effect notation is the
    point; the quality concept's notation gives its order)."""
    g = synthetic()
    order = {key(label): number for label, number in QUALITY_ORDER.items()}
    found = {}
    for assessment in g.subjects(RDF.type, pb("EMMIEAssessment")):
        point = int(local(str(g.value(assessment, pb("ratingValue")))))
        for rating in g.objects(assessment, pb("emmieRating")):
            if local(str(g.value(rating, pb("emmieDimension")))) == "effect":
                quality = order[local(str(g.value(rating, pb("evidenceQuality"))))]
                if point <= 2 and quality >= 2:
                    slug = local(str(g.value(assessment, pb("assessedInterventionType"))))
                    found[slug] = (point, quality)
    return found


def test_r31_local_practices_of_those_types(extended: PracticeStore):
    rows = run(extended, "31")
    got = {local(r["interventionType"]): (int(r["localPractices"]), r["effectEvidence"])
           for r in rows}
    g = synthetic()
    uses = Counter(local(str(kind)) for kind in g.objects(None, pb("interventionType")))
    types = {**reducing_types(), **synthetic_reducing_types()}
    label = {number: name for name, number in QUALITY_ORDER.items()}
    assert got == {slug: (uses[slug], label[quality]) for slug, (_, quality) in types.items()}
    assert got["cctv"] == (1, "Strong")
    assert got["synthetic-moderate-evidence"] == (0, "Moderate")
    assert "synthetic-low-evidence" not in got and "scared-straight-programmes" not in got
    order = [(types[local(r["interventionType"])][0], -types[local(r["interventionType"])][1],
              -int(r["localPractices"])) for r in rows]
    assert order == sorted(order)


# -- R.32 organisations recognised by several sources -----------------------------------------


def test_r32_organisations_recognised_by_several_sources(demo: PracticeStore):
    rows = run(demo, "32")
    got = {r["organisationName"]: (set(split(r["recognisedBy"])), int(r["sources"]),
                                   int(r["recognisedPractices"]), int(r["recognitions"]))
           for r in rows}
    assert len(got) == len(rows)

    sources: dict[str, set[str]] = defaultdict(set)
    recognised: dict[str, set[str]] = defaultdict(set)
    recognitions: dict[str, set] = defaultdict(set)
    for practice_key, p in practices().items():
        for org in p.organisations:
            if p.recognitions:
                sources[org] |= p.sources
                recognised[org].add(practice_key)
                recognitions[org] |= {(practice_key, *r) for r in p.recognitions}
    expected = {org: (s, len(s), len(recognised[org]), len(recognitions[org]))
                for org, s in sources.items() if len(s) >= 2}
    assert got == expected
    assert got["Thames Valley Police"][0] == {TILLEY, STAR, SMARTER}
    assert got["Cleveland Police"][3] == 2, "the sample's and the corpus's HMICFRS record agree"
    ordered = [(-int(r["sources"]), -int(r["recognisedPractices"])) for r in rows]
    assert ordered == sorted(ordered)


def test_r32_recognitions_typed_only_by_their_class(demo: PracticeStore,
                                                    extended: PracticeStore):
    """The synthetic practice led by Merseyside Police has a STAR Fund grant (with its
    source) and a Tilley award typed only pb:TilleyAward: Merseyside then has practices
    recognised by both."""
    g = synthetic()
    practice = URIRef(PRACTICE + "synthetic-alley-gating")
    (participation,) = g.objects(practice, URIRef("http://www.w3.org/ns/prov#"
                                                  "qualifiedAttribution"))
    agent = g.value(participation, URIRef("http://www.w3.org/ns/prov#agent"))
    (force,) = [f["name"] for f in read(DOMAIN / "forces.csv")
                if force_slug(f) == local(str(agent))]
    class_source = {"TilleyAward": TILLEY, "StarFundGrant": STAR}
    added = {class_source[local(str(kind))]
             for recognition in g.subjects(pb("recognises"), practice)
             for kind in g.objects(recognition, RDF.type) if local(str(kind)) in class_source}
    assert added == {TILLEY, STAR}
    took_part = [p for p in practices().values() if force in p.organisations]
    csv_sources = set().union(*(p.sources for p in took_part))
    row = {r["organisationName"]: r for r in run(extended, "32")}[force]
    assert set(split(row["recognisedBy"])) == csv_sources | added
    assert int(row["recognisedPractices"]) == sum(1 for p in took_part if p.recognitions) + 1
    assert int(row["recognitions"]) == sum(len(p.recognitions) for p in took_part) + 2
    assert force not in {r["organisationName"] for r in run(demo, "32")}


# -- R.33 pages of the public record per source ----------------------------------------------


def test_r33_public_record_pages_per_source(demo: PracticeStore):
    rows = run(demo, "33")
    got = {(local(r["source"]), r["page"]): (
        r["dateRead"], int(r["records"]), int(r["practices"]), int(r["recognitions"]),
        int(r["assessments"]), int(r["reports"])) for r in rows}
    assert len(got) == len(rows)

    # page -> records of each kind derived from it, per source graph, with the date read.
    kinds = ("practices", "recognitions", "assessments", "reports")
    records: dict = defaultdict(lambda: {k: set() for k in kinds})
    read_on: dict = {}

    def derive(graph: str, row: dict[str, str], **found: object) -> None:
        for page in split(row["source_url"]):
            read_on[graph, page] = row["date_read"]
            for kind, record in found.items():
                if record is not None:
                    records[graph, page][kind].add(record)

    for row in corpus("tilley-awards"):
        derive("corpus-tilley", row, practices=key(row["title"]),
               recognitions=(key(row["title"]), row["year"]))
    for row in corpus("star-fund"):
        derive("corpus-star-fund", row, practices=key(row["title"]),
               recognitions=(key(row["title"]), row["round"]))
    for row in corpus("crime-reduction-toolkit"):
        derive("corpus-toolkit", row, assessments=row["slug"])
    for row in corpus("hmicfrs-practice"):
        derive("corpus-hmicfrs", row, practices=key(row["title"]),
               recognitions=(key(row["title"]), row["report_title"]),
               reports=key(row["report_title"]) or None)
    for row in corpus("practice-bank"):
        derive("corpus-practice-bank", row, practices=key(row["title"]),
               assessments=key(row["title"]) if row["does_it_work"] in RATINGS else None,
               recognitions=key(row["title"]) if row["recognised_practice"] else None)
    expected = {
        where: (read_on[where], sum(len(s) for s in found.values()),
                *(len(found[k]) for k in kinds))
        for where, found in records.items()
    }
    assert got == expected
    assert {graph for graph, _ in got} == {
        "corpus-tilley", "corpus-star-fund", "corpus-toolkit", "corpus-hmicfrs",
        "corpus-practice-bank"}
    assert got["corpus-star-fund", "https://science.police.uk/opportunities/police-star-fund/"
               "previously-funded-police-star-fund-projects/"][1] == 20
    assert {r["sourceTitle"] for r in rows if local(r["source"]) == "corpus-tilley"} == {
        "Tilley award entries from the public record"}


# -- R.34 practices linked to each other ------------------------------------------------------


def test_r34_practices_linked_to_each_other(demo: PracticeStore):
    rows = run(demo, "34")
    got = Counter((r["title"], r["linkLabel"], r["otherTitle"]) for r in rows)
    expected = Counter()
    for row in read(DATA / "sample-practices.csv"):
        for other in split(row["same_intervention_as"]):
            # pb:sameInterventionAs is symmetric: the loaders write both directions.
            expected[row["title"], LINK_LABELS["sameInterventionAs"], other] += 1
            expected[other, LINK_LABELS["sameInterventionAs"], row["title"]] += 1
    assert got == expected
    assert len(rows) == 2


def test_r34_links_of_every_kind(extended: PracticeStore):
    rows = run(extended, "34")
    got = {(r["practice"], r["linkLabel"], r["other"]): r["otherTitle"] for r in rows}
    assert len(got) == len(rows)
    demo_rows = [r for r in rows if "synthetic" not in r["practice"]]
    g = synthetic()
    expected = {}
    for name, label in LINK_LABELS.items():
        for practice, other in g.subject_objects(pb(name)):
            title = g.value(other, DCTERMS.title)
            expected[str(practice), label, str(other)] = str(title) if title else None
    # The practice the synthetic one replicates is a sample practice: its title is the CSV's.
    replicated = PRACTICE + "nudging-down-burglary"
    expected[PRACTICE + "synthetic-restorative-circle", "replicates", replicated] = (
        practices()[local(replicated)].title)
    assert {k: v for k, v in got.items() if "synthetic" in k[0]} == expected
    assert len(demo_rows) == 2
    assert got[PRACTICE + "synthetic-alley-gating", "adapted from",
               PRACTICE + "synthetic-undescribed-original"] is None

