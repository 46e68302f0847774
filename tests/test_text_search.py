"""Full-text search: /search and /search.json, the index's API, and pbf:matches in SPARQL.

The store is the demo data plus a few practices of our own in a graph of their own (for
ranking and escaping). Words are picked from the data by reading the store with SPARQL, and
expected sets are worked out from the store (or from other answers: AND is an intersection),
not from the code under test.
"""

from __future__ import annotations

import html
import json
import re
import urllib.parse

import pyoxigraph as ox
import pytest

from practicebank.endpoint import create_app, text_index
from practicebank.namespaces import sparql_prefixes
from practicebank.store import PracticeStore
from practicebank.text_analysis import MATCHES_FUNCTION, matches, parse_query, terms

TOKEN = "s3cret"
PB = "https://w3id.org/practicebank/def/"
DCTERMS = "http://purl.org/dc/terms/"
OURS = ox.NamedNode("urn:x:search-test")
PRACTICE = "https://w3id.org/practicebank/id/practice/"
TITLED = PRACTICE + "quokka-patrols"
SUMMARISED = PRACTICE + "evening-lanterns"
SCRIPTED = PRACTICE + "scripted"
SCRIPT_TITLE = '<script>alert("x")</script> Nightjar watch'
ODD = PRACTICE + "odd-title"
ODD_TITLE = 'Tab\there, "quoted" back\\slash, Café ☃ 𝄞 Wryneck'


def practice(iri: str, title: str, summary: str) -> list[ox.Quad]:
    node = ox.NamedNode(iri)
    return [ox.Quad(node, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode(PB + "Practice"), OURS),
            ox.Quad(node, ox.NamedNode(DCTERMS + "title"), ox.Literal(title, language="en"), OURS),
            ox.Quad(node, ox.NamedNode(DCTERMS + "abstract"), ox.Literal(summary, language="en"),
                    OURS)]


@pytest.fixture(scope="module")
def store(demo_store) -> PracticeStore:
    store = PracticeStore()
    store.ox.extend(demo_store.ox)
    store.ox.extend(practice(TITLED, "Quokka patrols", "Evening walks in the park."))
    store.ox.extend(practice(SUMMARISED, "Evening lanterns",
                             "Lanterns along the path where a quokka was seen."))
    store.ox.extend(practice(SCRIPTED, SCRIPT_TITLE, "A watch for nightjars."))
    store.ox.extend(practice(ODD, ODD_TITLE, "Line one.\nLine two."))
    return store


@pytest.fixture(scope="module")
def app(store):
    return create_app({"TESTING": True, "STORE": store})


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def rows(store: PracticeStore, query: str) -> list[list[str]]:
    found = store.ox.query(sparql_prefixes() + query, use_default_graph_as_union=True)
    return [[term.value for term in row] for row in found]


def found(client, q: str, kind: str | None = "practice") -> list[str]:
    """Every IRI /search.json gives for ``q``, in rank order, all pages."""
    iris: list[str] = []
    page = 1
    while True:
        args = {"q": q, "page": page, **({"kind": kind} if kind else {})}
        answer = client.get("/search.json?" + urllib.parse.urlencode(args))
        assert answer.status_code == 200, answer.data
        body = answer.get_json()
        iris += [hit["iri"] for hit in body["results"]]
        if len(iris) >= body["total"] or not body["results"]:
            assert len(iris) == body["total"]
            return iris
        page += 1


def word_counts(store: PracticeStore) -> dict[str, set[str]]:
    """Which practices each lower-case word of a title or summary appears in."""
    counts: dict[str, set[str]] = {}
    for iri, text in rows(store, "SELECT ?p ?t WHERE { ?p a pb:Practice ; "
                                 "dcterms:title|dcterms:abstract ?t }"):
        for word in re.findall(r"[a-z]{6,}", text.lower()):
            counts.setdefault(word, set()).add(iri)
    return counts


