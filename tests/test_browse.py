"""Faceted browsing at /practices: every facet, count, order and download held against
SPARQL written here, apart from the code under test, and run through /sparql.

Each facet's expected values come from one query per facet below (``PAIRS``: practice and
value, written with UNIONs and explicit joins rather than the property paths of
endpoint/facets.py), so that the selections and the counts the page shows are checked
against an answer worked out another way. The "as SPARQL" query of a view is run through
/sparql and must give the view's list in the view's order.
"""

from __future__ import annotations

import csv
import html
import io
import re
import urllib.parse
from collections import defaultdict

import pyoxigraph as ox
import pytest

from practicebank.endpoint import browse, create_app
from practicebank.journal import ChangeSet
from practicebank.namespaces import graph_node
from practicebank.store import PracticeStore

BASE = "https://w3id.org/practicebank/"
PREFIXES = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX concept: <https://w3id.org/practicebank/concept/>
"""
JSON_RESULTS = {"Accept": "application/sparql-results+json"}

#: Per facet parameter: a query giving (?p, ?v) for every practice and each value it has.
PAIRS = {
    "rating": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice .
        { ?p pb:rating ?a } UNION { ?a pb:assessedPractice ?p }
        ?a pb:ratingScale concept:does-it-work . ?a pb:ratingValue ?v .
        OPTIONAL { ?later pb:supersedes ?a } FILTER(!BOUND(?later)) }""",
    "purpose": "SELECT DISTINCT ?p ?v WHERE { ?p a pb:Practice . ?p pb:purpose ?v }",
    "topic": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice .
        { ?p pb:topic ?v } UNION { ?p pb:topic ?t . ?t skos:broader+ ?v } }""",
    "stage": "SELECT DISTINCT ?p ?v WHERE { ?p a pb:Practice . ?p pb:stage ?v }",
    "force": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice . ?p pb:organisation ?v . ?v a pb:PoliceForce }""",
    "region": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice .
        { ?p pb:region ?v } UNION { ?p pb:organisation ?o . ?o pb:region ?v } }""",
    "recognition": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice .
        { ?p pb:recognition ?r } UNION { ?r pb:recognises ?p }
        ?r pb:recognitionSource ?v }""",
    "target": "SELECT DISTINCT ?p ?v WHERE { ?p a pb:Practice . ?p pb:targetGroup ?v }",
    "partner": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice .
        { ?p pb:partnerType ?v } UNION { ?p pb:partner ?o . ?o pb:partnerType ?v }
        UNION { ?p pb:partner ?o . ?o org:classification ?v } }""",
    "year": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice . ?p pb:startDate ?d BIND(SUBSTR(STR(?d), 1, 4) AS ?v) }""",
    "intervention": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice . ?p pb:interventionType ?v }""",
    "effect": """SELECT DISTINCT ?p ?v WHERE {
        ?p a pb:Practice . ?p pb:interventionType ?t .
        ?e a pb:EMMIEAssessment . ?e pb:assessedInterventionType ?t . ?e pb:ratingValue ?v .
        OPTIONAL { ?later pb:supersedes ?e } FILTER(!BOUND(?later)) }""",
}
TITLES = """SELECT ?p (MIN(STR(?t)) AS ?title) (MIN(STR(?d)) AS ?start) WHERE {
    ?p a pb:Practice . FILTER(isIRI(?p))
    OPTIONAL { ?p dcterms:title ?t } OPTIONAL { ?p pb:startDate ?d } } GROUP BY ?p"""


def sparql(client, query: str) -> list[dict]:
    response = client.get("/sparql", query_string={"query": query}, headers=JSON_RESULTS)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return [{k: v["value"] for k, v in row.items()}
            for row in response.get_json()["results"]["bindings"]]


def slug(value: str) -> str:
    return value.rstrip("/").rsplit("/", 1)[-1]


class Expected:
    """What the store says, from the queries above: per facet, slug -> set of practices."""

    def __init__(self, client) -> None:
        self.practices = {r["p"]: (r.get("title"), r.get("start"))
                          for r in sparql(client, PREFIXES + TITLES)}
        self.by_value: dict[str, dict[str, set[str]]] = {}
        for param, query in PAIRS.items():
            found: dict[str, set[str]] = defaultdict(set)
            for r in sparql(client, PREFIXES + query):
                found[slug(r["v"])].add(r["p"])
            self.by_value[param] = dict(found)

    def having(self, param: str, slugs: list[str]) -> set[str]:
        return set().union(*(self.by_value[param].get(s, set()) for s in slugs))

    def select(self, chosen: dict[str, list[str]]) -> set[str]:
        out = set(self.practices)
        for param, slugs in chosen.items():
            out &= self.having(param, slugs)
        return out

    def title_order(self, iris) -> list[str]:
        return sorted(iris, key=lambda p: (self.practices[p][0] is not None,
                                           (self.practices[p][0] or "").lower(), p))

    def date_order(self, iris) -> list[str]:
        titled = self.title_order(iris)
        dated = [p for p in titled if self.practices[p][1]]
        dated.sort(key=lambda p: self.practices[p][1], reverse=True)
        return dated + [p for p in titled if not self.practices[p][1]]


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


@pytest.fixture(scope="module")
def expected(client) -> Expected:
    return Expected(client)


def listing(client, params) -> dict:
    response = client.get("/practices.json", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    return response.get_json()


def iris(body: dict) -> list[str]:
    return [p["practice"] for p in body["practices"]]


# -- every facet, value by value -----------------------------------------------------------


@pytest.mark.parametrize("param", list(PAIRS))
def test_each_value_selects_exactly_the_practices_sparql_finds(client, expected, param):
    everything = listing(client, {})
    counts = everything["counts"][param]
    used = {s for s, n in counts.items() if n}
    assert used == {s for s, ps in expected.by_value[param].items() if ps}
    for value in used:
        body = listing(client, {param: value})
        assert set(iris(body)) == expected.having(param, [value]), value
        assert body["total"] == len(expected.having(param, [value])) == counts[value]


def test_the_demo_has_practices_in_most_facets(expected):
    """The test above checks something: most facets have values in the demo data."""
    with_values = [p for p, found in expected.by_value.items() if found]
    assert len(with_values) >= 9, with_values
    assert len(expected.practices) > 50


def test_a_facet_the_data_has_nothing_for_shows_nothing(client, expected):
    assert not expected.by_value["effect"]  # the demo practices name no intervention type
    page = client.get("/practices").get_data(as_text=True)
    legend = page.index("<legend>Toolkit effect</legend>")
    fieldset = page[legend:page.index("</fieldset>", legend)]
    assert "No practice has one yet." in fieldset and "checkbox" not in fieldset
    # A value of the vocabulary that no practice has yet: an empty list, not an error.
    body = listing(client, {"effect": "1"})
    assert body["total"] == 0 and body["practices"] == []


def test_a_broader_topic_takes_in_practices_with_a_narrower_one(client, expected):
    rows = sparql(client, PREFIXES + """SELECT DISTINCT ?broad ?narrow WHERE {
        ?narrow skos:broader ?broad . ?p pb:topic ?narrow }""")
    assert rows, "the demo has no practice with a narrower topic"
    broad = slug(rows[0]["broad"])
    narrower = {slug(r["narrow"]) for r in rows if r["broad"] == rows[0]["broad"]}
    got = set(iris(listing(client, {"topic": broad})))
    for n in narrower:
        assert expected.having("topic", [n]) <= got
    # The page shows the tree: the narrower topic's checkbox inside the broader one's item.
    page = client.get("/practices").get_data(as_text=True)
    start = page.index(f'value="{broad}"')
    item = page[start:page.index("</ul>", start)]
    assert any(f'value="{n}"' in item for n in narrower)


# -- combining facets ----------------------------------------------------------------------

SELECTIONS = [
    {"rating": ["promising", "untested-new-or-innovative"]},
    {"rating": ["promising"], "region": ["south-east", "north-west"]},
    {"recognition": ["tilley-award"], "partner": ["police"]},
    {"topic": ["public-protection"], "rating": ["promising"], "purpose": ["prevention"]},
    {"recognition": ["police-star-fund", "hmicfrs"]},
]


@pytest.mark.parametrize("chosen", SELECTIONS)
def test_facets_and_across_or_within_and_count_without_their_own_choice(client, expected,
                                                                          chosen):
    body = listing(client, chosen)
    want = expected.select(chosen)
    assert set(iris(body)) == want and body["total"] == len(want)
    for param in PAIRS:  # a value's count: the selection without its facet, with the value
        others = expected.select({p: s for p, s in chosen.items() if p != param})
        for value, count in body["counts"][param].items():
            assert count == len(others & expected.having(param, [value])), (param, value)


def test_the_selections_above_are_not_empty_or_everything(expected):
    sizes = [len(expected.select(c)) for c in SELECTIONS]
    assert all(0 < n < len(expected.practices) for n in sizes), sizes


# -- order, pages and downloads --------------------------------------------------------------


@pytest.mark.parametrize("chosen", [{}, *SELECTIONS[:2]])
def test_the_list_is_in_title_or_date_order(client, expected, chosen):
    assert iris(listing(client, chosen)) == expected.title_order(expected.select(chosen))
    by_date = iris(listing(client, {**chosen, "sort": "date"}))
    assert by_date == expected.date_order(expected.select(chosen))


def listed(text: str) -> list[str]:
    """The practices a page lists, as IRIs (its links are to this server's pages)."""
    found = re.search(r'<ol class="practices"[^>]*>(.*?)</ol>', text, re.S)
    hrefs = re.findall(r'<li><a href="([^"]+)"', found.group(1)) if found else []
    return [BASE + urllib.parse.urlsplit(html.unescape(h)).path.lstrip("/") for h in hrefs]


def test_pages_cut_the_list_in_order(client):
    whole = iris(listing(client, {"sort": "date"}))
    seen = []
    for page in (1, 2, 3, 4, 5, 6):
        seen += listed(client.get("/practices", query_string={"sort": "date", "page": page})
                       .get_data(as_text=True))
    assert seen == whole[:len(seen)] and len(seen) == min(len(whole), 120)
    text = client.get("/practices", query_string={"size": 50}).get_data(as_text=True)
    assert listed(text) == iris(listing(client, {}))[:50]


@pytest.mark.parametrize("params", [{"page": "0"}, {"page": "x"}, {"size": "7"},
                                    {"page": str(browse.MAX_OFFSET)}, {"sort": "random"},
                                    {"rating": "excellent"}, {"topic": "<script>"},
                                    {"q": "x" * 201}])
def test_values_it_cannot_use_are_a_400_with_a_short_message(client, params):
    for path in ("/practices", "/practices.csv", "/practices.json"):
        response = client.get(path, query_string=params)
        assert response.status_code == 400, (path, params)
        message = response.get_json()["message"]
        assert len(message) < 300 and "Traceback" not in message
        assert "<script>" not in response.get_data(as_text=True) or response.mimetype != "text/html"


def test_parameters_it_does_not_know_are_ignored(client):
    plain = listing(client, {"rating": "promising"})
    tagged = listing(client, {"rating": "promising", "utm_source": "mail", "fbclid": "x"})
    assert tagged == plain


def test_a_page_past_the_last_says_so(client, expected):
    response = client.get("/practices", query_string={"page": 40})
    assert response.status_code == 200
    assert "No practices on this page" in response.get_data(as_text=True)


def test_the_csv_is_the_list(client, expected):
    chosen = {"rating": ["promising"], "sort": "date"}
    response = client.get("/practices.csv", query_string=chosen)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["practice"] for r in rows] == iris(listing(client, chosen))
    assert all(r["rating"] == "Promising" for r in rows)
    for r in rows:
        assert r["title"] == expected.practices[r["practice"]][0]
        assert r["start_date"] == (expected.practices[r["practice"]][1] or "")


