"""Search text cannot reach the full-text engine's own syntax, nor crash a worker.

/search hands words to SQLite FTS5, whose query language has phrases, ``NEAR(…)``, column
filters (``title:``), ``^``, ``+``, boolean operators and prefix stars; a text that reached
it raw would be a syntax error (a 500) or a filter the user did not mean. Here every such
text, and random text (a property test), is a 200 or a short 400 from a real server, on
/search, /search.json and /complete, and ``pbf:matches`` with hostile query texts answers in
the server's worker processes without taking them down.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from endpoint_live import LiveServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from practicebank.store import PracticeStore

PRACTICE = "https://w3id.org/practicebank/id/practice/knife-arches"
ATTACKS = [
    '"', '""', '"knife', 'knife"', "NEAR(", "NEAR(knife arches, 2)", "knife NEAR arches",
    "title:knife", "summary:arches", "{title summary}:knife", "- title : knife", "^knife",
    "+knife", "*", "**", "knife*", "knife**", "*knife", "k*", "kn*", "knife AND", "OR knife",
    "NOT", "AND OR NOT", "(knife", "knife)", "knife'; DROP TABLE docs; --", "\\", "\x00knife",
    "knife\x00arches", "🔪 arches", "ｋｎｉｆｅ", "knife\narches", "%", "_", "rowid:1",
    "docs MATCH 'x'", "x" * 200, "x" * 201, "knife " * 40, "a " * 100,
]
SEARCH_PATHS = ("/search", "/search.json", "/complete")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("search")
    PracticeStore(tmp / "store").close()
    with LiveServer(tmp / "store", tmp) as live:
        status, _, body = live.update(
            "INSERT DATA { GRAPH <https://w3id.org/practicebank/graph/curation> { "
            f"<{PRACTICE}> a <https://w3id.org/practicebank/def/Practice> ; "
            '<http://purl.org/dc/terms/title> "Knife arches"@en ; '
            "<http://www.w3.org/ns/prov#wasDerivedFrom> "
            "<https://www.college.police.uk/support-forces/practices> . } }")
        assert status in (200, 204), body
        yield live


def get(server, path: str, q: str) -> tuple[int, dict, bytes]:
    return server.request("GET", f"{server.base}{path}?" + urllib.parse.urlencode({"q": q}))


def assert_answered(status: int, headers, body: bytes) -> None:
    assert status in (200, 400), body[:300]
    if status == 400:
        error = json.loads(body)
        assert error["error"] == "bad_request" and len(error["message"]) < 400
        assert "fts5" not in error["message"].lower() and "sqlite" not in error["message"]


@pytest.mark.parametrize("text", ATTACKS)
def test_fts_syntax_never_reaches_the_engine(server, text):
    for path in SEARCH_PATHS:
        assert_answered(*get(server, path, text))


def test_operators_and_columns_are_words_not_syntax(server):
    for text in ("knife arches", '"knife" (arches)', "+knife ^arches", "knife-arches*"):
        status, _, body = get(server, "/search.json", text)
        assert status == 200 and [h["iri"] for h in json.loads(body)["results"]] == [PRACTICE]
    # "title", "near" and "or" are words like any other, so they are required too.
    for text in ("title:knife", "NEAR(knife arches)", "knife OR spoon"):
        status, _, body = get(server, "/search.json", text)
        assert status == 200 and json.loads(body)["total"] == 0


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=220))
def test_any_text_is_a_200_or_a_400(server, text):
    for path in SEARCH_PATHS:
        assert_answered(*get(server, path, text))


@pytest.mark.parametrize("text", ['"', "NEAR(", "title:knife", "x" * 5000, "***", "knife*"])
def test_pbf_matches_in_the_workers_with_hostile_texts(server, text):
    literal = json.dumps(text)  # a JSON string is a valid SPARQL string literal here
    query = ("PREFIX pbf: <https://w3id.org/practicebank/def/function#>\n"
             "SELECT ?p ?hit WHERE { ?p a <https://w3id.org/practicebank/def/Practice> ; "
             "<http://purl.org/dc/terms/title> ?t "
             f"BIND(pbf:matches(?t, {literal}) AS ?hit) }}")
    status, _, body = server.query(query)
    assert status == 200, body
    rows = json.loads(body)["results"]["bindings"]
    assert [row["p"]["value"] for row in rows] == [PRACTICE]
    # No words, or too long: an evaluation error, so ?hit is unbound (the row stays).
    expected = {"title:knife": "false", "NEAR(": "false", "knife*": "true"}.get(text)
    assert rows[0].get("hit", {}).get("value") == expected
    status, _, _ = server.request("GET", f"{server.base}/health")
    assert status == 200
