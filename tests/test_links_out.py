"""Links out (issue 15, item 4): every police force links out, organisations carry their
public identifiers, and the VoID linksets count the links to each target dataset.

Expected values come from the source files, read here with the csv module and rdflib: the
shared forces.csv (which forces have an ONS code and a data.police.uk id),
data/organisation-identifiers.csv, and the bundled Turtle files; the store (everything
``serve --demo`` loads) is read triple by triple, never with SPARQL.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from practicebank import dataset_description as dd
from practicebank.resources import DEMO_BUNDLES, bundle_graph

ROOT = Path(__file__).resolve().parents[1]
IDENTIFIERS_CSV = ROOT / "data" / "organisation-identifiers.csv"
PB = "https://w3id.org/practicebank/def/"
FORCE = "https://w3id.org/practicebank/id/force/"
ONS = "http://statistics.data.gov.uk/id/statistical-geography/"
POLICE_API = "https://data.police.uk/api/forces/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
SCHEMA_URL = "https://schema.org/url"
VOID = rdflib.Namespace(dd.VOID)
WIKIDATA_TARGET = next(t for t in dd.TARGETS if t.key == "wikidata")


@pytest.fixture(scope="module")
def forces(forces_csv: Path) -> list[dict[str, str]]:
    with open(forces_csv, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def triples(demo_store) -> dict[str, dict[str, set[str]]]:
    """subject -> predicate -> objects (lexical values), over every graph but graph/dataset."""
    index: dict[str, dict[str, set[str]]] = {}
    for quad in demo_store.ox:
        if quad.graph_name != dd.DESCRIPTION_GRAPH:
            index.setdefault(quad.subject.value, {}).setdefault(
                quad.predicate.value, set()).add(quad.object.value)
    return index


def test_every_police_force_links_out(triples):
    forces = [s for s, props in triples.items() if PB + "PoliceForce" in props.get(RDF_TYPE, ())]
    assert len(forces) == 51
    for force in forces:
        props = triples[force]
        police_uk = {o for o in props.get(SEE_ALSO, ()) if o.startswith(POLICE_API)}
        assert police_uk or props.get(SCHEMA_URL), f"{force} links nowhere"
        assert all(url.startswith("https://") for url in props.get(SCHEMA_URL, ()))


def test_forces_carry_their_ons_code_and_data_police_uk_id(triples, forces):
    with_code = [row for row in forces if row["ons_pfa_code"]]
    without_id = [row for row in forces if not row["data_police_uk_id"]]
    assert (len(with_code), len(without_id)) == (43, 7)
    for row in forces:
        if not row["data_police_uk_id"]:
            continue
        props = triples[FORCE + row["data_police_uk_id"]]
        assert props[PB + "policeUkId"] == {row["data_police_uk_id"]}
        assert POLICE_API + row["data_police_uk_id"] in props[SEE_ALSO]
        code = row["ons_pfa_code"]
        assert props.get(PB + "gssCode", set()) == ({code} if code else set()), row["name"]
        assert props.get(PB + "policeForceArea", set()) == ({ONS + code} if code else set())
    # The seven data.police.uk does not list (British Transport Police, Police Scotland, the
    # Crown Dependencies, the national special forces) have no id and no ONS code; each links
    # out to its own web site instead.
    slugs = {s.removeprefix(FORCE) for s, props in triples.items()
             if PB + "PoliceForce" in props.get(RDF_TYPE, ()) and PB + "policeUkId" not in props}
    assert len(slugs) == 7 and "british-transport-police" in slugs
    for slug in slugs:
        props = triples[FORCE + slug]
        assert props.get(SCHEMA_URL) and PB + "gssCode" not in props


def test_organisation_identifiers_reach_the_graph(triples):
    with open(IDENTIFIERS_CSV, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for row in rows:
        props = triples[row["iri"]]
        value = row["value"]
        if row["property"] == "wikidata":
            value = WIKIDATA_TARGET.uri_space + value
        assert value in props[PB + row["property"]], row
        assert row["source_url"] in props["http://www.w3.org/ns/prov#wasDerivedFrom"]
        assert triples[row["source_url"]][PB + "dateRead"] == {row["date_read"]}


def expected_links(forces: list[dict[str, str]]) -> Counter:
    """(target key, link property) -> links, counted from the source files: the forces' links
    from forces.csv, the other Turtle bundles' with rdflib, Wikidata items from the
    identifiers CSV."""
    counts: Counter = Counter()
    counts["ons-statistical-geography", PB + "policeForceArea"] = sum(
        1 for row in forces if row["ons_pfa_code"])
    counts["data-police-uk", SEE_ALSO] = sum(1 for row in forces if row["data_police_uk_id"])
    others = bundle_graph(*(b for b in DEMO_BUNDLES if b.graph != "reference"))
    reference = bundle_graph(*(b for b in DEMO_BUNDLES if b.graph == "reference"))
    for graph, skip_forces in ((others, False), (reference, True)):
        for s, p, o in graph:
            if str(p) not in dd.LINK_PREDICATES or not isinstance(o, rdflib.URIRef):
                continue
            if skip_forces and str(s).startswith(FORCE):
                continue  # counted from forces.csv above
            for target in dd.TARGETS:
                if str(o).startswith(target.uri_space):
                    counts[target.key, str(p)] += 1
    with open(IDENTIFIERS_CSV, newline="", encoding="utf-8") as f:
        counts["wikidata", PB + "wikidata"] += sum(
            1 for row in csv.DictReader(f) if row["property"] == "wikidata")
    return +counts


def test_void_linksets_count_the_links_out(demo_store, forces):
    description = rdflib.Graph().parse(
        data=demo_store.ox.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=dd.DESCRIPTION_GRAPH),
        format="nt")
    found = Counter()
    for linkset in description.subjects(rdflib.RDF.type, VOID.Linkset):
        end = str(description.value(linkset, VOID.objectsTarget))
        key = end.removeprefix(f"{dd.BASE}id/dataset/")
        if key in {t.key for t in dd.TARGETS}:
            found[key, str(description.value(linkset, VOID.linkPredicate))] = int(
                description.value(linkset, VOID.triples))
    assert found == expected_links(forces)
    assert found["ons-statistical-geography", PB + "policeForceArea"] == 43
    assert found["data-police-uk", SEE_ALSO] >= 44