def test_the_json_holds_counts_and_the_list(client, expected):
    body = listing(client, {"region": "london"})
    assert set(body["counts"]) == set(PAIRS)
    assert body["filters"] == {"region": ["london"]}
    for p in body["practices"]:
        assert p["title"] == expected.practices[p["practice"]][0]
        assert "London" in p["region"]


# -- the view as SPARQL ----------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"sort": "date"}, *SELECTIONS,
                                    {"topic": ["violence"], "sort": "date"},
                                    {"year": ["2023"]}, {"q": "burglary"},
                                    {"q": "violence", "sort": "date",
                                     "rating": ["promising", "untested-new-or-innovative"]}])
def test_the_view_as_sparql_gives_the_same_list_in_the_same_order(client, params):
    body = listing(client, params)
    assert body["total"] > 0  # an empty list would be the same in any order
    rows = sparql(client, body["sparql"])
    assert [r["practice"] for r in rows] == iris(body)


def test_text_search_selects_what_the_text_index_finds(client):
    from practicebank.endpoint import text_index

    with client.application.test_request_context():
        found = text_index.practice_ids("burglary")
    assert found, "the demo has no practice about burglary"
    assert set(iris(listing(client, {"q": "burglary"}))) == found


def test_the_page_links_the_query_to_the_editor_and_to_sparql(client):
    text = client.get("/practices", query_string={"rating": "promising"}).get_data(
        as_text=True)
    query = listing(client, {"rating": "promising"})["sparql"]
    for path in ("/query?", "/sparql?"):
        link = html.escape(path + urllib.parse.urlencode({"query": query}))
        assert f'href="{link}"' in text
    assert html.escape(query) in text


