"""The organisations' external identifiers (data/organisation-identifiers.csv): the converter
writes what the file says, every value passes the shapes, and ``serve --demo`` loads them.

The expected triples are worked out here from the CSV itself (read with ``csv``), not from
the converter; the shapes' patterns are read from shapes/organisation.ttl.
"""

from __future__ import annotations

import csv
import fnmatch
import re
import tomllib
from pathlib import Path

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, PROV, RDF, SH, SKOS, XSD

from practicebank.loaders.load import LoadFailed, ensure_demo, load_bundle, load_file
from practicebank.loaders.organisation_identifiers import convert_organisation_identifiers
from practicebank.loaders.readers import read_file
from practicebank.resources import CORPUS, DEMO_BUNDLES, ORGANISATION_IDENTIFIERS, shapes_graph
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parent.parent
CSV_FILE = ROOT / "data" / "organisation-identifiers.csv"
GRAPH_NAME = "organisation-identifiers"
OWN_GRAPH = "https://w3id.org/practicebank/graph/" + GRAPH_NAME
PB = Namespace("https://w3id.org/practicebank/def/")
WIKIDATA = "http://www.wikidata.org/entity/"
HEADINGS = ["organisation", "iri", "property", "value", "source_url", "date_read"]
KINDS = {"gssCode", "charityNumber", "companyNumber", "odsCode", "wikidata"}


def csv_rows() -> list[dict[str, str]]:
    with CSV_FILE.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == HEADINGS
        return list(reader)


def expected_term(row: dict[str, str]):
    if row["property"] == "wikidata":
        return URIRef(WIKIDATA + row["value"])
    return Literal(row["value"])


def converted(path: Path = CSV_FILE) -> tuple[str, Graph, list]:
    reader, conversion = read_file(path, graph_name=GRAPH_NAME)
    g = Graph()
    g.parse(data=conversion.triples.ntriples().decode("utf-8"), format="nt")
    return reader, g, conversion.problems


def other_demo_bundles(store: PracticeStore) -> None:
    """Everything ``serve --demo`` loads before the identifiers, loaded as it loads it."""
    for bundle in DEMO_BUNDLES:
        if bundle is not ORGANISATION_IDENTIFIERS:
            load_bundle(store, bundle)  # Turtle as it is, the corpus CSVs converted


@pytest.fixture(scope="module")
def context() -> PracticeStore:
    store = PracticeStore()
    other_demo_bundles(store)
    return store


# -- the file ---------------------------------------------------------------------------------

def test_every_row_is_complete_and_of_a_known_kind():
    rows = csv_rows()
    assert rows
    for row in rows:
        assert all(row[h].strip() == row[h] and row[h] for h in HEADINGS), row
        assert row["property"] in KINDS
        assert row["date_read"] == "2026-12-01"
        assert re.match(r"^https?://\S+$", row["source_url"])
        assert re.match(r"^https://w3id\.org/practicebank/id/(organisation|force)/[a-z0-9-]+$",
                        row["iri"])
    assert len({(r["iri"], r["property"], r["value"]) for r in rows}) == len(rows)


def test_each_organisation_is_one_practicebank_already_names(context):
    """The IRI is an organisation another demo graph already types and names, under the very
    same name (so the union has one English name per organisation, as the shapes want)."""
    for row in csv_rows():
        iri = row["iri"]
        found = context.query(
            "PREFIX pb: <https://w3id.org/practicebank/def/> "
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            f"SELECT DISTINCT ?name WHERE {{ GRAPH ?g {{ <{iri}> a pb:Organisation }} "
            f"GRAPH ?h {{ <{iri}> skos:prefLabel ?name }} "
            f"FILTER (lang(?name) = 'en' && ?g != <{OWN_GRAPH}> && ?h != <{OWN_GRAPH}>) }}")
        names = {r["name"].value for r in found}
        assert names == {row["organisation"]}, (iri, names)


# -- the converter ----------------------------------------------------------------------------

def test_the_converter_writes_what_the_csv_says():
    reader, g, problems = converted()
    assert reader == "organisation-identifiers-csv"
    assert problems == []
    rows = csv_rows()
    expected = {(URIRef(r["iri"]), PB[r["property"]], expected_term(r)) for r in rows}
    written = {(s, p, o) for s, p, o in g if p in {PB[k] for k in KINDS}}
    assert written == expected
    for row in rows:
        org, page = URIRef(row["iri"]), URIRef(row["source_url"])
        assert (org, RDF.type, PB.Organisation) in g
        assert set(g.objects(org, SKOS.prefLabel)) == {Literal(row["organisation"], lang="en")}
        assert (org, PROV.wasDerivedFrom, page) in g
        assert (page, RDF.type, FOAF.Document) in g
        assert set(g.objects(page, PB.dateRead)) == {Literal(row["date_read"],
                                                             datatype=XSD.date)}
    assert set(g.subjects(PROV.wasDerivedFrom, None)) == {URIRef(r["iri"]) for r in rows}
    assert not list(g.subject_objects(URIRef("http://www.w3.org/2002/07/owl#sameAs")))


def test_identifiers_are_plain_strings_and_wikidata_items_are_iris():
    rows = [
        {"organisation": "Example Council", "iri": "https://w3id.org/practicebank/id/"
         "organisation/example-council", "property": "wikidata", "value": "Q42",
         "source_url": "https://example.org/a", "date_read": "2026-12-01"},
        {"organisation": "Example Council", "iri": "https://w3id.org/practicebank/id/"
         "organisation/example-council", "property": "companyNumber", "value": " 01234567 ",
         "source_url": "https://example.org/a", "date_read": "2026-12-01"},
    ]
    out = convert_organisation_identifiers(rows, file="x.csv", graph_name=GRAPH_NAME)
    g = Graph().parse(data=out.triples.ntriples().decode(), format="nt")
    org = URIRef(rows[0]["iri"])
    assert set(g.objects(org, PB.wikidata)) == {URIRef(WIKIDATA + "Q42")}
    assert set(g.objects(org, PB.companyNumber)) == {Literal("01234567")}
    assert len(set(g.subjects(RDF.type, FOAF.Document))) == 1
    assert out.problems == []