def test_a_word_of_a_summary_finds_its_practice(client, store):
    iri, summary = rows(store, "SELECT ?p ?a WHERE { ?p a pb:Practice ; dcterms:abstract ?a "
                               "FILTER(STRLEN(?a) > 40) } ORDER BY ?p LIMIT 1")[0]
    counts = word_counts(store)
    word = min(re.findall(r"[a-z]{6,}", summary.lower()), key=lambda w: len(counts[w]))
    assert iri in found(client, word)


def test_a_plural_finds_the_singular_and_back(client, store):
    plurals = [(iri, word) for iri, text in rows(
        store, "SELECT ?p ?a WHERE { ?p a pb:Practice ; dcterms:abstract ?a } ORDER BY ?p")
        for word in re.findall(r"\b([a-z]{4,}ies)\b", text.lower())]
    assert plurals, "the demo data has a summary with a plural in -ies"
    iri, plural = plurals[0]
    singular = plural[:-3] + "y"
    assert iri in found(client, singular)
    assert set(found(client, singular)) == set(found(client, plural))


def test_a_trailing_star_matches_the_start_of_a_word(client, store):
    counts = word_counts(store)
    word, iris = min(((w, i) for w, i in counts.items() if len(w) >= 8),
                     key=lambda item: (len(item[1]), item[0]))
    prefix = word[:6]
    hits = set(found(client, prefix + "*"))
    assert iris <= hits
    # Independently: every practice with a word starting so is found (titles, summaries).
    starting = {iri for w, i in counts.items() if w.startswith(prefix) for iri in i}
    assert starting <= hits


def test_two_words_are_both_required(client, store):
    counts = word_counts(store)
    common = sorted(counts, key=lambda w: (-len(counts[w]), w))
    first, second = next((a, b) for a in common for b in common
                         if a < b and counts[a] & counts[b] and counts[a] != counts[b])
    both = set(found(client, f"{first} {second}"))
    assert both == set(found(client, first)) & set(found(client, second))
    assert counts[first] & counts[second] <= both


def test_a_title_match_ranks_above_a_summary_only_match(client):
    ranked = found(client, "quokka")
    assert ranked.index(TITLED) < ranked.index(SUMMARISED)
    scores = [hit["score"] for hit in client.get("/search.json?q=quokka").get_json()["results"]]
    assert scores == sorted(scores, reverse=True)


def test_an_organisation_is_found_by_each_of_its_names(client, store):
    iri, preferred, other = rows(
        store, "SELECT ?o ?name ?alt WHERE { ?o a pb:Organisation ; skos:prefLabel ?name ; "
               "skos:altLabel ?alt } ORDER BY ?o LIMIT 1")[0]
    for name in (preferred, other):
        assert iri in found(client, name, kind="organisation")
        body = client.get("/search.json?" + urllib.parse.urlencode(
            {"q": name, "kind": "organisation"})).get_json()
        assert all(hit["kind"] == "organisation" for hit in body["results"])


def test_a_practice_is_found_by_the_name_of_its_organisation(client, store):
    iri, name = rows(store, "SELECT ?p ?name WHERE { ?p a pb:Practice ; pb:organisation ?o . "
                            "?o skos:prefLabel ?name } ORDER BY ?p LIMIT 1")[0]
    assert iri in found(client, name)


def test_the_json_answer_has_its_shape_and_cors(client):
    answer = client.get("/search.json?q=quokka")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    assert set(body) == {"query", "total", "results"} and body["query"] == "quokka"
    assert body["total"] == 2
    for hit in body["results"]:
        assert set(hit) == {"iri", "kind", "title", "snippet", "score"}
        assert hit["kind"] in ("practice", "organisation")
        assert isinstance(hit["score"], float)
    titles = {hit["iri"]: hit["title"] for hit in body["results"]}
    assert titles[TITLED] == "Quokka patrols"
    negotiated = client.get("/search?q=quokka", headers={"Accept": "application/json"})
    assert negotiated.get_json() == body
    assert negotiated.headers["Access-Control-Allow-Origin"] == "*"


