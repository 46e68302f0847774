"""Load history (practicebank/history.py): each load's changeset, and the two library
queries that read it (endpoint/queries/20 and 21), on a real store through the real load
pipeline, against the contents of each version of the file worked out here."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest

from practicebank.exporting import export_store
from practicebank.history import CS
from practicebank.loaders.load import load_file, restore
from practicebank.problems import ValidationFailed
from practicebank.store import PracticeStore

ROOT = Path(__file__).resolve().parents[1]
QUERIES = ROOT / "endpoint" / "queries"
GRAPH = "https://w3id.org/practicebank/graph/"
PB = "https://w3id.org/practicebank/def/"
ID = "https://w3id.org/practicebank/id/"
DOW = "https://w3id.org/practicebank/concept/does-it-work/"

#: Three versions of one file: ratings change, a title comes back after being removed.
VERSIONS = [
    {("a", "ratingValue", "promising"), ("a", "title", "A"), ("b", "ratingValue", "promising"),
     ("b", "title", "B")},
    {("a", "ratingValue", "worked"), ("b", "ratingValue", "promising"), ("b", "title", "B2")},
    {("a", "ratingValue", "worked"), ("a", "title", "A"), ("b", "ratingValue", "didnt-work"),
     ("b", "title", "B2")},
]


def triple(fact: tuple[str, str, str]) -> ox.Triple:
    subject, prop, value = fact
    node = ox.NamedNode(f"{ID}assessment/{subject}")
    if prop == "ratingValue":
        return ox.Triple(node, ox.NamedNode(PB + "ratingValue"), ox.NamedNode(DOW + value))
    return ox.Triple(node, ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal(value))


def as_of(store: PracticeStore, graph: str, moment: datetime) -> set[ox.Triple]:
    text = (QUERIES / "20-graph-as-on-a-date.rq").read_text(encoding="utf-8")
    text = re.sub(r"\(<[^>]+> \"[^\"]+\"\^\^xsd:dateTime\)",
                  f'(<{graph}> "{moment.isoformat()}"^^xsd:dateTime)', text)
    return {ox.Triple(r["s"], r["p"], r["o"]) for r in store.query(text)}


def changed_since(store: PracticeStore, moment: datetime) -> list[tuple[str, str, str]]:
    text = (QUERIES / "21-ratings-changed-since.rq").read_text(encoding="utf-8")
    text = re.sub(r'VALUES \?since \{ "[^"]+"', f'VALUES ?since {{ "{moment.isoformat()}"',
                  text)
    return [(r["assessment"].value.rsplit("/", 1)[-1], r["was"].value, r["now"].value)
            for r in store.query(text)]


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[PracticeStore, list[datetime]]:
    """The three versions loaded one after the other; the moment before each load and the
    moment after the last."""
    store = PracticeStore(tmp_path / "store")
    store.ox.load(b"""@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
        <%(dow)spromising> skos:prefLabel "Promising"@en .
        <%(dow)sworked> skos:prefLabel "Worked"@en .
        <%(dow)sdidnt-work> skos:prefLabel "Didn't work"@en .""" % {b"dow": DOW.encode()},
        format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(GRAPH + "labels"))
    moments = []
    path = tmp_path / "history.nt"
    for version in VERSIONS:
        path.write_bytes(ox.serialize([triple(f) for f in version],
                                      format=ox.RdfFormat.N_TRIPLES))
        moments.append(datetime.now(UTC))
        time.sleep(0.01)
        load_file(store, path, graph="history", validate=False)
        time.sleep(0.01)
    moments.append(datetime.now(UTC))
    yield store, moments
    store.close()


def test_the_graph_as_it_was_at_each_moment(loaded) -> None:
    store, moments = loaded
    graph = GRAPH + "history"
    assert as_of(store, graph, moments[0]) == set()  # before the first load
    for k, version in enumerate(VERSIONS):
        assert as_of(store, graph, moments[k + 1]) == {triple(f) for f in version}, k


def test_each_load_keeps_its_changeset(loaded) -> None:
    store, _ = loaded
    rows = list(store.query(
        "SELECT ?c ?empty (COUNT(DISTINCT ?a) AS ?added) (COUNT(DISTINCT ?r) AS ?removed) "
        f"WHERE {{ "
        f"GRAPH <{GRAPH}provenance> {{ ?c a <{CS}ChangeSet> ; <{CS}createdDate> ?t "
        f"OPTIONAL {{ ?c <{PB}fromEmptyGraph> ?empty }} "
        f"OPTIONAL {{ ?c <{CS}addition> ?a }} OPTIONAL {{ ?c <{CS}removal> ?r }} }} }} "
        "GROUP BY ?c ?empty ?t ORDER BY ?t"))
    first, second, third = rows
    assert first["empty"].value == "true" and first["added"].value == "0"
    # v1 -> v2: a's rating and title, b's title removed; a's rating and b's new title added
    assert {int(second["added"].value), int(second["removed"].value)} == {2, 3}
    assert int(third["added"].value) == 2 and int(third["removed"].value) == 1


def test_ratings_changed_since(loaded) -> None:
    store, moments = loaded
    assert changed_since(store, moments[0]) == [("a", "Promising", "Worked"),
                                                ("b", "Promising", "Didn't work")]
    assert changed_since(store, moments[2]) == [("b", "Promising", "Didn't work")]
    assert changed_since(store, moments[3]) == []


def test_history_survives_export_and_restore(loaded, tmp_path: Path) -> None:
    """``practicebank export`` then ``practicebank restore`` into an empty store: the graph
    and every changeset come back, so the history queries answer as before."""
    store, moments = loaded
    dump = tmp_path / "everything.nq"
    with dump.open("wb") as out:
        export_store(store, out, format="nq")
    with PracticeStore(tmp_path / "restored") as fresh:
        results = restore(fresh, dump, validate=False)
        assert {r.graph for r in results} == {"history", "labels"}
        for moment in moments:
            assert as_of(fresh, GRAPH + "history", moment) == as_of(
                store, GRAPH + "history", moment)
        assert changed_since(fresh, moments[0]) == changed_since(store, moments[0])
        with pytest.raises(ValueError, match="already holds"):
            restore(fresh, dump, validate=False)


def test_a_restore_that_fails_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    """A graph the shapes refuse stops the restore; graphs restored before it go again."""
    dump = tmp_path / "bad.nq"
    practice = f"<{ID}practice/untitled>"
    dump.write_text(
        f'<urn:x:a> <urn:x:p> "kept?" <{GRAPH}aaa-first> .\n'
        f"{practice} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{PB}Practice> "
        f"<{GRAPH}zzz-invalid> .\n", encoding="utf-8")
    with PracticeStore(tmp_path / "store") as store:
        before = sorted(str(q) for q in store.ox)
        with pytest.raises(ValidationFailed):
            restore(store, dump)
        assert sorted(str(q) for q in store.ox) == before
    foreign = tmp_path / "foreign.nq"
    foreign.write_text('<urn:x:a> <urn:x:p> "x" <http://example.org/g> .\n', encoding="utf-8")
    with PracticeStore(tmp_path / "other") as store, pytest.raises(ValidationFailed) as caught:
        restore(store, foreign)
    assert "not a practicebank graph" in caught.value.problems[0].message