@pytest.mark.parametrize(("column", "value", "message"), [
    ("property", "vatNumber", "is not an identifier we record"),
    ("iri", "https://example.org/council", "Not the IRI of a practicebank organisation"),
    ("value", "", "gives no identifier"),
    ("source_url", "", "must name the public page"),
])
def test_rows_it_cannot_write_are_refused_with_their_place(column, value, message):
    row = {"organisation": "Example Council", "iri": "https://w3id.org/practicebank/id/"
           "organisation/example-council", "property": "gssCode", "value": "E06000023",
           "source_url": "https://example.org/a", "date_read": "2026-12-01", column: value}
    out = convert_organisation_identifiers([row], file="x.csv", graph_name=GRAPH_NAME)
    assert [(p.row, p.column, p.is_error) for p in out.problems] == [(2, column, True)]
    assert message in out.problems[0].message
    assert b"gssCode" not in out.triples.ntriples()


def test_a_wikidata_value_that_is_not_a_q_number_is_refused():
    row = {"organisation": "X", "iri": "https://w3id.org/practicebank/id/organisation/x",
           "property": "wikidata", "value": "https://www.wikidata.org/wiki/Q1",
           "source_url": "https://example.org/a", "date_read": "2026-12-01"}
    out = convert_organisation_identifiers([row], file="x.csv", graph_name=GRAPH_NAME)
    assert [(p.column, p.is_error) for p in out.problems] == [("value", True)]
    assert b"wikidata" not in out.triples.ntriples()


# -- the shapes -------------------------------------------------------------------------------

def shape_patterns() -> dict[str, re.Pattern[str]]:
    """property local name -> the sh:pattern the organisation shape gives it."""
    shapes = shapes_graph()
    found = {}
    for prop in shapes.objects(URIRef("https://w3id.org/practicebank/shapes/OrganisationShape"),
                               SH.property):
        path, pattern = shapes.value(prop, SH.path), shapes.value(prop, SH.pattern)
        if path is not None and pattern is not None and str(path).startswith(str(PB)):
            found[str(path)[len(str(PB)):]] = re.compile(str(pattern))
    assert KINDS <= set(found)
    return found


def test_every_value_matches_its_shape_pattern():
    patterns = shape_patterns()
    for row in csv_rows():
        assert patterns[row["property"]].search(str(expected_term(row))), row


def test_the_file_loads_and_validates_in_a_store_holding_the_rest_of_the_demo(context):
    result = load_file(context, CSV_FILE, graph=GRAPH_NAME)
    assert result.reader == "organisation-identifiers-csv"
    assert not [p for p in result.problems if p.is_error]
    assert context.graph_size(GRAPH_NAME) == len(converted()[1])


def test_the_shapes_check_the_identifiers_in_this_graph(context, tmp_path):
    """A company number without its leading zero is refused when the file is loaded."""
    bad = tmp_path / "bad-identifiers.csv"
    row = csv_rows()[0] | {"property": "companyNumber", "value": "4011665"}
    with bad.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=HEADINGS)
        writer.writeheader()
        writer.writerow(row)
    with pytest.raises(LoadFailed) as failed:
        load_file(context, bad, graph="bad-identifiers")
    problems = failed.value.problems
    assert any(p.is_error and "company number" in p.message for p in problems), problems
    assert not context.has_graph("bad-identifiers")


# -- the demo and the wheel -------------------------------------------------------------------

def test_serve_demo_loads_the_identifiers_after_the_corpus():
    graphs = [b.graph for b in DEMO_BUNDLES]
    assert graphs.index(GRAPH_NAME) > max(graphs.index(b.graph) for b in CORPUS)
    store = PracticeStore()
    loaded = {r.graph: r for r in ensure_demo(store)}
    assert loaded[GRAPH_NAME].reader == "organisation-identifiers-csv"
    assert not [p for p in loaded[GRAPH_NAME].problems if p.is_error]
    assert store.graph_size(GRAPH_NAME) == len(converted()[1])
    assert ensure_demo(store) == []


def test_the_bundle_loads_through_load_bundle_without_the_corpus_too():
    """As the sample-only stores of the question tests load the demo bundles: the
    identifiers name their organisations themselves, so they validate without the corpus."""
    store = PracticeStore()
    for bundle in DEMO_BUNDLES:
        if bundle not in CORPUS and bundle is not ORGANISATION_IDENTIFIERS:
            load_bundle(store, bundle)
    result = load_bundle(store, ORGANISATION_IDENTIFIERS)
    assert result.reader == "organisation-identifiers-csv"
    assert not [p for p in result.problems if p.is_error]
    assert store.graph_size(GRAPH_NAME) == len(converted()[1])


def test_the_file_ships_in_the_package_and_the_wheel():
    bundle = ORGANISATION_IDENTIFIERS
    assert bundle.path().is_file() and bundle.format == "csv"
    with open(ROOT / "pyproject.toml", "rb") as f:
        globs = tomllib.load(f)["tool"]["setuptools"]["package-data"]["practicebank.data"]
    assert any(fnmatch.fnmatch(bundle.filename, glob) for glob in globs)
