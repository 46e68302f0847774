"""The partner endpoints (practicebank.partners, data/partners/): each slice loads into its own
``oxigraph serve-read-only`` and answers over HTTP; what the notes claim is in the slices;
nothing looks like a real identifier unless a source verifies it; and the keys that
QUESTIONS.md 13–16 join on are present on both sides, practicebank's demo data and the slices.

Expected answers are worked out independently of the endpoints: from the Turtle files parsed
with rdflib, from the notes' tables, or from the demo store queried in-process.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from partner_endpoints import select
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS

from practicebank.partners import SLICES, slice_named, start_partner_endpoints

ROOT = Path(__file__).resolve().parent.parent
PARTNERS = ROOT / "data" / "partners"
PB = "https://w3id.org/practicebank/def/"
GEO = "http://statistics.data.gov.uk/id/statistical-geography/"
REAL_QID = re.compile(r"^https?://(www\.)?wikidata\.org/(entity|wiki)/Q\d+$")
EXAMPLE_ITEM = "http://example.org/wikidata-example/entity/"
ILLUSTRATIVE = "illustrative figure, not an official statistic"
#: GSS prefixes of local authorities (liquisearch's table of the ONS coding system).
AUTHORITY_PREFIXES = {"E06", "E07", "E08", "E09", "W06"}
PREFIXES = """
PREFIX foi: <http://publishmydata.com/def/ontology/foi/>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sdmx-dimension: <http://purl.org/linked-data/sdmx/2009/dimension#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX statent: <http://statistics.data.gov.uk/def/statistical-entity#>
PREFIX measure: <http://statistics.data.gov.uk/def/measure-properties/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX p: <http://www.wikidata.org/prop/>
PREFIX ps: <http://www.wikidata.org/prop/statement/>
PREFIX pq: <http://www.wikidata.org/prop/qualifier/>
PREFIX csx: <http://example.org/crimesolutions-example/def#>
PREFIX pb: <https://w3id.org/practicebank/def/>
"""


def parsed(filename: str) -> Graph:
    graph = Graph()
    graph.parse(PARTNERS / filename, format="turtle")
    return graph


def ask(endpoints, name: str, query: str) -> list[dict[str, str]]:
    return select(endpoints.urls[name], PREFIXES + query)


def local(store, query: str) -> list[tuple]:
    """Rows of ``query`` on the in-memory demo store, as tuples of lexical values."""
    return [tuple(term.value if term is not None else None for term in row)
            for row in store.query(PREFIXES + query)]


def notes_table(filename: str, heading: str) -> list[list[str]]:
    """The body rows of the Markdown table in the ``## heading`` section of a notes file."""
    text = (PARTNERS / filename).read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    return [[cell.strip() for cell in row.strip().strip("|").split("|")] for row in rows]


# ---- each slice serves and answers -----------------------------------------------------------