# -- the page --------------------------------------------------------------------------------


def test_the_page_shows_every_count_with_a_labelled_checkbox(client):
    params = {"rating": "promising", "region": "south-east"}
    text = client.get("/practices", query_string=params).get_data(as_text=True)
    counts = listing(client, params)["counts"]
    boxes = re.findall(r'<input type="checkbox" id="([^"]+)" name="([^"]+)" value="([^"]+)"'
                       r'( checked)?>\s*<label for="([^"]+)">[^<]*<span class="count">'
                       r"\((\d+)", text)
    assert boxes
    for box_id, param, value, checked, label_for, count in boxes:
        assert box_id == label_for
        assert int(count) == counts[param][value]
        assert bool(checked) == ((param, value) in params.items())
    assert 'name="q"' in text and '<label for="browse-q">' in text
    assert "Clear all filters" in text


def test_a_title_is_escaped(tmp_path):
    store = PracticeStore()
    evil = "<script>alert(1)</script> & co"
    store.ox.add(ox.Quad(ox.NamedNode(BASE + "id/practice/evil"),
                         ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                         ox.NamedNode(BASE + "def/Practice"), ox.NamedNode(BASE + "graph/t")))
    store.ox.add(ox.Quad(ox.NamedNode(BASE + "id/practice/evil"),
                         ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal(evil),
                         ox.NamedNode(BASE + "graph/t")))
    text = create_app({"TESTING": True, "STORE": store}).test_client().get(
        "/practices").get_data(as_text=True)
    assert "<script>alert" not in text
    assert html.escape(evil, quote=False) in text


