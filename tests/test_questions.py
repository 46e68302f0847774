"""The example-query library: one SPARQL query per competency question (endpoint/queries).

Every query runs on the bundled demo data and must give the answer worked out independently
from the sample's source, ``shared/domain/practices.csv`` (and ``forces.csv``), or from facts
checked by hand against the vocabularies. Where the sample cannot make part of a question
non-empty (shared partners, recognition dates, crime counts), a second store adds small
synthetic graphs: ``tests/fixtures/crime-counts.ttl`` and the Turtle in this module.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import find_shared
from rdflib.plugins.sparql import prepareQuery

from practicebank.loaders.load import load_bundle
from practicebank.provenance import now as provenance_now
from practicebank.resources import CORPUS, DEMO_BUNDLES
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "endpoint" / "queries"
DOMAIN = find_shared() / "domain"
CRIME_COUNTS = Path(__file__).resolve().parent / "fixtures" / "crime-counts.ttl"

GRAPH = "https://w3id.org/practicebank/graph/"
PRACTICE = "https://w3id.org/practicebank/id/practice/"
FORCE = "https://w3id.org/practicebank/id/force/"
CONCEPT = "https://w3id.org/practicebank/concept/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PB = "https://w3id.org/practicebank/def/"

AUTISM_PASSPORT = PRACTICE + "autism-passport-scheme"

#: The practice bank's ratings that are "Promising or better", as the CSV spells them.
PROMISING_OR_BETTER = {"Worked", "Promising"}
#: Every CSV value that is a real rating on the "Does it work?" scale.
RATINGS = PROMISING_OR_BETTER | {"Untested – new or innovative", "Didn't work"}

#: Topic → data.police.uk crime category → Home Office offence groups, as the vocabularies
#: state them (checked by hand against ontology/vocabularies.ttl).
TOPIC_CATEGORY = {
    "Violence against women and girls": "violent-crime",
    "Violence (other)": "violent-crime",
    "Violence including homicide": "violent-crime",
    "Drugs and alcohol": "drugs",
}
CATEGORY_GROUPS = {
    "violent-crime": {"violence-against-the-person", "sexual-offences"},
    "drugs": {"drug-offences"},
}

# Synthetic statements for the parts of questions that the sample leaves empty.
EXTRA_GRAPH = GRAPH + "question-test"
EXTRA_TURTLE = """
@prefix pb:          <https://w3id.org/practicebank/def/> .
@prefix dcterms:     <http://purl.org/dc/terms/> .
@prefix skos:        <http://www.w3.org/2004/02/skos/core#> .
@prefix org:         <http://www.w3.org/ns/org#> .
@prefix prov:        <http://www.w3.org/ns/prov#> .
@prefix xsd:         <http://www.w3.org/2001/XMLSchema#> .
@prefix concept:     <https://w3id.org/practicebank/concept/> .
@prefix dow:         <https://w3id.org/practicebank/concept/does-it-work/> .
@prefix target:      <https://w3id.org/practicebank/concept/target-group/> .
@prefix stage:       <https://w3id.org/practicebank/concept/stage/> .
@prefix partner:     <https://w3id.org/practicebank/concept/partner-type/> .
@prefix practice:    <https://w3id.org/practicebank/id/practice/> .
@prefix assessment:  <https://w3id.org/practicebank/id/assessment/> .
@prefix recognition: <https://w3id.org/practicebank/id/recognition/> .
@prefix orgid:       <https://w3id.org/practicebank/id/organisation/> .

# A.5 (education partner through a named organisation's classification), A.7 (a partner
# shared with the Autism passport scheme) and A.4 (independently evaluated, not rated).
practice:synthetic-school-liaison a pb:Practice ;
    dcterms:title "Synthetic school liaison practice (test fixture)"@en ;
    pb:stage stage:independently-evaluated ;
    pb:targetGroup target:children-and-young-people ;
    pb:partner orgid:autism-guernsey , orgid:synthetic-academy .
orgid:synthetic-academy a pb:Organisation ;
    skos:prefLabel "Synthetic Academy (test fixture)"@en ;
    org:classification partner:education .

# A.1: "or better" must take in Worked (linked only from the assessment side) and leave out
# Didn't work. A.4: evaluated but rated, so not a candidate.
practice:synthetic-worked a pb:Practice ;
    dcterms:title "Synthetic practice that worked (test fixture)"@en ;
    pb:stage stage:evaluated-locally .
