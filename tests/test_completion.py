"""Autocompletion at /complete: classes, properties and concepts by label, then by meaning.

Expected terms are read from the demo store with SPARQL (labels, definitions, schemes), so
the tests follow the ontology as it changes.
"""

from __future__ import annotations

import urllib.parse

import pytest

from practicebank.endpoint import create_app
from practicebank.namespaces import PREFIXES, sparql_prefixes

PB = PREFIXES["pb"]


@pytest.fixture(scope="module")
def client(demo_store):
    return create_app({"TESTING": True, "STORE": demo_store}).test_client()


def rows(store, query: str) -> list[list[str]]:
    found = store.ox.query(sparql_prefixes() + query, use_default_graph_as_union=True)
    return [[term.value for term in row] for row in found]


def complete(client, q: str, **args) -> list[dict]:
    answer = client.get("/complete?" + urllib.parse.urlencode({"q": q, **args}))
    assert answer.status_code == 200, answer.data
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    body = answer.get_json()
    assert body["query"] == q
    return body["results"]


def test_promis_offers_the_rating_promising_and_the_rating_property(client, demo_store):
    promising = {iri for (iri,) in rows(demo_store, 'SELECT ?c WHERE { ?c a skos:Concept ; '
                                                    'skos:prefLabel "Promising"@en }')}
    assert promising
    results = complete(client, "promis")
    iris = [r["iri"] for r in results]
    assert promising <= set(iris)
    assert PB + "rating" in iris and PB + "ratingValue" in iris
    # The label matches come first; the path to them after.
    assert max(iris.index(c) for c in promising) < iris.index(PB + "rating")
    rating = results[iris.index(PB + "rating")]
    assert rating["kind"] == "property" and rating["prefixed"] == "pb:rating"
    definition = rows(demo_store, "SELECT ?d WHERE { pb:rating skos:definition ?d }")[0][0]
    assert rating["note"] == definition


def test_a_concept_names_its_scheme(client, demo_store):
    iri, scheme = rows(demo_store, 'SELECT ?c ?name WHERE { ?c skos:prefLabel "Promising"@en ; '
                                   'skos:inScheme/skos:prefLabel ?name } ORDER BY ?c LIMIT 1')[0]
    found = {r["iri"]: r for r in complete(client, "Promising", kind="concept")}
    assert found[iri]["kind"] == "concept" and scheme in found[iri]["note"]
    assert found[iri]["label"] == "Promising"


def test_matching_ignores_case_and_needs_the_start_of_a_word(client):
    assert complete(client, "PROMIS") == complete(client, "promis")
    assert PB + "rating" not in [r["iri"] for r in complete(client, "ating")]


def test_label_matches_come_first_and_shorter_first(client, demo_store):
    labels = rows(demo_store, "SELECT ?l WHERE { ?p a owl:ObjectProperty ; rdfs:label ?l }")
    results = complete(client, "rating", kind="property", limit=50)
    starting = [r["label"].lower() for r in results if r["label"].lower().startswith("rating")]
    expected = sorted({label.lower() for (label,) in labels if label.lower().startswith("rating")},
                      key=lambda label: (len(label), label))
    assert starting[:len(expected)] == expected
    assert [r["label"].lower() for r in results[:len(expected)]] == expected


def test_two_words_complete_a_label(client):
    assert complete(client, "rating v")[0]["iri"] == PB + "ratingValue"


@pytest.mark.parametrize("kind", ["class", "property", "concept"])
def test_kind_keeps_one_kind(client, kind):
    results = complete(client, "r", kind=kind, limit=50)
    assert results and {r["kind"] for r in results} == {kind}


def test_a_class_by_its_label_with_its_definition(client, demo_store):
    label, definition = rows(demo_store, "SELECT ?l ?d WHERE { pb:RatingAssessment rdfs:label ?l ;"
                                         " skos:definition ?d }")[0]
    first = complete(client, label, kind="class")[0]
    assert first == {"iri": PB + "RatingAssessment", "label": label, "kind": "class",
                     "prefixed": "pb:RatingAssessment", "note": definition}


def test_prefixed_names_are_valid_sparql_terms(client):
    for result in complete(client, "p", limit=50) + complete(client, "w", limit=50):
        written = result["prefixed"]
        if written.startswith("<"):
            assert written == f"<{result['iri']}>"
        else:
            prefix, local = written.split(":", 1)
            assert PREFIXES[prefix] + local == result["iri"] and "/" not in local


def test_limit_and_an_empty_text(client):
    assert len(complete(client, "r", limit=3)) == 3
    assert len(complete(client, "r")) == 10
    assert complete(client, "") == []


@pytest.mark.parametrize("args", [{"q": "x" * 201}, {"q": "r", "limit": "0"},
                                  {"q": "r", "limit": "51"}, {"q": "r", "limit": "ten"},
                                  {"q": "r", "kind": "thing"}])
def test_bad_input_is_a_400(client, args):
    answer = client.get("/complete?" + urllib.parse.urlencode(args))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