CURRENT_AND_TOOLKIT = """
@prefix pb: <https://w3id.org/practicebank/def/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix c: <https://w3id.org/practicebank/concept/> .
@prefix id: <https://w3id.org/practicebank/id/> .
id:practice\\/a a pb:Practice ; dcterms:title "A" ; pb:interventionType c:intervention-type\\/cctv ;
    pb:rating id:assessment\\/a1, id:assessment\\/a2 .
id:assessment\\/a1 pb:ratingScale c:does-it-work ; pb:ratingValue c:does-it-work\\/promising .
id:assessment\\/a2 pb:ratingScale c:does-it-work ; pb:ratingValue c:does-it-work\\/worked ;
    pb:supersedes id:assessment\\/a1 .
id:practice\\/b a pb:Practice ; dcterms:title "B" ; pb:interventionType c:intervention-type\\/x .
id:assessment\\/b1 pb:assessedPractice id:practice\\/b ; pb:ratingScale c:does-it-work ;
    pb:ratingValue c:does-it-work\\/promising .
id:assessment\\/b2 pb:assessedPractice id:practice\\/b ; pb:ratingScale c:crimesolutions ;
    pb:ratingValue c:crimesolutions\\/effective .
id:toolkit\\/cctv a pb:EMMIEAssessment ; pb:assessedInterventionType c:intervention-type\\/cctv ;
    pb:ratingValue c:emmie-effect\\/1 .
"""