@pytest.mark.parametrize("partner", SLICES, ids=lambda s: s.name)
def test_each_slice_is_served_whole(partner_endpoints, partner):
    """The endpoint holds exactly the triples of its file (counted by rdflib)."""
    expected = len(parsed(partner.filename))
    rows = ask(partner_endpoints, partner.name,
               "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(rows[0]["n"]) == expected
    assert 100 <= expected <= 5000, "slices stay small (hundreds to a few thousand triples)"


@pytest.mark.parametrize("partner", SLICES, ids=lambda s: s.name)
def test_each_slice_names_its_licence_and_sources(partner):
    graph = parsed(partner.filename)
    licences = list(graph.objects(None, URIRef("http://purl.org/dc/terms/license")))
    assert licences, f"{partner.filename} names no licence"
    assert (PARTNERS / partner.filename.replace(".ttl", ".notes.md")).is_file()
    sources = set(graph.objects(None, URIRef("http://purl.org/dc/terms/source")))
    assert sources, f"{partner.filename} names no source"


def test_partner_endpoints_are_read_only(partner_endpoints):
    url = partner_endpoints.servers["ons-geography"].update_url
    request = urllib.request.Request(
        url, data=b"INSERT DATA { <urn:x> <urn:y> <urn:z> }",
        headers={"Content-Type": "application/sparql-update"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert 400 <= refused.value.code < 500
    rows = ask(partner_endpoints, "ons-geography",
               "SELECT (COUNT(*) AS ?n) WHERE { <urn:x> ?p ?o }")
    assert rows[0]["n"] == "0"


def test_unknown_slice_name_says_which_exist():
    with pytest.raises(KeyError, match="ons-geography"):
        slice_named("no-such-slice")


def test_start_and_stop_leave_nothing_running(tmp_path):
    """A start of one slice in a folder of the caller's: it answers, and stop ends it."""
    running = start_partner_endpoints(tmp_path, slices=(slice_named("crimesolutions"),))
    server = running.servers["crimesolutions"]
    assert select(server.query_url, "SELECT (1 AS ?one) {}") == [{"one": "1"}]
    running.stop()
    assert server.process.poll() is not None
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.query_url + "?query=ASK%7B%7D", timeout=5)


def test_demo_command_prints_every_endpoint_and_serves_them():
    """``python -m practicebank.partners``: one ``name<TAB>url`` line per slice, each URL
    answers, and an interrupt stops it cleanly."""
    with subprocess.Popen([sys.executable, "-m", "practicebank.partners"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            lines = [process.stdout.readline().rstrip("\n") for _ in SLICES]
            names = [line.split("\t")[0] for line in lines]
            assert names == [s.name for s in SLICES]
            for line in lines:
                url = line.split("\t")[1]
                assert url.startswith("http://127.0.0.1:") and url.endswith("/query")
                count = select(url, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")[0]["n"]
                assert count != "0"
        finally:
            process.send_signal(signal.SIGINT)
            try:
                _, errors = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                _, errors = process.communicate()
    assert process.returncode == 0, errors


# ---- what the slices claim -------------------------------------------------------------------

def test_no_unverified_qids():
    """Every IRI of the Wikidata slice that looks like a real QID has a row, with a URL and a
    date, in the notes' table of verified QIDs; every other item is an example IRI marked
    as such."""
    graph = parsed("wikidata.ttl")
    verified = {row[0]: row for row in notes_table("wikidata.notes.md", "Verified real QIDs")
                if row and row[0]}
    terms = {t for triple in graph for t in triple if isinstance(t, URIRef)}
    for term in terms:
        if REAL_QID.match(str(term)):
            qid = str(term).rsplit("/", 1)[1]
            assert qid in verified, f"{term} has no verified source in wikidata.notes.md"
            assert verified[qid][2].startswith("http") and re.match(r"\d{4}-\d\d-\d\d",
                                                                    verified[qid][3])
    examples = {s for s in graph.subjects() if str(s).startswith(EXAMPLE_ITEM)
                and "/statement/" not in str(s)}
    assert len(examples) >= 100
    for item in examples:
        comments = [str(c) for c in graph.objects(item, RDFS.comment)]
        assert any(c.startswith("example IRI") for c in comments), item


def test_welsh_labels_present_where_claimed(partner_endpoints):
    claimed = notes_table("wikidata.notes.md",
                          "Welsh labels claimed (checked by tests/test_partners.py)")
    assert len(claimed) >= 12
    rows = ask(partner_endpoints, "wikidata", """
        SELECT ?en ?cy WHERE {
          ?item rdfs:label ?en , ?cy .
          FILTER(LANG(?en) = "en" && LANG(?cy) = "cy")
          ?item <http://schema.org/name> ?cy
        }""")
    welsh = {(row["en"], row["cy"]) for row in rows}
    for english, cymraeg in claimed:
        assert (english, cymraeg) in welsh, f"{english}: no Welsh label {cymraeg!r}"


def test_welsh_forces_have_welsh_labels(partner_endpoints):
    rows = ask(partner_endpoints, "wikidata", """
        SELECT ?code ?cy WHERE {
          ?force wdt:P836 ?code .
          FILTER(STRSTARTS(?code, "W15"))
          OPTIONAL { ?force rdfs:label ?cy FILTER(LANG(?cy) = "cy") }
        }""")
    assert len(rows) == 4 and all("cy" in row for row in rows), rows


def test_local_authority_codes_have_the_right_gss_prefix(partner_endpoints):
    rows = ask(partner_endpoints, "local-authorities", """
        SELECT ?code ?entity WHERE {
          ?area skos:notation ?code ; statent:code ?e .
          ?e skos:notation ?entity .
          FILTER(?entity != "E23" && ?entity != "W15")
        }""")
    assert len(rows) >= 40
    for row in rows:
        assert re.fullmatch(r"[EW]\d{8}", row["code"]), row
        assert row["code"][:3] == row["entity"], row
        assert row["entity"] in AUTHORITY_PREFIXES, row


def test_london_codes_run_as_the_ons_lists_them():
    """The 33 London codes are E09000001…E09000033 with the ONS page's order of names."""
    graph = parsed("local-authorities.ttl")
    name = URIRef("http://statistics.data.gov.uk/def/statistical-geography#officialname")
    codes = {str(s).rsplit("/", 1)[1]: str(o) for s, o in graph.subject_objects(name)
             if str(s).startswith(GEO + "E09")}
    assert sorted(codes) == [f"E09{i:06d}" for i in range(1, 34)]
    assert codes["E09000001"] == "City of London" and codes["E09000010"] == "Enfield"


def test_illustrative_population_is_marked_on_every_observation(partner_endpoints):
    rows = ask(partner_endpoints, "ons-geography", f"""
        SELECT ?period (COUNT(?obs) AS ?n) (COUNT(?comment) AS ?marked) WHERE {{
          ?obs a qb:Observation ; sdmx-dimension:refPeriod ?period .
          OPTIONAL {{ ?obs rdfs:comment ?comment FILTER(STR(?comment) = "{ILLUSTRATIVE}") }}
        }} GROUP BY ?period""")
    by_period = {row["period"].rsplit("/", 1)[1]: row for row in rows}
    assert by_period["2022"]["n"] == by_period["2022"]["marked"] == "43"
    assert by_period["1973"]["marked"] == "0" and by_period["1973"]["n"] == "37"


def test_every_crimesolutions_entry_is_sourced_or_illustrative():
    graph = parsed("crimesolutions.ttl")
    csx = "http://example.org/crimesolutions-example/def#"
    entries = set(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                 URIRef(csx + "Program")))
    entries |= set(graph.subjects(URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                  URIRef(csx + "Practice")))
    sourced = illustrative = 0
    for entry in entries:
        assert not str(entry).startswith("https://crimesolutions.ojp.gov/"), \
            "no profile page was stored: CrimeSolutions IRIs need one"
        comments = " ".join(str(c) for c in graph.objects(entry, RDFS.comment))
        if list(graph.objects(entry, URIRef("http://purl.org/dc/terms/source"))):
            sourced += 1
            assert "example IRI" in comments
        else:
            illustrative += 1
            assert "illustrative" in comments, entry
    assert (sourced, illustrative) == (5, 8)


# ---- the keys QUESTIONS 13–16 join on --------------------------------------------------------

def test_q13_every_force_area_of_practicebank_has_a_population(demo_store, partner_endpoints):
    """Every police force area the demo store names is in the ONS slice with a 2022 count."""
    ours = {row[0] for row in local(demo_store, "SELECT DISTINCT ?a { ?f pb:policeForceArea ?a }")}
    assert len(ours) == 43
    rows = ask(partner_endpoints, "ons-geography", """
        SELECT ?area ?count WHERE {
          ?obs sdmx-dimension:refArea ?area ;
               sdmx-dimension:refPeriod <http://reference.data.gov.uk/id/year/2022> ;
               measure:count ?count .
        }""")
    theirs = {row["area"] for row in rows}
    assert ours <= theirs
    assert all(int(row["count"]) > 0 for row in rows)


def test_q14_forces_and_authorities_join_wikidata_by_gss_code(demo_store, partner_endpoints):
    areas = {row[0].rsplit("/", 1)[1]
             for row in local(demo_store, "SELECT DISTINCT ?a { ?f pb:policeForceArea ?a }")}
    organisation_codes = {row[0] for row in local(demo_store, """
        SELECT DISTINCT ?c { ?o pb:gssCode ?c
                             FILTER NOT EXISTS { ?o a pb:PoliceForce } }""")}  # E23/W15
    assert organisation_codes, "the demo data gives no organisation a GSS code"
    rows = ask(partner_endpoints, "wikidata", "SELECT ?code { ?item wdt:P836 ?code }")
    codes = {row["code"] for row in rows}
    assert areas <= codes
    assert organisation_codes <= codes
    # and the join yields a Welsh label for a force that runs a practice in the demo data
    forces_with_practice = {row[0].rsplit("/", 1)[1] for row in local(demo_store, """
        SELECT DISTINCT ?a { ?p a pb:Practice ; pb:organisation ?f . ?f pb:policeForceArea ?a }""")}
    welsh = {row["code"] for row in ask(partner_endpoints, "wikidata", """
        SELECT ?code { ?item wdt:P836 ?code ; rdfs:label ?l FILTER(LANG(?l) = "cy") }""")}
    assert forces_with_practice & welsh


def test_q15_topics_and_ratings_meet_crimesolutions(demo_store, partner_endpoints):
    """A demo practice with a rating that maps to CrimeSolutions' scale and a topic the
    crosswalk relates to CrimeSolutions topics finds programmes with that topic and rating."""
    store_rating_labels = {row[0] for row in local(demo_store, """
        SELECT ?label { ?c skos:inScheme <https://w3id.org/practicebank/concept/crimesolutions> ;
                           skos:prefLabel ?label }""")}
    slice_ratings = {row["r"] for row in ask(partner_endpoints, "crimesolutions", """
        SELECT DISTINCT ?r { { ?x csx:evidenceRating ?r } UNION { ?x csx:listing ?r } }""")}
    assert slice_ratings - {"Screened out"} <= store_rating_labels
    crosswalk = Graph().parse(PARTNERS / "crimesolutions-crosswalk.ttl", format="turtle")
    related = URIRef("http://www.w3.org/2004/02/skos/core#relatedMatch")
    topic_map: dict[str, set[str]] = {}
    for ours, theirs in crosswalk.subject_objects(related):
        topic_map.setdefault(str(ours), set()).add(str(theirs))
    known = {row[0] for row in local(demo_store, "SELECT ?c { ?c a skos:Concept }")}
    assert set(topic_map) <= known, "the crosswalk names concepts practicebank lacks"
    practices = local(demo_store, """
        SELECT DISTINCT ?practice ?topic ?label {
          ?a pb:assessedPractice ?practice ; pb:ratingValue ?r .
          ?r skos:closeMatch ?cs . ?cs skos:prefLabel ?label .
          ?practice pb:topic ?topic }""")
    wanted = {(cst, label) for _, topic, label in practices for cst in topic_map.get(topic, ())}
    assert wanted
    offered = {(row["t"], row["r"]) for row in ask(partner_endpoints, "crimesolutions", """
        SELECT DISTINCT ?t ?r {
          ?prog csx:topic ?t .
          { ?prog csx:evidenceRating ?r } UNION { ?prog csx:finding/csx:evidenceRating ?r } }""")}
    assert wanted & offered


def test_q16_partners_meet_local_authorities(demo_store, partner_endpoints):
    """Organisations with a GSS code are authorities in the slice, and forces that run demo
    practices police areas the slice's authorities lie in."""
    rows = ask(partner_endpoints, "local-authorities", """
        SELECT ?code ?pfa { ?la skos:notation ?code . OPTIONAL { ?la foi:within ?pfa } }""")
    codes = {row["code"] for row in rows}
    areas = {row["pfa"] for row in rows if row.get("pfa", "").startswith(GEO)}
    organisation_codes = {row[0] for row in local(demo_store, """
        SELECT DISTINCT ?c { ?o pb:gssCode ?c
                             FILTER NOT EXISTS { ?o a pb:PoliceForce } }""")}  # E23/W15
    assert organisation_codes <= codes
    practice_areas = {row[0] for row in local(demo_store, """
        SELECT DISTINCT ?a { ?p a pb:Practice ; pb:organisation|pb:partner ?f .
                             ?f pb:policeForceArea ?a }""")}
    assert len(practice_areas & areas) >= 3


def test_local_authorities_name_their_police_force_area_in_the_ons_slice(partner_endpoints):
    """Every police force area an authority lies in is a geography of the ONS slice."""
    pfas = {row["pfa"] for row in ask(partner_endpoints, "local-authorities", """
        SELECT DISTINCT ?pfa { ?la foi:within ?pfa FILTER(STRSTARTS(STR(?pfa),
          "http://statistics.data.gov.uk/id/statistical-geography/E23")) }""")}
    ons = {row["g"] for row in ask(partner_endpoints, "ons-geography",
                                    "SELECT ?g { ?g statent:code ?e }")}
    assert pfas and pfas <= ons


def test_literal_codes_are_plain_strings():
    """Codes are plain literals (xsd:string), as practicebank's pb:gssCode is, so a join by
    value matches without a cast."""
    for filename in ("ons-geography.ttl", "local-authorities.ttl", "wikidata.ttl"):
        graph = parsed(filename)
        for predicate in (URIRef("http://www.w3.org/2004/02/skos/core#notation"),
                          URIRef("http://www.wikidata.org/prop/direct/P836")):
            for value in graph.objects(None, predicate):
                assert isinstance(value, Literal) and value.datatype is None \
                    and value.language is None, (filename, value)
