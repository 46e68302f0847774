"""Version 2 of the practice CSV columns and JSON schema (issue 12), and the loader side of the
modelling fixes: a v2 CSV and a v2 JSON file using every new field give exactly the triples
worked out here from the fixture's own values; version 1 files load as before; ratings form
a supersession chain whose newest is the current one; symmetric and inverse links are stated
both ways; countries and source kinds are concepts; every force links out; crime counts
point at the dataset of their structure.

The expected graph is built from the fixture's cells with this module's own small rules
(split on "; ", "@", a table of labels to notations), not with the converter's code."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic
from rdflib.namespace import DCAT, DCTERMS, ORG, PROV, RDF, RDFS, SKOS, XSD

from practicebank.loaders.json_practices import schema_errors
from practicebank.loaders.load import load_file
from practicebank.loaders.readers import read_file
from practicebank.resources import EVALUATIONS, ORGANISATIONS, SAMPLE, bundle_graph

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]
V2_CSV = FIXTURES / "practices-v2.csv"
V2_JSON = FIXTURES / "practices-v2.json"

BASE = "https://w3id.org/practicebank/"
PB = f"{BASE}def/"
QB = "http://purl.org/linked-data/cube#"
SCHEMA = "https://schema.org/"


def pb(name: str) -> URIRef:
    return URIRef(PB + name)


def sc(name: str) -> URIRef:
    return URIRef(SCHEMA + name)


def ident(path: str) -> URIRef:
    return URIRef(f"{BASE}id/{path}")


def concept(scheme: str, notation: str) -> URIRef:
    return URIRef(f"{BASE}concept/{scheme}/{notation}")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


#: The labels the fixture uses, and the notations of their concepts.
NOTATION = {
    "Worked": "worked", "Promising": "promising",
    "Untested – new or innovative": "untested-new-or-innovative",
    "Prevention": "prevention", "Education": "education",
    "Crime and disorder reduction": "crime-and-disorder-reduction",
    "Finalist": "finalist", "Winner": "winner", "PEEL": "peel",
    "Improved street lighting": "improved-street-lighting",
    "improved-street-lighting": "improved-street-lighting", "2023/24": "2023-24",
}
#: The organisations the fixture names, as the reference data knows them.
ORGS = {
    "Kent Police": ident("force/kent"), "Essex Police": ident("force/essex"),
    "Home Office": ident("organisation/home-office"),
    "College of Policing": ident("organisation/college-of-policing"),
    "HMICFRS": ident("organisation/hmicfrs"), "NPCC": ident("organisation/npcc"),
    "Synthetic University": ident("organisation/synthetic-university"),
}
RECOGNITION_CLASS = {"tilley-award": "TilleyAward", "police-star-fund": "StarFundGrant",
                     "hmicfrs": "HMICFRSInspectionMention",
                     "smarter-practice": "SmarterPracticeReview"}
GIVEN_BY = {"tilley-award": "home-office", "police-star-fund": "opcsa", "hmicfrs": "hmicfrs"}


def fixture_rows() -> list[dict[str, str]]:
    with V2_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def cells(text: str) -> list[str]:
    """"A; B (c; d)" -> ["A", "B (c; d)"]: a ";" inside brackets does not split."""
    return [part.strip() for part in re.split(r";(?![^()]*\))", text) if part.strip()]


def bracket(text: str) -> tuple[str, list[str]]:
    """"Essex Police (co-lead)" -> ("Essex Police", ["co-lead"])."""
    match = re.match(r"^(.*?)\s*\(([^()]*)\)$", text)
    return (match.group(1), cells(match.group(2))) if match else (text, [])


def expected_graph(graph_name: str) -> Graph:
    """Every triple the three rows of the v2 fixture must give, from their cells."""
    g = Graph()
    dataset = URIRef(f"{BASE}graph/{graph_name}")
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("Crime-reduction practices", lang="en")))
    g.add((dataset, DCTERMS.license, URIRef(
        "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")))
    rows = fixture_rows()
    iri = {row["title"]: ident(f"practice/{slug(row['title'])}") for row in rows}
    for row in rows:
        p, s = iri[row["title"]], slug(row["title"])
        url = URIRef(row["source_url"])
        g.add((p, RDF.type, pb("Practice")))
        g.add((p, DCTERMS.identifier, Literal(s)))
        g.add((p, DCTERMS.title, Literal(row["title"], lang="en")))
        g.add((p, DCTERMS.abstract, Literal(row["summary"], lang="en")))
        g.add((p, PROV.wasDerivedFrom, url))
        g.add((p, pb("sourceKind"), concept("source-kind", row["source_type"].split(":")[0])))
        for purpose in cells(row["purpose"]):
            g.add((p, pb("purpose"), concept("purpose", NOTATION[purpose])))
        for kind in cells(row["intervention_type"]):
            g.add((p, pb("interventionType"), concept("intervention-type", NOTATION[kind])))

        # ratings: RATING@DATE[@BY] entries plus the rating column, oldest first
        entries = {}
        if row["does_it_work"]:
            entries[(row["does_it_work"], row["rating_date"])] = row["rated_by"]
        for entry in cells(row["ratings"]):
            value, date, *by = entry.split("@")
            entries.setdefault((value, date), by[0] if by else row["rated_by"])
        previous = None
        for (value, date), by in sorted(entries.items(), key=lambda e: (bool(e[0][1]),
                                                                         e[0][1])):
            a = ident(f"assessment/{s}/does-it-work" + (f"/{date}" if date else ""))
            g.add((p, pb("rating"), a))
            g.add((a, RDF.type, pb("RatingAssessment")))
            g.add((a, pb("assessedPractice"), p))
            g.add((a, pb("ratingValue"), concept("does-it-work", NOTATION[value])))
            g.add((a, pb("ratingScale"), URIRef(f"{BASE}concept/does-it-work")))
            g.add((a, pb("assessedBy"), ORGS[by or "College of Policing"]))
            g.add((a, PROV.wasDerivedFrom, url))
            if date:
                g.add((a, DCTERMS.date, Literal(date, datatype=XSD.date)))
            if previous is not None:
                g.add((a, pb("supersedes"), previous))
            previous = a

        # participation: leads and partners, with roles (and partner types) in brackets
        people: dict[URIRef, tuple[list, list]] = {}
        for column, default in (("organisation", "lead"), ("lead_organisations", "lead"),
                                ("partner_organisations", "partner")):
            for item in cells(row[column]):
                name, extra = bracket(item)
                roles = [r for r in extra if r in ("co-lead", "funder", "evaluator")]
                kinds = [k for k in extra if k not in roles]
                org = ORGS[name]
                people.setdefault(org, ([], []))
                people[org][0].extend(roles or [default])
                people[org][1].extend(kinds)
                if "organisation/synthetic" in str(org):
                    g.add((org, RDF.type, pb("Organisation")))
                    g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
        for org, (roles, kinds) in people.items():
            node = ident(f"participation/{s}/{str(org).rsplit('/', 1)[-1]}")
            g.add((p, PROV.qualifiedAttribution, node))
            g.add((node, RDF.type, PROV.Attribution))
            g.add((node, RDF.type, pb("Participation")))
            g.add((node, PROV.agent, org))
            for role in roles:
                g.add((node, PROV.hadRole, concept("participation-role", role)))
            lead = {"lead", "co-lead"} & set(roles)
            g.add((p, pb("organisation") if lead else pb("partner"), org))
            for kind in kinds:
                g.add((org, pb("partnerType"), concept("partner-type", NOTATION[kind])))
                g.add((org, ORG.classification, concept("partner-type", NOTATION[kind])))

        if row["cost_gbp"]:
            cost = URIRef(f"{p}/cost")
            g.add((p, pb("cost"), cost))
            money(g, cost, row["cost_gbp"])
            g.add((cost, DCTERMS.description, Literal(row["cost_covers"], lang="en")))
            g.add((cost, pb("period"), Literal(row["cost_period"])))

        def recognition(source: str, key: str, p=p, s=s, url=url) -> URIRef:
            r = ident(f"recognition/{s}/{source}/{key}")
            g.add((p, pb("recognition"), r))
            g.add((r, RDF.type, pb("Recognition")))
            g.add((r, RDF.type, pb(RECOGNITION_CLASS[source])))
            g.add((r, pb("recognises"), p))
            g.add((r, pb("recognitionSource"), concept("recognised-practice", source)))
            g.add((r, PROV.wasDerivedFrom, url))
            if source in GIVEN_BY:
                g.add((r, pb("recognisedBy"), ident(f"organisation/{GIVEN_BY[source]}")))
            return r

        years, outcomes = cells(row["tilley_year"]), cells(row["tilley_outcome"])
        for year, outcome in zip(years, outcomes, strict=True):
            r = recognition("tilley-award", year)
            g.add((r, pb("awardYear"), Literal(year, datatype=XSD.gYear)))
            g.add((r, DCTERMS.date, Literal(year, datatype=XSD.gYear)))
            g.add((r, pb("awardCategory"),
                   concept("tilley-category", NOTATION[row["tilley_category"]])))
            g.add((r, pb("awardOutcome"), concept("award-outcome", NOTATION[outcome])))
        if row["star_round"]:
            r = recognition("police-star-fund", NOTATION[row["star_round"]])
            g.add((r, pb("fundingRound"), concept("star-fund-round",
                                                  NOTATION[row["star_round"]])))
            g.add((r, sc("amount"), URIRef(f"{r}/amount")))
            money(g, URIRef(f"{r}/amount"), row["star_amount_gbp"])
        if row["hmicfrs_report_title"]:
            report = ident(f"report/{slug(row['hmicfrs_report_title'])}")
            date = Literal(row["hmicfrs_report_date"], datatype=XSD.date)
            r = recognition("hmicfrs", slug(row["hmicfrs_report_title"]))
            g.add((r, pb("inspectionReport"), report))
            g.add((r, DCTERMS.date, date))
            g.add((report, RDF.type, pb("InspectionReport")))
            g.add((report, RDF.type, sc("Report")))
            g.add((report, DCTERMS.title, Literal(row["hmicfrs_report_title"], lang="en")))
            g.add((report, sc("url"), URIRef(row["hmicfrs_report_url"])))
            g.add((report, DCTERMS.date, date))
            g.add((report, pb("inspectionProgramme"),
                   concept("inspection-programme", NOTATION[row["hmicfrs_programme"]])))
        if row["review_date"]:
            r = recognition("smarter-practice", row["review_date"])
            g.add((r, DCTERMS.date, Literal(row["review_date"], datatype=XSD.date)))
            for body in cells(row["reviewed_by"]):
                g.add((r, pb("recognisedBy"), ORGS[body]))

        def practice_named(text: str) -> URIRef:
            return iri.get(text) or ident(f"practice/{text}")

        for column, prop, inverse in (("adapted_from", "adaptedFrom", None),
                                      ("replicates", "replicates", None),
                                      ("same_intervention_as", "sameInterventionAs",
                                       "sameInterventionAs"),
                                      ("succeeded_by", "succeededBy", "succeeds"),
                                      ("succeeds", "succeeds", "succeededBy")):
            for other in cells(row[column]):
                g.add((p, pb(prop), practice_named(other)))
                if inverse:
                    g.add((practice_named(other), pb(inverse), p))
    return g


def money(g: Graph, node: URIRef, text: str) -> None:
    g.add((node, RDF.type, sc("MonetaryAmount")))
    g.add((node, sc("value"), Literal(re.sub(r"[£,]", "", text), datatype=XSD.decimal)))
    g.add((node, sc("currency"), Literal("GBP")))


def assert_same_graph(actual: Graph, expected: Graph) -> None:
    if not isomorphic(actual, expected):
        _, only_actual, only_expected = graph_diff(actual, expected)
        raise AssertionError("only in the conversion:\n" + only_actual.serialize(format="nt")
                             + "\nonly expected:\n" + only_expected.serialize(format="nt"))


def convert(path: Path, graph: str = "v2", **options):
    return read_file(path, graph_name=graph, **options)[1]


# -- every new field, CSV and JSON --------------------------------------------------------------

@pytest.mark.parametrize("path", [V2_CSV, V2_JSON], ids=["csv", "json"])
def test_v2_file_gives_exactly_the_expected_triples(path):
    conversion = convert(path)
    assert conversion.problems == []
    assert_same_graph(conversion.graph, expected_graph("v2"))


def test_v2_json_fixture_is_valid_against_the_schema():
    for record in json.loads(V2_JSON.read_text(encoding="utf-8")):
        assert schema_errors(record) == []


def test_v2_fixture_loads_and_validates(disk_store):
    """Through the whole pipeline, with the shapes (the store holds the bundled context)."""
    result = load_file(disk_store, V2_CSV, graph="v2")
    assert not [p for p in result.problems if p.is_error]


# -- ratings over time -----------------------------------------------------------------------

CURRENT = """PREFIX pb: <https://w3id.org/practicebank/def/>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?practice ?value ?date WHERE {
      ?practice pb:rating ?a . ?a pb:ratingValue ?value .
      OPTIONAL { ?a dcterms:date ?date }
      FILTER NOT EXISTS { ?newer pb:supersedes ?a } }"""


def test_supersession_chain_runs_newest_to_oldest_and_current_is_the_newest():
    g = convert(V2_CSV).graph
    pilot = ident("practice/synthetic-lighting-pilot")
    ratings = set(g.objects(pilot, pb("rating")))
    assert len(ratings) == 3
    current = [a for a in ratings if (None, pb("supersedes"), a) not in g]
    assert len(current) == 1
    chain, node = [], current[0]
    while node is not None:
        chain.append(str(g.value(node, DCTERMS.date)))
        node = g.value(node, pb("supersedes"))
    assert chain == ["2023-02-10", "2021-05-01", "2019-06-01"]
    # one chain: nothing is superseded twice, nothing supersedes two
    for a in ratings:
        assert len(list(g.subjects(pb("supersedes"), a))) <= 1
        assert len(list(g.objects(a, pb("supersedes")))) <= 1
    # the "current rating" query, run by Oxigraph on the converted triples
    store = ox.Store()
    store.load(convert(V2_CSV).triples.ntriples(), format=ox.RdfFormat.N_TRIPLES)
    found = {(r["practice"].value.rsplit("/", 1)[-1], r["value"].value.rsplit("/", 1)[-1],
              r["date"].value if r["date"] else None) for r in store.query(CURRENT)}
    assert found == {("synthetic-lighting-pilot", "worked", "2023-02-10"),
                     ("synthetic-lighting-follow-up", "promising", None)}


def row_problems(tmp_path: Path, header: str, *rows: str):
    path = tmp_path / "p.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return convert(path).problems


@pytest.mark.parametrize("ratings,rating,message", [
    ("Promising; Worked", "", "Only one rating may be undated"),
    ("Promising@2021-05-01; Worked@2021-05-01", "", "Two different ratings are dated"),
    ("Promising@May the first", "", "Not a date"),
    ("Promising@2021@College of Policing@extra", "", "RATING@DATE"),
    ("Brilliant@2021-05-01", "", "not a \"Does it work?\" rating"),
    ("Promising; Worked@2021-05-01", "Worked", "Only one rating may be undated"),
])
def test_ratings_that_cannot_make_one_history_are_errors(tmp_path, ratings, rating, message):
    problems = row_problems(tmp_path, "title,does_it_work,ratings,source_url",
                            f"A,{rating},{ratings},https://example.org/a")
    errors = [p for p in problems if p.is_error]
    assert len(errors) == 1 and message in errors[0].message, problems
    assert errors[0].row == 2


def test_an_undated_rating_with_dated_history_is_the_oldest(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("title,does_it_work,ratings,source_url\n"
                    "A,Promising,Worked@2023-02-10,https://example.org/a\n", encoding="utf-8")
    g = convert(path).graph
    newer = ident("assessment/a/does-it-work/2023-02-10")
    assert (newer, pb("supersedes"), ident("assessment/a/does-it-work")) in g


def test_rated_by_names_the_assessor_instead_of_the_college(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("title,does_it_work,rated_by,source_url\n"
                    "A,Promising,Kent Police,https://example.org/a\n"
                    "B,Promising,,https://example.org/b\n", encoding="utf-8")
    g = convert(path).graph
    assert g.value(ident("assessment/a/does-it-work"), pb("assessedBy")) == ident("force/kent")
    assert g.value(ident("assessment/b/does-it-work"), pb("assessedBy")) == ident(
        "organisation/college-of-policing")


# -- who took part ---------------------------------------------------------------------------

def test_brackets_that_are_not_roles_stay_annotations(tmp_path):
    """Version 1 values such as "Thames Valley Police (per description)" mean what they did."""
    path = tmp_path / "p.csv"
    path.write_text("title,organisation,partner_organisations,source_url\n"
                    "A,Thames Valley Police (per description),Synthetic Trust (funder; patron)"
                    ",https://example.org/a\n", encoding="utf-8")
    conversion = convert(path)
    g = conversion.graph
    node = ident("participation/a/thames-valley")
    assert g.value(node, PROV.agent) == ident("force/thames-valley")
    assert set(g.objects(node, PROV.hadRole)) == {concept("participation-role", "lead")}
    trust = ident("participation/a/synthetic-trust")
    assert set(g.objects(trust, PROV.hadRole)) == {concept("participation-role", "funder")}
    assert [p.column for p in conversion.problems] == ["partner_organisations"]
    assert "patron" in conversion.problems[0].value


def test_parallel_fact_columns_of_different_lengths_are_warned_about(tmp_path):
    problems = row_problems(tmp_path, "title,tilley_year,tilley_outcome,source_url",
                            "A,2008; 2009; 2010,Winner; Finalist,https://example.org/a")
    assert [(p.severity, p.column) for p in problems] == [("warning", "tilley_outcome")]


# -- links both ways -------------------------------------------------------------------------

def both_ways(g: Graph, prop: URIRef, inverse: URIRef) -> None:
    pairs = list(g.subject_objects(prop))
    assert pairs
    for a, b in pairs:
        assert (b, inverse, a) in g, (a, prop, b)


def test_symmetric_and_inverse_links_are_written_both_ways():
    g = convert(V2_CSV).graph
    both_ways(g, pb("sameInterventionAs"), pb("sameInterventionAs"))
    both_ways(g, pb("succeededBy"), pb("succeeds"))
    both_ways(g, pb("succeeds"), pb("succeededBy"))


def test_the_two_railway_guardian_records_are_one_intervention():
    g = bundle_graph(SAMPLE)
    app = ident("practice/railway-guardian-safe-rail-travel-app")
    report = ident("practice/railway-guardian-british-transport-police")
    assert (app, pb("sameInterventionAs"), report) in g
    assert (report, pb("sameInterventionAs"), app) in g


def test_bundled_evaluations_are_linked_both_ways():
    g = bundle_graph(EVALUATIONS)
    both_ways(g, pb("evaluates"), pb("evaluation"))
    both_ways(g, pb("evaluation"), pb("evaluates"))


# -- countries, source kinds, links out ------------------------------------------------------

COUNTRIES = {"england", "wales", "scotland", "northern-ireland", "guernsey", "jersey",
             "isle-of-man", "united-kingdom"}


def test_countries_are_concepts_and_welsh_forces_have_welsh_names(forces_csv):
    g = convert(forces_csv, "reference").graph
    for graph in (g, bundle_graph(ORGANISATIONS)):
        values = list(graph.objects(None, pb("country")))
        assert values and all(isinstance(v, URIRef) for v in values)
        assert {str(v).rsplit("/", 1)[-1] for v in values} <= COUNTRIES
    assert {str(c).rsplit("/", 1)[-1] for c in g.objects(
        ident("force/british-transport-police"), pb("country"))} == {
        "england", "wales", "scotland"}
    welsh = {str(f).rsplit("/", 1)[-1]: str(label) for f, label in g.subject_objects(
        SKOS.prefLabel) if label.language == "cy"}
    assert welsh == {"dyfed-powys": "Heddlu Dyfed-Powys", "gwent": "Heddlu Gwent",
                     "north-wales": "Heddlu Gogledd Cymru", "south-wales": "Heddlu De Cymru"}
    with forces_csv.open(encoding="utf-8") as f:
        wales = {row["data_police_uk_id"] for row in csv.DictReader(f)
                 if row["country"] == "Wales"}
    assert set(welsh) == wales


def test_every_force_links_out(forces_csv):
    g = convert(forces_csv, "reference").graph
    forces = set(g.subjects(RDF.type, pb("PoliceForce")))
    assert len(forces) == 51
    for force in forces:
        police_id = g.value(force, pb("policeUkId"))
        if police_id is not None:
            assert (force, RDFS.seeAlso,
                    URIRef(f"https://data.police.uk/api/forces/{police_id}")) in g
        else:
            assert str(g.value(force, sc("url"))).startswith("https://"), force


def test_source_kind_is_a_concept():
    g = bundle_graph(SAMPLE)
    values = set(g.objects(None, pb("sourceKind")))
    assert values == {concept("source-kind", "primary"), concept("source-kind", "secondary")}


# -- crime counts ----------------------------------------------------------------------------

def test_observations_point_at_the_dataset_of_their_structure():
    g = convert(FIXTURES / "2024-01-avon-and-somerset-street.csv", "crime", by_lsoa=True).graph
    force_set, lsoa_set = ident("dataset/crime-counts-force"), ident("dataset/crime-counts-lsoa")
    for dataset, structure in ((force_set, "forceCrimeCountStructure"),
                               (lsoa_set, "lsoaCrimeCountStructure")):
        assert (dataset, RDF.type, URIRef(QB + "DataSet")) in g
        assert list(g.objects(dataset, URIRef(QB + "structure"))) == [pb(structure)]
    observations = set(g.subjects(RDF.type, pb("CrimeCountObservation")))
    assert observations
    for o in observations:
        expected = lsoa_set if g.value(o, pb("lsoa")) is not None else force_set
        assert list(g.objects(o, URIRef(QB + "dataSet"))) == [expected]
    without = convert(FIXTURES / "2024-01-avon-and-somerset-street.csv", "crime").graph
    assert set(without.objects(None, URIRef(QB + "dataSet"))) == {force_set}
    assert (lsoa_set, RDF.type, URIRef(QB + "DataSet")) not in without


# -- version 1 files ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["practices.json", "practices.jsonl"])
def test_v1_json_fixtures_still_load_without_errors(name):
    conversion = convert(FIXTURES / name)
    assert not [p for p in conversion.problems if p.is_error]
    assert set(conversion.graph.subjects(RDF.type, pb("Practice")))


def test_the_v1_sample_converts_to_the_bundled_sample_but_the_v2_link(practices_csv):
    """The shared CSV (version 1) gives the bundled sample, less what the bundled sample's
    one version 2 column adds: the link between the two Railway Guardian records."""
    g = convert(practices_csv, "sample").graph
    bundled = bundle_graph(SAMPLE)
    for triple in list(bundled.triples((None, pb("sameInterventionAs"), None))):
        bundled.remove(triple)
    assert_same_graph(g, bundled)


def test_the_sample_csv_is_the_shared_csv_plus_version_2_columns(practices_csv):
    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    shared, ours = rows(practices_csv), rows(ROOT / "data" / "sample-practices.csv")
    assert len(shared) == len(ours) == 28
    for a, b in zip(shared, ours, strict=True):
        assert {k: v for k, v in b.items() if k in a} == a
        assert set(b) - set(a) == {"same_intervention_as"}


def test_resources_are_quantities_with_their_units(tmp_path: Path) -> None:
    """``resources``: each "number unit" part a schema:QuantitativeValue (a CSV cell split
    on ";", a JSON array item by item); a part without a number is reported, not kept; the
    result passes the shapes in a real store."""
    path = tmp_path / "resources.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["title", "source_url", "resources"])
        writer.writerow(["Resourced practice", "https://example.org/p",
                         "2 officers; 1,500 leaflets; 0.5 FTE analyst; some volunteers"])
    _, conversion = read_file(path)
    g = conversion.graph
    practice = ident("practice/resourced-practice")
    expected = {("2", "officers"), ("1500", "leaflets"), ("0.5", "FTE analyst")}
    nodes = set(g.objects(practice, pb("resource")))
    assert {(str(g.value(n, sc("value"))), str(g.value(n, sc("unitText")))) for n in nodes} \
        == expected
    assert all((n, RDF.type, sc("QuantitativeValue")) in g for n in nodes)
    assert all(g.value(n, sc("value")).datatype == XSD.decimal for n in nodes)
    assert [p.value for p in conversion.problems if p.column == "resources"] == [
        "some volunteers"]
    json_path = tmp_path / "resources.json"
    json_path.write_text(json.dumps([{"title": "Resourced practice",
                                      "source_url": "https://example.org/p",
                                      "resources": ["2 officers", "1,500 leaflets"]}]),
                         encoding="utf-8")
    _, from_json = read_file(json_path)
    assert len(set(from_json.graph.objects(practice, pb("resource")))) == 2
    from practicebank.store import PracticeStore

    with PracticeStore() as store:
        result = load_file(store, path, graph="resources")
        assert not [p for p in result.problems if p.is_error]
        assert store.graph_size("resources") > 0