def test_the_page_links_titles_marks_words_and_has_a_labelled_form(client):
    page = client.get("/search?q=lanterns")
    assert page.status_code == 200 and page.mimetype == "text/html"
    text = page.data.decode()
    assert '<label for="search-q">' in text and 'id="search-q" name="q"' in text
    assert 'action="/search"' in text and 'href="/search.json?q=lanterns"' in text
    assert 'href="http://localhost/id/practice/evening-lanterns">Evening lanterns</a>' in text
    assert "<mark>Lanterns</mark> along the path" in text
    assert "1 result for" in text


def test_titles_and_summaries_come_back_as_written(client):
    for q in ("wryneck", "cafe", "CAFÉ", "quoted slash"):
        hits = client.get("/search.json?" + urllib.parse.urlencode({"q": q})).get_json()["results"]
        assert [(h["iri"], h["title"], h["snippet"]) for h in hits] == [
            (ODD, ODD_TITLE, "Line one.\nLine two.")], q


def test_an_empty_search_is_the_form_alone(client):
    page = client.get("/search")
    assert page.status_code == 200
    assert 'name="q"' in page.data.decode() and "result" not in page.data.decode().lower()


def test_a_title_with_script_is_escaped(client):
    page = client.get("/search?q=nightjar").data.decode()
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Nightjar watch" in page
    assert "<script>" not in page


def test_pages_follow_on(client, store):
    total = client.get("/search.json?q=police").get_json()["total"]
    assert total > 20, "the demo data names police in more than a page of results"
    first = client.get("/search.json?q=police").get_json()["results"]
    second = client.get("/search.json?q=police&page=2").get_json()["results"]
    assert len(first) == 20 and not {h["iri"] for h in first} & {h["iri"] for h in second}
    html = client.get("/search?q=police").data.decode()
    assert 'href="/search?q=police&amp;page=2" rel="next"' in html
    assert client.get("/search.json?q=police&page=500").get_json()["results"] == []


@pytest.mark.parametrize("query", [
    {"q": "x" * 201}, {"q": "burglary", "page": "0"}, {"q": "burglary", "page": "501"},
    {"q": "burglary", "page": "two"}, {"q": "burglary", "kind": "person"}, {"q": "***"},
    {"q": '"'}, {"q": " ".join(["word"] * 13)}, {"q": "burglary k*"},
])
def test_bad_input_is_a_400_with_a_sentence(client, query):
    for path in ("/search", "/search.json"):
        answer = client.get(path + "?" + urllib.parse.urlencode(query))
        assert answer.status_code == 400
        body = answer.get_json()
        assert body["error"] == "bad_request" and body["message"].endswith(".")