assessment:synthetic-worked a pb:RatingAssessment ;
    pb:assessedPractice practice:synthetic-worked ;
    pb:ratingScale concept:does-it-work ;
    pb:ratingValue dow:worked .
practice:synthetic-didnt-work a pb:Practice ;
    dcterms:title "Synthetic practice that did not work (test fixture)"@en ;
    pb:rating assessment:synthetic-didnt-work .
assessment:synthetic-didnt-work a pb:RatingAssessment ;
    pb:ratingScale concept:does-it-work ;
    pb:ratingValue dow:didnt-work .

# A.3: a date on a sample recognition, and a recognition typed only by its class.
<https://w3id.org/practicebank/id/recognition/begging-resources-guidance-surrey-police/smarter-practice>
    dcterms:date "2024-05-01"^^xsd:date .
recognition:synthetic-hmicfrs-mention a pb:HMICFRSInspectionMention ;
    pb:recognises practice:synthetic-school-liaison ;
    dcterms:date "2023-11-20"^^xsd:date .

# A.6: a second graph that says something about the Autism passport scheme, from its own
# source page.
practice:autism-passport-scheme dcterms:description "Synthetic second-graph statement."@en ;
    prov:wasDerivedFrom <https://example.org/synthetic/autism-passport-note> .
"""

# A.6: two loads of the test graph (the later one counts) and an older load of the sample.
PROVENANCE_TURTLE = """
@prefix pb:    <https://w3id.org/practicebank/def/> .
@prefix prov:  <http://www.w3.org/ns/prov#> .
@prefix xsd:   <http://www.w3.org/2001/XMLSchema#> .
@prefix graph: <https://w3id.org/practicebank/graph/> .

<urn:test:load:sample-earlier> a pb:Load ;
    pb:targetGraph graph:sample ; prov:generated graph:sample ;
    prov:endedAtTime "2020-01-01T00:00:00Z"^^xsd:dateTime .
<urn:test:load:question-test-first> a pb:Load ;
    pb:targetGraph graph:question-test ; prov:generated graph:question-test ;
    prov:endedAtTime "2025-01-01T09:00:00Z"^^xsd:dateTime .
<urn:test:load:question-test-latest> a pb:Load ;
    pb:targetGraph graph:question-test ; prov:generated graph:question-test ;
    prov:endedAtTime "2025-06-01T12:00:00Z"^^xsd:dateTime .
