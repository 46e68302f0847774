"""The bundled model and data: they conform to the shapes, hold what the issue promises, and
the converted files are exactly what the converters make from the shared CSVs today."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic
from rdflib.namespace import OWL, RDF, SH, SKOS

from practicebank.loaders.concepts import is_absent
from practicebank.loaders.readers import read_file
from practicebank.resources import (
    DEMO_BUNDLES,
    FORCES,
    ONTOLOGY,
    SAMPLE,
    VOCABULARIES,
    bundle_graph,
    shapes_graph,
)

SCHEMES = [
    "does-it-work", "purpose", "topic", "stage", "recognised-practice", "scale", "region",
    "target-group", "partner-type", "crime-category", "offence-group", "emmie-effect",
    "crimesolutions", "study-design", "evidence-strength",
]
PB = "https://w3id.org/practicebank/def/"


def test_everything_bundled_conforms_to_the_shapes():
    """Full validation (every node, not only a load's focus nodes) of all bundled files."""
    conforms, report, text = pyshacl.validate(
        bundle_graph(*DEMO_BUNDLES), shacl_graph=shapes_graph(), inference="none",
        allow_warnings=True,
    )
    violations = list(report.subjects(SH.resultSeverity, SH.Violation))
    assert conforms and not violations, text


def test_ontology_header_has_version_licence_and_changelog():
    g = bundle_graph(ONTOLOGY)
    ontology = URIRef("https://w3id.org/practicebank/def")
    assert (ontology, RDF.type, OWL.Ontology) in g
    for prop in (OWL.versionIRI, URIRef("http://purl.org/dc/terms/license"), SKOS.changeNote):
        assert g.value(ontology, prop) is not None, prop


def test_ontology_reuses_standard_vocabularies():
    """Each of our classes is placed under, or mapped to, a class of a standard vocabulary."""
    g = bundle_graph(ONTOLOGY)
    own = [c for c in g.subjects(RDF.type, OWL.Class) if str(c).startswith(PB)]
    unaligned = [
        c for c in own
        if not any(
            not str(o).startswith(PB)
            for p in (URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
                      SKOS.closeMatch, SKOS.relatedMatch,
                      URIRef("http://www.w3.org/2000/01/rdf-schema#seeAlso"))
            for o in g.objects(c, p)
        )
        and not any(str(o).startswith(PB) for o in g.objects(
            c, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf")))
    ]
    assert unaligned == []


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_has_concepts_with_iris_by_notation(scheme):
    g = bundle_graph(VOCABULARIES)
    scheme_iri = URIRef(f"https://w3id.org/practicebank/concept/{scheme}")
    concepts = list(g.subjects(SKOS.inScheme, scheme_iri))
    assert concepts
    for c in concepts:
        assert str(c) == f"{scheme_iri}/{g.value(c, SKOS.notation)}"


def test_no_exact_match_between_rating_scales():
    g = bundle_graph(VOCABULARIES)
    assert list(g.triples((None, SKOS.exactMatch, None))) == []


def test_observed_site_labels_are_kept_exactly():
    g = bundle_graph(VOCABULARIES)
    labels = {str(o) for o in g.objects(None, SKOS.prefLabel)}
    for label in ("Untested – new or innovative", "Didn't work", "Worked", "Promising",
                  "The practice is implemented.", "Voluntary/not for profit organisation",
                  "Violence (other)", "Violence and sexual offences"):
        assert label in labels


def test_sample_matches_a_fresh_conversion_of_the_sample_csv():
    """data/sample-practices.csv is the shared CSV plus version 2 columns (checked in
    tests/test_formats_v2.py); the bundled Turtle is its conversion."""
    sample_csv = Path(__file__).resolve().parents[1] / "data" / "sample-practices.csv"
    _, conversion = read_file(sample_csv, graph_name=SAMPLE.graph)
    assert_same_graph(conversion.graph, bundle_graph(SAMPLE))


def test_reference_matches_a_fresh_conversion_of_forces_csv(forces_csv: Path):
    _, conversion = read_file(forces_csv, graph_name=FORCES.graph)
    assert_same_graph(conversion.graph, bundle_graph(FORCES))


def assert_same_graph(actual: Graph, expected: Graph) -> None:
    if not isomorphic(actual, expected):
        _, only_actual, only_expected = graph_diff(actual, expected)
        raise AssertionError(
            "only in fresh conversion:\n" + only_actual.serialize(format="nt")
            + "\nonly in bundled file:\n" + only_expected.serialize(format="nt")
        )


CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "corpus"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def practices_csv_path(forces_csv: Path) -> Path:
    return forces_csv.parent / "practices.csv"


def practice_keys(sample: Path) -> set[str]:
    """The practices the demo should hold, worked out from the source files: the sample's
    titles and the corpus rows' titles, by slug, a corpus row that
    data/corpus/same-practice.csv names counting as the practice it names."""
    def rows(path: Path) -> list[dict[str, str]]:
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    same = {_slug(r["title"]): _slug(r["practice_title"])
            for r in rows(CORPUS_DIR / "same-practice.csv")}
    keys = {_slug(r["title"]) for r in rows(sample)}
    for name in ("tilley-awards", "star-fund", "hmicfrs-practice", "practice-bank"):
        keys |= {same.get(_slug(r["title"]), _slug(r["title"]))
                 for r in rows(CORPUS_DIR / f"{name}.csv")}
    return keys


def test_demo_counts_practices_forces_and_schemes(demo_store, forces_csv: Path):
    practices = demo_store.count(
        'SELECT DISTINCT ?p WHERE { ?p a pb:Practice '
        'FILTER STRSTARTS(STR(?p), "https://w3id.org/practicebank/id/practice/") }')
    forces = demo_store.count(
        'SELECT DISTINCT ?f WHERE { ?f a pb:PoliceForce '
        'FILTER STRSTARTS(STR(?f), "https://w3id.org/practicebank/id/force/") }')
    with forces_csv.open(encoding="utf-8") as f:
        assert forces == len(list(csv.DictReader(f))) == 51
    assert practices == len(practice_keys(practices_csv_path(forces_csv))) == 99
    rows = demo_store.query(
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
        "SELECT ?s (COUNT(?c) AS ?n) WHERE { ?s a skos:ConceptScheme . ?c skos:inScheme ?s } "
        "GROUP BY ?s")
    counts = {r["s"].value.rsplit("/", 1)[-1]: int(r["n"].value) for r in rows}
    assert set(SCHEMES) <= set(counts) and all(counts[s] > 0 for s in SCHEMES)


def test_every_rated_row_has_an_assessment_linked_to_a_rating_concept(demo_store, practices_csv):
    rated = {}
    for path in (practices_csv, CORPUS_DIR / "practice-bank.csv"):  # both in the demo
        with path.open(encoding="utf-8") as f:
            rated |= {row["title"].strip(): row["does_it_work"] for row in csv.DictReader(f)
                      if not is_absent(row["does_it_work"])}
    rows = demo_store.query("""
        PREFIX pb: <https://w3id.org/practicebank/def/>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?title ?label WHERE {
            ?p a pb:Practice ; dcterms:title ?title ; pb:rating ?a .
            ?a a pb:RatingAssessment ; pb:ratingValue ?r ;
               pb:ratingScale <https://w3id.org/practicebank/concept/does-it-work> .
            ?r a pb:Rating ; skos:inScheme ?scale ; skos:prefLabel ?label .
            FILTER (?scale = <https://w3id.org/practicebank/concept/does-it-work>)
        }""")
    found = {r["title"].value: r["label"].value for r in rows}
    assert len(rated) == 14 + 3
    assert found == rated


def test_forces_link_to_ons_areas_and_the_police_api_without_identity(demo_store):
    rows = list(demo_store.query("""
        PREFIX pb: <https://w3id.org/practicebank/def/>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?area ?code ?api WHERE {
            <https://w3id.org/practicebank/id/force/kent> pb:policeForceArea ?area ;
                rdfs:seeAlso ?api ; pb:region ?region .
            ?area dcterms:identifier ?code .
        }"""))
    assert [(r["area"].value, r["code"].value, r["api"].value) for r in rows] == [(
        "http://statistics.data.gov.uk/id/statistical-geography/E23000032", "E23000032",
        "https://data.police.uk/api/forces/kent")]
    assert not demo_store.query(
        "ASK { ?x <http://www.w3.org/2002/07/owl#sameAs> ?y }")


def test_forces_without_a_police_uk_id_use_the_slug_of_their_name(demo_store):
    for slug in ("british-transport-police", "police-scotland",
                 "bailiwick-of-guernsey-law-enforcement"):
        assert demo_store.query(
            f"ASK {{ <https://w3id.org/practicebank/id/force/{slug}> a "
            "<https://w3id.org/practicebank/def/PoliceForce> }")


def test_regions_are_linked_to_the_forces_in_them(demo_store):
    rows = demo_store.query("""
        PREFIX pb: <https://w3id.org/practicebank/def/>
        SELECT ?force WHERE { ?force a pb:PoliceForce ;
            pb:region <https://w3id.org/practicebank/concept/region/wales> } ORDER BY ?force""")
    assert [r["force"].value.rsplit("/", 1)[-1] for r in rows] == [
        "dyfed-powys", "gwent", "north-wales", "south-wales"]