def test_the_current_rating_and_the_toolkit_effect(tmp_path):
    """A superseded rating does not count, another scale's rating is not a "Does it work?"
    one, and the Toolkit's effect is reached through the intervention type."""
    store = PracticeStore()
    store.ox.load(CURRENT_AND_TOOLKIT.encode(), format=ox.RdfFormat.TURTLE,
                  to_graph=ox.NamedNode(BASE + "graph/t"))
    c = create_app({"TESTING": True, "STORE": store}).test_client()
    body = listing(c, {})
    assert {s: n for s, n in body["counts"]["rating"].items() if n} == {"worked": 1,
                                                                          "promising": 1}
    assert iris(listing(c, {"rating": "promising"})) == [BASE + "id/practice/b"]
    assert iris(listing(c, {"effect": "1"})) == [BASE + "id/practice/a"]
    assert {s: n for s, n in body["counts"]["effect"].items() if n} == {"1": 1}
    for params in ({"rating": "worked"}, {"effect": "1"}, {"rating": "promising"}):
        got = listing(c, params)
        assert [r["practice"] for r in sparql(c, got["sparql"])] == iris(got)


def test_a_committed_write_changes_the_counts(demo_store):
    store = PracticeStore()
    store.ox.extend(demo_store.ox)
    c = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": "t"}).test_client()
    before = listing(c, {})
    practice = BASE + "id/practice/browse-test"
    response = c.post("/update", headers={"Authorization": "Bearer t"},
                      content_type="application/sparql-update", data=f"""
        INSERT DATA {{ GRAPH <{BASE}graph/curation> {{
          <{practice}> a <{BASE}def/Practice> ;
            <http://purl.org/dc/terms/title> "Browse test"@en ;
            <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/> ;
            <{BASE}def/purpose> <{BASE}concept/purpose/investigation> . }} }}""".encode())
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    after = listing(c, {})
    assert after["total"] == before["total"] + 1
    assert (after["counts"]["purpose"]["investigation"]
            == before["counts"]["purpose"]["investigation"] + 1)
    assert practice in iris(listing(c, {"purpose": "investigation"}))


def test_a_remote_store_is_browsed_through_sparql(oxigraph_backend):
    """The index builds from SPARQL on a remote store: the same facets, counts and list."""
    name = "browse-test"
    with oxigraph_backend.store() as store:
        triples = ox.parse(CURRENT_AND_TOOLKIT.encode(), format=ox.RdfFormat.TURTLE)
        store.apply_change(name, added=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        try:
            c = create_app({"TESTING": True, "STORE": store}).test_client()
            body = listing(c, {"rating": "worked"})
            assert iris(body) == [BASE + "id/practice/a"]
            assert body["counts"]["rating"]["promising"] == 1
            assert iris(listing(c, {"effect": "1"})) == [BASE + "id/practice/a"]
        finally:
            store.commit_changes(ChangeSet(dropped={graph_node(name)}))


def test_each_chosen_facet_has_a_working_clear_link_and_the_others_none(client):
    """The "Clear {facet}" link drops that facet's values and keeps the rest (a template
    once read the dict's ``clear`` method as the link: every facet showed a broken one)."""
    page = client.get("/practices?rating=promising&sort=date").get_data(as_text=True)
    links = [(href, name) for href, name in re.findall(
        r'<a href="([^"]*)">Clear ([^<]+)</a>', page) if name != "all filters"]
    assert len(links) == 1, links
    href = html.unescape(links[0][0])
    assert href.startswith("/practices") and "rating=" not in href and "sort=date" in href
    assert client.get(href).status_code == 200
    assert "Clear " not in client.get("/practices").get_data(as_text=True).replace(
        "Clear all", "")