"""

EXPECTED_FILES = [
    "01", "02", "03", "04", "05", "06", "07", "08", "08b", "09", "10", "11", "12",
    "13", "13b", "14", "15", "16", "17", "18", "19",
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "32", "33", "34",
]


def question_of(number: int) -> str:
    """The question a query file answers: A.n, B.n and C.n are QUESTIONS.md's (C, 13-19, the
    cross-sector questions federated with the partner endpoints:
    tests/test_cross_sector.py); from 20 on, R.n, the research questions the 2.0 model
    answers (tests/test_research_questions.py)."""
    section = "A" if number <= 8 else "B" if number <= 12 else "C" if number < 20 else "R"
    return f"{section}.{number}"


def is_federated(text: str) -> bool:
    """Whether a library query calls another endpoint (run against the partner endpoints in
    tests/test_cross_sector.py, not here)."""
    return re.search(r"^\s*SERVICE\b", text, re.MULTILINE | re.IGNORECASE) is not None


@dataclass
class Loaded:
    store: PracticeStore
    started: datetime
    finished: datetime


def _now() -> datetime:
    """The clock and precision (milliseconds) provenance records loads with, to bracket
    them."""
    return provenance_now()


@pytest.fixture(scope="module")
def demo() -> Loaded:
    """The bundled demo data without the corpus from the public record: the questions of
    QUESTIONS.md are worked out here from the practice bank's sample (practices.csv); the
    corpus's questions are tests/test_research_questions.py's."""
    store = PracticeStore()
    started = _now()
    load_sample(store)
    return Loaded(store, started, _now())


def load_sample(store: PracticeStore) -> None:
    """What ``serve --demo`` loads (in its order), but the corpus graphs."""
    for bundle in DEMO_BUNDLES:
        if bundle not in CORPUS:
            load_bundle(store, bundle)


@pytest.fixture(scope="module")
def extended() -> PracticeStore:
    """The demo data plus the synthetic crime counts and statements of this module."""
    store = PracticeStore()
    load_sample(store)
    store.ox.load(path=str(CRIME_COUNTS), format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(GRAPH + "crime-test"))
    store.ox.load(EXTRA_TURTLE, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(EXTRA_GRAPH))
    store.ox.load(PROVENANCE_TURTLE, format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(GRAPH + "provenance"))
    return store


# -- helpers -----------------------------------------------------------------------------


def query_file(key: str) -> Path:
    """The query file whose name starts with ``{key}-``."""
    found = sorted(QUERIES.glob(f"{key}-*.rq"))
    assert len(found) == 1, f"expected one query file {key}-*.rq, found {found}"
    return found[0]


def run(store: PracticeStore, key: str) -> list[dict[str, str | None]]:
    """Run a library query; each row as {variable: lexical value or None}."""
    results = store.query(query_file(key).read_text(encoding="utf-8"))
    names = [v.value for v in results.variables]
    return [
        {name: (row[name].value if row[name] is not None else None) for name in names}
        for row in results
    ]


def local(iri: str | None) -> str | None:
    """The last path segment or fragment of an IRI: a concept's notation, a force's slug."""
    return None if iri is None else re.split(r"[/#]", iri)[-1]


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def practices_csv() -> list[dict[str, str]]:
    with open(DOMAIN / "practices.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def forces_csv() -> list[dict[str, str]]:
    with open(DOMAIN / "forces.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def csv_row(title: str) -> dict[str, str]:
    (row,) = [r for r in practices_csv() if r["title"] == title]
    return row


# -- the library as a whole ---------------------------------------------------------------


def test_library_has_one_file_per_question():
    keys = sorted(p.name.split("-")[0] for p in QUERIES.glob("*.rq"))
    assert keys == EXPECTED_FILES


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_query_has_headers_and_runs(path: Path, demo: Loaded):
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    headers = [re.fullmatch(rf"# {field}: (\S.*)", line)
               for field, line in zip(("title", "question", "description"), lines, strict=False)]
    assert all(headers), f"{path.name} must start with # title / # question / # description"
    question = headers[1].group(1)
    number = int(re.match(r"\d+", path.name).group())
    assert question == question_of(number)
    assert len(headers[2].group(1).split()) >= 10, "the description should say something"
    assert "PREFIX" in text and re.search(r"\bORDER BY\b", text), "prefixes and a stable order"
    if is_federated(text):  # no remote here: parsed only (run in tests/test_cross_sector.py)
        prepareQuery(text)
        return
    list(demo.store.query(text))  # parses and runs without error


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_query_does_not_match_strings(path: Path):
    """Things are selected by IRI or model structure, never by matching text."""
    body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                     if not line.lstrip().startswith("#"))
    assert not re.search(r"\b(regex|contains|strstarts|strends)\s*\(", body, re.IGNORECASE)


# -- A. over the practice bank alone -------------------------------------------------------


def test_q01_promising_or_better(demo: Loaded):
    rows = run(demo.store, "01")
    by_title = {row["title"]: row for row in rows}
    assert len(by_title) == len(rows), "one row per practice"

    expected = {r["title"] for r in practices_csv() if r["does_it_work"] in PROMISING_OR_BETTER}
    assert set(by_title) == expected
    assert len(expected) == 10
    untested = {r["title"] for r in practices_csv()
                if r["does_it_work"] == "Untested – new or innovative"}
    assert not untested & set(by_title)

    autism = by_title["Autism passport scheme"]
    assert autism["ratingLabel"] == "Promising"
    assert autism["organisationName"] == "Bailiwick of Guernsey Law Enforcement"
    assert autism["purposes"] == "Prevention"
    assert set(split(autism["topics"])) == set(split(csv_row("Autism passport scheme")["topics"]))
    assert by_title["Rapid video response (RVR) for domestic abuse"]["organisationName"] == (
        "Kent Police")


def test_q01_threshold_comes_from_the_scale_order(extended: PracticeStore):
    titles = {row["title"]: row["ratingLabel"] for row in run(extended, "01")}
    assert titles["Synthetic practice that worked (test fixture)"] == "Worked"
    assert "Synthetic practice that did not work (test fixture)" not in titles


def test_q02_ratings_per_purpose(demo: Loaded):
    rows = run(demo.store, "02")
    got = {(local(row["rating"]), local(row["purpose"])): int(row["practices"]) for row in rows}

    expected = Counter()
    for r in practices_csv():
        if r["does_it_work"] in RATINGS:
            for purpose in split(r["purpose_focus"]):
                expected[slug(r["does_it_work"]), slug(purpose)] += 1
    assert got == dict(expected)
    assert got[("promising", "prevention")] == 7
    assert got[("untested-new-or-innovative", "reoffending")] == 1


def test_q03_recognitions(demo: Loaded):
    rows = run(demo.store, "03")
    by_source: dict[str, set[str]] = {}
    for row in rows:
        by_source.setdefault(row["sourceLabel"], set()).add(row["title"])

    csv_rows = practices_csv()
    assert by_source == {
        "HMICFRS": {r["title"] for r in csv_rows
                    if r["recognised_practice"].startswith("HMICFRS")},
        "Smarter practice": {r["title"] for r in csv_rows
                             if r["recognised_practice"].startswith("Smarter practice")},
    }
    assert len(by_source["Smarter practice"]) == 8
    assert {row["recognisedByName"] for row in rows if row["sourceLabel"] == "HMICFRS"} == {
        "His Majesty's Inspectorate of Constabulary and Fire & Rescue Services"}
    assert all(row["date"] is None for row in rows), "the sample records no recognition dates"


def test_q03_dates_and_class_typed_recognitions(extended: PracticeStore):
    rows = run(extended, "03")
    dates = {(row["sourceLabel"], row["title"]): row["date"] for row in rows}
    assert dates[("Smarter practice", "Begging resources guidance – Surrey Police")] == (
        "2024-05-01")
    # Typed pb:HMICFRSInspectionMention only, with no pb:recognitionSource: found by class.
    assert dates[("HMICFRS", "Synthetic school liaison practice (test fixture)")] == "2023-11-20"
    assert len(rows) == 10


def test_q04_unrated_but_evaluated(demo: Loaded):
    rows = run(demo.store, "04")
    expected = {
        r["title"] for r in practices_csv()
        if r["stage_of_practice"].startswith(("Evaluated locally", "Independently evaluated"))
        and r["does_it_work"] not in RATINGS
    }
    assert expected == {"Bike intelligence tool for serious acquisitive crime offences"}
    assert [row["title"] for row in rows] == sorted(expected)
    (bike,) = rows
    assert local(bike["stage"]) == "evaluated-locally"
    assert bike["organisationName"] == "Merseyside Police"


def test_q04_rated_practices_are_left_out(extended: PracticeStore):
    rows = {row["title"]: local(row["stage"]) for row in run(extended, "04")}
    assert rows == {
        "Bike intelligence tool for serious acquisitive crime offences": "evaluated-locally",
        "Synthetic school liaison practice (test fixture)": "independently-evaluated",
    }, "the evaluated synthetic practice that has a rating (Worked) must not be listed"


def test_q05_young_people_with_health_or_education_partner(demo: Loaded):
    rows = run(demo.store, "05")
    expected = {
        r["title"] for r in practices_csv()
        if "Children and young people" in split(r["target_group"])
        and re.search(r"\b(Health services|Education)\b", r["notes"])
    }
    assert expected == {"Autism passport scheme"}
    assert [row["title"] for row in rows] == ["Autism passport scheme"]
    assert rows[0]["healthOrEducationPartners"] == "Health services"
    assert rows[0]["namedPartners"] == "Autism Guernsey"


def test_q05_partner_organisation_classification(extended: PracticeStore):
    rows = {row["title"]: row for row in run(extended, "05")}
    school = rows["Synthetic school liaison practice (test fixture)"]
    assert school["healthOrEducationPartners"] == "Education"
    assert set(split(school["namedPartners"])) == {
        "Autism Guernsey", "Synthetic Academy (test fixture)"}
    assert set(rows) == {"Autism passport scheme",
                         "Synthetic school liaison practice (test fixture)"}


def test_q06_provenance_of_one_practice(demo: Loaded):
    rows = run(demo.store, "06")
    quads = list(demo.store.ox.quads_for_pattern(ox.NamedNode(AUTISM_PASSPORT), None, None))
    # 22 facts of the CSV row, and a prov:qualifiedAttribution for each of its two
    # participants (the lead force and the partner charity)
    assert len(rows) == len(quads) == 24, "one row per statement, none repeated"
    assert {row["graph"] for row in rows} == {GRAPH + "sample"}

    sources = set(split(csv_row("Autism passport scheme")["source_url"]))
    for row in rows:
        assert set(row["sourcePages"].split()) == sources
        loaded = datetime.fromisoformat(row["lastLoaded"])
        assert demo.started <= loaded <= demo.finished

    statements = {(local(row["property"]), row["value"]) for row in rows}
    assert ("title", "Autism passport scheme") in statements
    assert ("organisation", FORCE + "bailiwick-of-guernsey-law-enforcement") in statements
    assert sum(1 for prop, _ in statements if prop == "topic") == 4


def test_q06_each_graph_has_its_own_sources_and_latest_load(extended: PracticeStore):
    rows = run(extended, "06")
    by_graph: dict[str, list[dict]] = {}
    for row in rows:
        by_graph.setdefault(row["graph"], []).append(row)
    assert set(by_graph) == {GRAPH + "sample", EXTRA_GRAPH}

    extra = by_graph[EXTRA_GRAPH]
    assert {(local(r["property"]), r["value"]) for r in extra} == {
        ("description", "Synthetic second-graph statement."),
        ("wasDerivedFrom", "https://example.org/synthetic/autism-passport-note"),
    }
    assert {r["sourcePages"] for r in extra} == {
        "https://example.org/synthetic/autism-passport-note"}
    assert {r["lastLoaded"] for r in extra} == {"2025-06-01T12:00:00Z"}

    sample = by_graph[GRAPH + "sample"]
    assert len(sample) == 24, "a second load of the graph must not repeat its rows"
    (sample_loaded,) = {r["lastLoaded"] for r in sample}
    assert sample_loaded > "2020-01-01T00:00:00Z"
    assert "https://example.org/synthetic/autism-passport-note" not in sample[0]["sourcePages"]


def test_q07_also_known_as(demo: Loaded):
    rows = run(demo.store, "07")
    assert [(r["kind"], r["title"], r["alsoKnownAs"]) for r in rows] == [
        ("also known as", "Advice and fraud prevention information for elderly people",
         "Operation Repeat"),
    ]
    assert "also known as Operation Repeat" in csv_row(rows[0]["title"])["notes"]
    assert not [r for r in rows if r["kind"] == "shares a partner"], "no shared partner yet"


def test_q07_shared_partner_pairs(extended: PracticeStore):
    pairs = [r for r in run(extended, "07") if r["kind"] == "shares a partner"]
    assert len(pairs) == 1, "each pair once, never a practice with itself"
    (pair,) = pairs
    assert {pair["practice"], pair["otherPractice"]} == {
        AUTISM_PASSPORT, PRACTICE + "synthetic-school-liaison"}
    assert pair["partnerName"] == "Autism Guernsey"


def test_q08_forces_by_practice_count(demo: Loaded):
    rows = run(demo.store, "08")
    counts = {local(row["force"]): int(row["practices"]) for row in rows}
    assert counts == {
        "thames-valley": 4, "british-transport-police": 2, "hampshire": 2,
        "bailiwick-of-guernsey-law-enforcement": 1, "cleveland": 1, "derbyshire": 1,
        "durham": 1, "kent": 1, "merseyside": 1, "surrey": 1, "west-yorkshire": 1,
    }
    assert [int(row["practices"]) for row in rows] == sorted(counts.values(), reverse=True)
    assert rows[0]["forceName"] == "Thames Valley Police"
    assert "Operation Rasure – Thames Valley Police" in split(rows[0]["titles"])


def test_q08b_regions_without_topic(demo: Loaded, extended: PracticeStore):
    rows = run(demo.store, "08b")
    all_regions = {local(row["r"].value) for row in demo.store.query(
        f"SELECT ?r WHERE {{ ?r a <{PB}Region> }}")}
    with_topic = {
        slug(r["region"].replace("(as displayed)", ""))
        for r in practices_csv()
        if "Violence against women and girls" in split(r["topics"]) and r["region"]
    }
    assert with_topic == {"south-west", "south-east", "london"}
    assert {local(row["region"]) for row in rows} == all_regions - with_topic
    assert len(rows) == 9
    assert {row["topicLabel"] for row in rows} == {"Violence against women and girls"}

    # The synthetic Merseyside practice has no region of its own: it is placed in the North
    # West through its force.
    assert "north-west" not in {local(row["region"]) for row in run(extended, "08b")}


# -- B. with the linked reference data and vocabularies ---------------------------------


def test_q09_rating_crosswalk(demo: Loaded):
    rows = run(demo.store, "09")
    mapped = [row for row in rows if row["mappingPredicate"] is not None]
    assert len(mapped) == 13 and len(rows) == 14

    got = {(local(r["rating"]), local(r["mappingPredicate"]),
            r["targetConcept"].removeprefix(CONCEPT)) for r in mapped}
    assert ("worked", "closeMatch", "crimesolutions/effective") in got
    assert ("promising", "relatedMatch", "emmie-effect/2") in got
    assert ("promising", "relatedMatch", "emmie-effect/3") in got
    assert ("didnt-work", "narrowMatch", "crimesolutions/negative-effects") in got
    assert not any(pred == "exactMatch" for _, pred, _ in got), "scales are never equated"

    for row in mapped:
        assert len(row["limitingNote"]) > 40
        assert demo.store.query(f"ASK {{ <{row['rating']}> <{row['mappingPredicate']}> "
                                f"<{row['targetConcept']}> }}"), "record matches a triple"

    (unmapped,) = [row for row in rows if row["mappingPredicate"] is None]
    assert local(unmapped["rating"]) == "untested-new-or-innovative"
    assert unmapped["targetSchemeName"] == "Crime Reduction Toolkit (EMMIE) effect"
    assert [local(r["rating"]) for r in rows][0] == "worked", "strongest rating first"


def test_q10_topics_to_crime_categories(demo: Loaded):
    rows = run(demo.store, "10")
    got = {(r["title"], local(r["crimeCategory"]), local(r["offenceGroup"])) for r in rows}
    expected = set()
    for r in practices_csv():
        for category in {TOPIC_CATEGORY[t] for t in split(r["topics"]) if t in TOPIC_CATEGORY}:
            expected |= {(r["title"], category, group) for group in CATEGORY_GROUPS[category]}
    assert got == expected
    assert len(rows) == len(expected) == 13
    assert {local(r["groupMapping"]) for r in rows if local(r["crimeCategory"]) == "drugs"} == {
        "closeMatch"}
    assert {local(r["groupMapping"]) for r in rows
            if local(r["crimeCategory"]) == "violent-crime"} == {"narrowMatch"}
    kent = {r["topics"] for r in rows
            if r["title"] == "Kent and Medway safer knife replacement scheme"}
    assert {frozenset(split(t)) for t in kent} == {frozenset(
        {"Violence against women and girls", "Violence (other)", "Violence including homicide"})}


def test_q11_forces_identifiers_and_practices(demo: Loaded):
    rows = run(demo.store, "11")
    assert len(rows) == len(forces_csv()) == 51
    by_id = {row["policeUkId"]: row for row in rows if row["policeUkId"]}
    for force in forces_csv():
        if force["data_police_uk_id"]:
            row = by_id[force["data_police_uk_id"]]
            assert row["pfaCode"] == (force["ons_pfa_code"] or None), force["name"]
    assert sum(1 for row in rows if row["policeUkId"] is None) == sum(
        1 for force in forces_csv() if not force["data_police_uk_id"])

    merseyside = by_id["merseyside"]
    assert merseyside["pfaCode"] == "E23000004"
    assert merseyside["practices"] == (
        "Bike intelligence tool for serious acquisitive crime offences")
    assert int(by_id["thames-valley"]["practiceCount"]) == 4
    assert by_id["avon-and-somerset"]["practices"] in (None, "")
    assert sum(int(row["practiceCount"]) for row in rows) == 16


def test_q12_no_crime_counts_in_the_sample(demo: Loaded):
    assert run(demo.store, "12") == []


def test_q12_crime_fell_after_start(extended: PracticeStore):
    rows = run(extended, "12")
    assert [(local(r["practice"]), r["forceName"], r["crimeCategoryLabel"], r["startMonth"],
             int(r["countBefore"]), int(r["countAfter"]), int(r["change"])) for r in rows] == [
        ("synthetic-violence-reduction-merseyside", "Merseyside Police",
         "Violence and sexual offences", "2023-07", 2650, 2300, -350),
    ]
    assert PRACTICE + "synthetic-bike-marking-merseyside" not in {r["practice"] for r in rows}
