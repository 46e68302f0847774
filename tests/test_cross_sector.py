"""The cross-sector questions (endpoint/queries/13-… to 19-…, QUESTIONS.md section C) run
through our endpoint against the partner endpoints, over real HTTP.

Each query names its partners by their public addresses (practicebank/partner_services.py);
here they are rewritten to the local ``oxigraph serve-read-only`` of each slice (the session
fixture ``partner_endpoints``), and our endpoint, a Flask test client over the demo data plus
the CrimeSolutions crosswalk, has exactly those on its allowlist. Every answer is compared
with one worked out here without SPARQL: the partner slices (data/partners/*.ttl) and the
crosswalk read with rdflib, our side from the demo store's quads loaded into an rdflib graph,
the police forces' codes from the shared forces.csv, and the joins done in plain Python.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, RDFS, SKOS, Literal, Namespace, URIRef

from practicebank.endpoint import create_app
from practicebank.loaders.load import load_file
from practicebank.partner_services import PUBLIC_ENDPOINTS, localise, service_iris
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "endpoint" / "queries"
PARTNERS = ROOT / "data" / "partners"
CROSSWALK = PARTNERS / "crimesolutions-crosswalk.ttl"
CROSSWALK_GRAPH = "crimesolutions-crosswalk"

PB = Namespace("https://w3id.org/practicebank/def/")
CONCEPT = "https://w3id.org/practicebank/concept/"
FORCE = "https://w3id.org/practicebank/id/force/"
DCTERMS = Namespace("http://purl.org/dc/terms/")
SCHEMA = Namespace("https://schema.org/")
CSX = Namespace("http://example.org/crimesolutions-example/def#")
CS_TOPICS = URIRef("http://example.org/crimesolutions-example/topic")
QB = Namespace("http://purl.org/linked-data/cube#")
SDMX = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
MEASURE = Namespace("http://statistics.data.gov.uk/def/measure-properties/")
YEAR_2022 = URIRef("http://reference.data.gov.uk/id/year/2022")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
FOI = Namespace("http://publishmydata.com/def/ontology/foi/")
STATENT = Namespace("http://statistics.data.gov.uk/def/statistical-entity#")
STATGEO = Namespace("http://statistics.data.gov.uk/def/statistical-geography#")
AUTHORITY_ENTITIES = {URIRef(f"http://statistics.data.gov.uk/id/statistical-entity/{e}")
                      for e in ("E06", "E07", "E08", "E09", "W06")}
UNTESTED = URIRef(CONCEPT + "does-it-work/untested-new-or-innovative")
EFFECT_DIMENSION = URIRef(CONCEPT + "emmie-dimension/effect")

FEDERATED = sorted(p for p in QUERIES.glob("*.rq")
                   if re.search(r"^\s*SERVICE\b", p.read_text("utf-8"), re.M | re.I))


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_store(demo_store: PracticeStore) -> PracticeStore:
    """The demo data and, if the demo does not load it already, the crosswalk, loaded through
    the pipeline (so the shapes check it)."""
    store = PracticeStore()
    store.ox.extend(list(demo_store.ox))
    if not store.has_graph(CROSSWALK_GRAPH):
        result = load_file(store, CROSSWALK, graph=CROSSWALK_GRAPH)
        assert not result.problems, result.problems
    return store


@pytest.fixture(scope="module")
def client(local_store, partner_endpoints):
    app = create_app({"TESTING": True, "STORE": local_store, "ACCESS_LOG": False,
                      "SERVICE_ALLOWLIST": " ".join(partner_endpoints.urls.values())})
    return app.test_client()


@pytest.fixture(scope="module")
def run(client, partner_endpoints):
    """Run library query ``{key}-*.rq`` against the partner endpoints; rows as
    {variable: lexical value} (unbound variables left out), in the answer's order."""

    def answer(key: str) -> list[dict[str, str]]:
        (path,) = sorted(QUERIES.glob(f"{key}-*.rq"))
        query = localise(path.read_text(encoding="utf-8"), partner_endpoints.urls)
        response = client.get("/sparql", query_string={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return [{name: term["value"] for name, term in row.items()}
                for row in response.get_json()["results"]["bindings"]]

    return answer


@pytest.fixture(scope="module")
def ours(local_store) -> rdflib.Graph:
    """Every triple of every graph of our store, as one rdflib graph (read without SPARQL)."""
    data = local_store.ox.dump(format=ox.RdfFormat.N_QUADS)
    dataset = rdflib.Dataset()
    dataset.parse(data=data, format="nquads")
    graph = rdflib.Graph()
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def partner(name: str) -> rdflib.Graph:
    return rdflib.Graph().parse(PARTNERS / f"{name}.ttl", format="turtle")


@pytest.fixture(scope="module")
def ons() -> rdflib.Graph:
    return partner("ons-geography")


@pytest.fixture(scope="module")
def wikidata() -> rdflib.Graph:
    return partner("wikidata")


@pytest.fixture(scope="module")
def crimesolutions() -> rdflib.Graph:
    return partner("crimesolutions")


@pytest.fixture(scope="module")
def authorities() -> rdflib.Graph:
    return partner("local-authorities")


@pytest.fixture(scope="module")
def crosswalk() -> rdflib.Graph:
    return rdflib.Graph().parse(CROSSWALK, format="turtle")


@pytest.fixture(scope="module")
def force_codes(forces_csv: Path) -> dict[URIRef, str]:
    """Force IRI -> its ONS Police Force Area code, from the shared forces.csv."""
    with open(forces_csv, newline="", encoding="utf-8") as f:
        return {URIRef(FORCE + row["data_police_uk_id"]): row["ons_pfa_code"]
                for row in csv.DictReader(f) if row["ons_pfa_code"]}


# -- plain-Python helpers over the graphs ----------------------------------------------------


def english(graph: rdflib.Graph, subject) -> str:
    (label,) = [o for o in graph.objects(subject, SKOS.prefLabel) if o.language == "en"]
    return str(label)


def in_language(graph: rdflib.Graph, subject, predicate, language: str) -> set[str]:
    return {str(o) for o in graph.objects(subject, predicate)
            if isinstance(o, Literal) and o.language == language}


def practices_of(ours: rdflib.Graph, organisation) -> set:
    """Practices that name ``organisation`` as lead (pb:organisation) or partner."""
    practices = set(ours.subjects(RDF.type, PB.Practice))
    return {p for prop in (PB.organisation, PB.partner)
            for p in ours.subjects(prop, organisation) if p in practices}


def title(ours: rdflib.Graph, practice) -> str:
    return min(str(t) for t in ours.objects(practice, DCTERMS.title))


def population_2022(ons: rdflib.Graph) -> dict[URIRef, tuple[int, str | None]]:
    """Area -> (its mid-2022 population, the observation's comment)."""
    found = {}
    for observation in ons.subjects(RDF.type, QB.Observation):
        if ons.value(observation, SDMX.refPeriod) == YEAR_2022:
            note = ons.value(observation, RDFS.comment)
            found[ons.value(observation, SDMX.refArea)] = (
                int(ons.value(observation, MEASURE["count"])), None if note is None else str(note))
    return found


def crosswalk_records(crosswalk: rdflib.Graph) -> dict[URIRef, set[URIRef]]:
    """Our concept -> the CrimeSolutions topics its mapping records point to."""
    related = defaultdict(set)
    for record in crosswalk.subjects(RDF.type, PB.ConceptMapping):
        related[crosswalk.value(record, PB.mappingSubject)].add(
            crosswalk.value(record, PB.mappingObject))
    return related


def ratings_on_topic(crimesolutions: rdflib.Graph, topic) -> set[tuple]:
    """(programme, name, outcome or None, rating) for each rating CrimeSolutions gives a
    programme on ``topic``: on the programme, or on one of its findings."""
    found = set()
    for programme in crimesolutions.subjects(CSX.topic, topic):
        name = str(crimesolutions.value(programme, SCHEMA.name))
        for rating in crimesolutions.objects(programme, CSX.evidenceRating):
            found.add((programme, name, None, str(rating)))
        for finding in crimesolutions.objects(programme, CSX.finding):
            for rating in crimesolutions.objects(finding, CSX.evidenceRating):
                found.add((programme, name, str(crimesolutions.value(finding, CSX.outcome)),
                           str(rating)))
    return found


def rating_concepts(ours: rdflib.Graph) -> dict[str, URIRef]:
    """CrimeSolutions rating label -> our concept of the cs: scheme with that prefLabel."""
    scheme = URIRef(CONCEPT + "crimesolutions")
    return {english(ours, c): c for c in ours.subjects(SKOS.inScheme, scheme)}


def mapped_to_our_scale(ours: rdflib.Graph, concept) -> set[tuple[URIRef, URIRef]]:
    """(our "Does it work?" rating, mapping property) for each record mapping it to
    ``concept``."""
    scale = URIRef(CONCEPT + "does-it-work")
    return {(ours.value(r, PB.mappingSubject), ours.value(r, PB.mappingPredicate))
            for r in ours.subjects(PB.mappingObject, concept)
            if (r, RDF.type, PB.ConceptMapping) in ours
            and (ours.value(r, PB.mappingSubject), SKOS.inScheme, scale) in ours}


def opt(row: dict[str, str], name: str) -> str | None:
    return row.get(name)


# -- the library's convention ----------------------------------------------------------------


def test_cross_sector_queries_are_the_federated_ones():
    keys = [p.name.split("-")[0] for p in FEDERATED]
    assert keys == ["13", "13b", "14", "15", "16", "17", "18", "19"]


@pytest.mark.parametrize("path", FEDERATED, ids=lambda p: p.name)
def test_each_names_partners_by_their_public_address(path: Path, partner_endpoints):
    text = path.read_text(encoding="utf-8")
    named = service_iris(text)
    assert named and set(named) <= set(PUBLIC_ENDPOINTS.values())
    local = localise(text, partner_endpoints.urls)
    assert set(service_iris(local)) <= set(partner_endpoints.urls.values())
    assert len(service_iris(local)) == len(named)  # every call rewritten, none lost


def test_the_crosswalk_is_recorded_as_concept_mappings(crosswalk, crimesolutions, local_store):
    triples = {(s, o) for s, o in crosswalk.subject_objects(SKOS.relatedMatch)}
    records = {(crosswalk.value(r, PB.mappingSubject), crosswalk.value(r, PB.mappingObject))
               for r in crosswalk.subjects(RDF.type, PB.ConceptMapping)}
    assert triples == records and len(records) == 14
    assert not list(crosswalk.subject_objects(SKOS.exactMatch))
    for record in crosswalk.subjects(RDF.type, PB.ConceptMapping):
        assert crosswalk.value(record, PB.mappingPredicate) == SKOS.relatedMatch
        assert len(str(crosswalk.value(record, SKOS.scopeNote))) > 60
    # Our description of each CrimeSolutions topic uses the slice's own label.
    for _, topic in records:
        assert crosswalk.value(topic, SKOS.prefLabel) == crimesolutions.value(
            topic, SKOS.prefLabel)
    assert local_store.has_graph(CROSSWALK_GRAPH)


# -- C.13 practices per 100,000 residents ----------------------------------------------------


def per_hundred_thousand(practices: int, population: int) -> Decimal:
    return (Decimal(practices * 100_000) / population).quantize(Decimal("0.01"), ROUND_HALF_UP)


def test_c13_practices_per_hundred_thousand_residents(run, ours, ons, force_codes):
    rows = run("13")
    population = population_2022(ons)
    expected = {}
    for force in ours.subjects(RDF.type, PB.PoliceForce):
        area = ours.value(force, PB.policeForceArea)
        if area is not None:
            count = len(practices_of(ours, force))
            people, note = population[area]
            expected[str(force)] = (str(area)[-9:], count, people,
                                    per_hundred_thousand(count, people), note)
    got = {r["force"]: (r["areaCode"], int(r["practices"]), int(r["population"]),
                        Decimal(r["perHundredThousand"]), opt(r, "populationNote"))
           for r in rows}
    assert got == expected
    assert len(rows) == 43 == len(force_codes)
    assert {code for code, *_ in got.values()} == set(force_codes.values())
    rates = [Decimal(r["perHundredThousand"]) for r in rows]
    assert rates == sorted(rates, reverse=True)
    assert rows[0]["forceName"] == "Cleveland Police"  # 3 practices, 570,000 residents
    assert all(r["populationNote"] == "illustrative figure, not an official statistic"
               for r in rows)


def test_c13b_most_populous_areas_without_practice(run, ours, ons):
    rows = run("13b")
    population = population_2022(ons)
    expected = sorted(
        ((population[ours.value(f, PB.policeForceArea)][0], english(ours, f), str(f))
         for f in ours.subjects(RDF.type, PB.PoliceForce)
         if ours.value(f, PB.policeForceArea) is not None and not practices_of(ours, f)),
        key=lambda row: (-row[0], row[1]))
    assert [(int(r["population"]), r["forceName"], r["force"]) for r in rows] == expected
    assert rows[0]["forceName"] == "Essex Police" and len(rows) == 18


# -- C.14 Welsh names and coordinates from Wikidata ------------------------------------------


def test_c14_welsh_labels_and_coordinates(run, ours, wikidata, force_codes):
    rows = run("14")
    codes = {s: str(o) for s, o in ours.subject_objects(PB.gssCode)}
    assert {s: c for s, c in codes.items() if str(s).startswith(FORCE)} == force_codes
    expected = set()
    for organisation, code in codes.items():
        for item in wikidata.subjects(WDT.P836, Literal(code)):
            welsh = in_language(wikidata, item, RDFS.label, "cy") or {None}
            coordinates = {str(c) for c in wikidata.objects(item, WDT.P625)} or {None}
            expected |= {(str(organisation), str(item), w, c)
                         for w in welsh for c in coordinates}
    got = {(r["organisation"], r["item"], opt(r, "welshLabel"), opt(r, "coordinates"))
           for r in rows}
    assert got == expected and len(rows) == len(expected)
    welsh = {r["name"]: r["welshLabel"] for r in rows if "welshLabel" in r}
    assert welsh == {"South Wales Police": "Heddlu De Cymru",
                     "North Wales Police": "Heddlu Gogledd Cymru",
                     "Dyfed-Powys Police": "Heddlu Dyfed–Powys",
                     "Gwent Police": "Heddlu Gwent"}
    assert "London Borough of Enfield" in {r["name"] for r in rows}  # an organisation's code


# -- C.15 CrimeSolutions programmes on the same topic ----------------------------------------


def test_c15_crimesolutions_programmes_on_related_topics(run, ours, crimesolutions, crosswalk):
    rows = run("15")
    related = crosswalk_records(crosswalk)
    concepts = rating_concepts(ours)
    expected = set()
    for practice in set(ours.subjects(RDF.type, PB.Practice)):
        for topic in ours.objects(practice, PB.topic):
            for cs_topic in related.get(topic, ()):
                for programme, _, outcome, rating in ratings_on_topic(crimesolutions, cs_topic):
                    mapped = mapped_to_our_scale(ours, concepts[rating]) or {(None, None)}
                    expected |= {(str(practice), english(ours, topic), str(cs_topic),
                                  str(programme), outcome, rating,
                                  None if m is None else str(m), None if p is None else str(p))
                                 for m, p in mapped}
    got = {(r["practice"], r["topicLabel"], r["crimeSolutionsTopic"], r["programme"],
            opt(r, "outcome"), r["crimeSolutionsRating"], opt(r, "mappedRating"),
            opt(r, "ratingMapping")) for r in rows}
    assert got == expected and len(rows) == len(expected) > 50
    ceasefire = {(r["title"], r["mappedRatingLabel"]) for r in rows
                 if r["programmeName"] == "Ceasefire (Oakland, California)"}
    assert ("Kent and Medway safer knife replacement scheme", "Worked") in ceasefire
    for row in rows:
        assert row["title"] == title(ours, URIRef(row["practice"]))
        assert len(row["topicNote"]) > 60


# -- C.16 practices with a partner in a local authority's area -------------------------------


def test_c16_practices_with_a_partner_in_an_authority(run, ours, authorities):
    rows = run("16")
    expected = set()
    for authority in {a for e in AUTHORITY_ENTITIES
                      for a in authorities.subjects(STATENT.code, e)}:
        code = authorities.value(authority, SKOS.notation)
        if code is None or authorities.value(authority, STATGEO.officialname) is None:
            continue
        partners = {(o, PB.gssCode) for o in ours.subjects(PB.gssCode, code)}
        partners |= {(force, PB.policeForceArea)
                     for area in authorities.objects(authority, FOI.within)
                     for force in ours.subjects(PB.policeForceArea, area)}
        for organisation, linked_by in partners:
            expected |= {(str(authority), str(practice), str(organisation), str(linked_by))
                         for practice in practices_of(ours, organisation)}
    got = {(r["authority"], r["practice"], r["partner"], r["linkedBy"]) for r in rows}
    assert got == expected and len(rows) == len(expected)
    enfield = [r for r in rows if r["authorityCode"] == "E09000010"]
    assert {(r["partnerName"], r["linkedBy"].rsplit("/", 1)[-1]) for r in enfield} == {
        ("London Borough of Enfield", "gssCode"), ("Metropolitan Police Service",
                                                   "policeForceArea")}


# -- C.17 practices per force with population and Welsh names --------------------------------


def test_c17_practices_population_and_welsh_names(run, ours, ons, wikidata, force_codes):
    rows = run("17")
    population = population_2022(ons)
    expected = {}
    for force, code in force_codes.items():
        items = set(wikidata.subjects(WDT.P836, Literal(code)))
        wikidata_welsh = {w for i in items for w in in_language(wikidata, i, RDFS.label, "cy")}
        our_welsh = in_language(ours, force, SKOS.prefLabel, "cy")
        expected[str(force)] = (code, len(practices_of(ours, force)),
                                population[ours.value(force, PB.policeForceArea)][0],
                                next(iter(our_welsh), None), next(iter(wikidata_welsh), None))
    got = {r["force"]: (r["gssCode"], int(r["practices"]), int(r["population"]),
                        opt(r, "ourWelshName"), opt(r, "wikidataWelshName")) for r in rows}
    assert got == expected and len(rows) == 43
    counts = [int(r["practices"]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    # the two sides spell Dyfed-Powys differently (hyphen, en dash): the query shows both
    dyfed = got[FORCE + "dyfed-powys"]
    assert dyfed[3] != dyfed[4] and dyfed[3].replace("-", "–") == dyfed[4]


# -- C.18 the Toolkit and CrimeSolutions on the same kind of intervention --------------------


def test_c18_toolkit_beside_crimesolutions(run, ours, crimesolutions, crosswalk):
    rows = run("18")
    concepts = rating_concepts(ours)
    types = {URIRef(CONCEPT + "intervention-type/" + n) for n in (
        "hot-spots-policing", "problem-oriented-policing", "focused-deterrence-strategies",
        "cctv")}
    expected = set()
    for itype, cs_topics in crosswalk_records(crosswalk).items():
        if itype not in types:
            continue
        verdicts = set()
        for assessment in ours.subjects(PB.assessedInterventionType, itype):
            if (assessment, RDF.type, PB.EMMIEAssessment) not in ours:
                continue
            effect = english(ours, ours.value(assessment, PB.ratingValue))
            qualities = {english(ours, ours.value(r, PB.evidenceQuality))
                         for r in ours.objects(assessment, PB.emmieRating)
                         if ours.value(r, PB.emmieDimension) == EFFECT_DIMENSION} or {None}
            verdicts |= {(effect, q) for q in qualities}
        for cs_topic in cs_topics:
            for programme, _, outcome, rating in ratings_on_topic(crimesolutions, cs_topic):
                expected |= {(str(itype), effect, quality, str(programme), outcome, rating,
                              str(concepts[rating]))
                             for effect, quality in verdicts or {(None, None)}}
    got = {(r["interventionType"], opt(r, "toolkitEffect"), opt(r, "effectQuality"),
            r["programme"], opt(r, "outcome"), r["crimeSolutionsRating"], r["ratingConcept"])
           for r in rows}
    assert got == expected and len(rows) == len(expected) == 6
    assert {r["interventionTypeLabel"] for r in rows} == {
        "Hot spots policing", "Problem-oriented policing", "Focused deterrence strategies"}


# -- C.19 what US evaluations measured on the topics of untested practices -------------------


def test_c19_outcomes_for_untested_practices(run, ours, crimesolutions, crosswalk):
    rows = run("19")
    related = crosswalk_records(crosswalk)
    untested = {p for p in ours.subjects(RDF.type, PB.Practice)
                if any(ours.value(a, PB.ratingValue) == UNTESTED
                       for a in ours.objects(p, PB.rating))}
    expected = set()
    for practice in untested:
        for topic in ours.objects(practice, PB.topic):
            for cs_topic in related.get(topic, ()):
                for programme in crimesolutions.subjects(CSX.topic, cs_topic):
                    for finding in crimesolutions.objects(programme, CSX.finding):
                        expected.add((
                            str(practice), str(cs_topic), str(programme),
                            str(crimesolutions.value(finding, CSX.outcome)),
                            str(crimesolutions.value(finding, CSX.direction)),
                            crimesolutions.value(finding, CSX.statisticallySignificant)
                            .toPython()))
    got = {(r["practice"], r["crimeSolutionsTopic"], r["programme"], r["outcome"],
            r["direction"], r["significant"] == "true") for r in rows}
    assert got == expected and len(rows) == len(expected) > 10
    assert {title(ours, URIRef(p)) for p, *_ in got} == {
        "Kent and Medway safer knife replacement scheme",
        "Railway Guardian – safe rail travel app",
        "Victim care management process (victims of fraud)"}