def test_a_commit_makes_a_new_practice_findable(demo_store):
    store = PracticeStore()
    store.ox.extend(demo_store.ox)
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()
    assert client.get("/search.json?q=ptarmigan").get_json()["total"] == 0
    new = PRACTICE + "ptarmigan-counts"
    update = (f"INSERT DATA {{ GRAPH <https://w3id.org/practicebank/graph/curation> {{ "
              f"<{new}> a <{PB}Practice> ; <{DCTERMS}title> \"Ptarmigan counts\"@en ; "
              "<http://www.w3.org/ns/prov#wasDerivedFrom> "
              "<https://www.college.police.uk/support-forces/practices> . } }")
    answer = client.post("/update", data=update.encode(),
                         content_type="application/sparql-update",
                         headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code in (200, 204), answer.data
    assert [hit["iri"] for hit in client.get("/search.json?q=ptarmigans").get_json()["results"]
            ] == [new]


# -- the API for the faceted browser, and pbf:matches -----------------------------------------


def sparql_ids(client, q: str) -> set[str]:
    query = sparql_prefixes() + "SELECT ?p WHERE " + text_index.sparql_restriction(q)
    answer = client.get("/sparql?" + urllib.parse.urlencode({"query": query}),
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.data
    return {row["p"]["value"] for row in answer.get_json()["results"]["bindings"]}


def test_sparql_gives_exactly_the_practices_the_index_gives(app, client, store):
    counts = word_counts(store)
    word = min((w for w in counts if len(counts[w]) > 1), key=lambda w: (len(counts[w]), w))
    name = rows(store, "SELECT ?name WHERE { ?p a pb:Practice ; pb:organisation ?o . "
                       "?o skos:prefLabel ?name } ORDER BY ?name LIMIT 1")[0][0]
    queries = [word, "police force", "burglaries", "burglary", "knif*", name, "quokka",
               'nightjar "watch"', "NEAR(police"]
    with app.test_request_context():
        expected = {q: text_index.practice_ids(q) for q in queries}
    assert all(expected[q] for q in ("burglaries", "knif*", name, "quokka"))
    for q in queries:
        assert sparql_ids(client, q) == expected[q], q
    # ... and the HTTP search of practices agrees with both.
    assert set(found(client, "burglaries")) == expected["burglaries"]


def test_practice_ids_refuses_an_unusable_query(app):
    with app.test_request_context():
        for q in ("", "***", "x" * 201):
            with pytest.raises(ValueError):
                text_index.practice_ids(q)
        with pytest.raises(ValueError):
            text_index.sparql_restriction("quokka", var="p } ?x")


def test_sparql_restriction_keeps_hostile_text_in_its_strings(app, client):
    hostile = 'quokka" ) } DROP ALL # <x>'
    with app.test_request_context():
        pattern = text_index.sparql_restriction(hostile, var="practice")
        expected = text_index.practice_ids(hostile)
    assert "DROP" not in pattern and "<x>" not in pattern
    assert sparql_ids(client, hostile) == expected == set()
    assert sparql_ids(client, "quokka patrols") == {TITLED}


def test_pbf_matches_on_its_own(client):
    query = ('PREFIX pbf: <https://w3id.org/practicebank/def/function#>\n'
             'SELECT ?a ?b ?c ?d WHERE { BIND(pbf:matches("Burglaries in Leeds", "burglary") AS ?a)'
             ' BIND(pbf:matches("Burglaries in Leeds", "leeds theft") AS ?b)'
             ' BIND(pbf:matches("Burglaries in Leeds", "burgl*") AS ?c)'
             ' BIND(pbf:matches("Burglaries", "***") AS ?d) }')
    answer = client.get("/sparql?" + urllib.parse.urlencode({"query": query}),
                        headers={"Accept": "application/sparql-results+json"})
    row = answer.get_json()["results"]["bindings"][0]
    assert row["a"]["value"] == "true" and row["b"]["value"] == "false"
    assert row["c"]["value"] == "true" and "d" not in row


def test_the_query_editor_offers_the_pbf_prefix_of_the_function(client):
    """The editor inserts PREFIX lines from the page's prefix table: pbf: must be there, and
    name the namespace the endpoint's pbf:matches lives in."""
    page = client.get("/query").get_data(as_text=True)
    table = json.loads(html.unescape(re.search(r'data-prefixes="([^"]*)"', page).group(1)))
    assert table["pbf"] + "matches" == MATCHES_FUNCTION
    query = (f"PREFIX pbf: <{table['pbf']}>\n"
             'ASK { FILTER(pbf:matches("Burglaries in Leeds", "burglary")) }')
    answer = client.get("/sparql?" + urllib.parse.urlencode({"query": query}),
                        headers={"Accept": "application/sparql-results+json"})
    assert answer.get_json()["boolean"] is True


def test_the_analysis():
    assert terms("Burglaries, BURGLARY; café") == ["burglari", "burglari", "cafe"]
    assert matches("Knife crime in Leeds", parse_query("knife leed*"))
    assert matches("Organisations", parse_query("organisatio*"))
    assert not matches("Knife crime", parse_query("knife theft"))
    assert parse_query("knife cri", last_is_prefix=True)[-1].starts == ("cri",)
    assert parse_query("knife cri ", last_is_prefix=True)[-1].exact == "cri"
    assert parse_query("knife c", last_is_prefix=True)[-1].exact == "c"
