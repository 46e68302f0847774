"""The Store contract on three stores: the embedded Oxigraph store, and RemoteStore on
``oxigraph serve`` and on Virtuoso 7 (tests/backends.py starts both on loopback).

The contract tests run the same steps on each store and expect the same answers; the
engine tests pin down what the remote engines actually do (atomicity of an update request,
row limits, literals, system graphs), because RemoteStore's design rests on those facts
(see practicebank/remote_store.py). The client tests cover deadlines and authentication
against real servers and small stand-ins. Virtuoso is started once per session (conftest.py);
when it is not installed these tests fail, naming the package to install.
"""

from __future__ import annotations

import base64
import http.server
import logging
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from backends import Backend, BackendUnavailable, clear, start_oxigraph, start_virtuoso

from practicebank import remote_fill
from practicebank.backend import Store
from practicebank.journal import ChangeSet
from practicebank.loaders.load import load_file
from practicebank.problems import ValidationFailed
from practicebank.provenance import LoadRecord, shapes_iri
from practicebank.remote_store import (
    RemoteStore,
    _writer,
    query_form,
    staging_writer_ended,
)
from practicebank.sparql_client import (
    DEADLOCK,
    AuthenticationError,
    RemoteError,
    RemoteTimeout,
    ResultsTruncated,
    SparqlClient,
    digest_authorization,
    parse_challenges,
)
from practicebank.store import PracticeStore, graph_node
from practicebank.store_reads import STAGING_PREFIX

PB = "https://w3id.org/practicebank/def/"
ID = "https://w3id.org/practicebank/id/"
CONCEPT = "https://w3id.org/practicebank/concept/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
SKOS = "http://www.w3.org/2004/02/skos/core#"
SECRET = "not-the-password-Zq7"


# -- stores (the servers are conftest.py's session fixtures) ------------------------------------

def _remote(request: pytest.FixtureRequest, name: str, **options) -> Iterator[RemoteStore]:
    backend: Backend = request.getfixturevalue(f"{name}_backend")
    store = backend.store(**options)
    clear(store)
    yield store
    clear(store)
    store.close()


@pytest.fixture(params=["embedded", "oxigraph", "virtuoso"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """An empty store of each kind (the remote servers are emptied of our graphs)."""
    if request.param == "embedded":
        embedded = PracticeStore(tmp_path / "store")
        yield embedded
        embedded.close()
    else:
        yield from _remote(request, request.param)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote(request: pytest.FixtureRequest) -> Iterator[RemoteStore]:
    yield from _remote(request, request.param)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote_without_graph_store(request: pytest.FixtureRequest) -> Iterator[RemoteStore]:
    """A RemoteStore given no Graph Store URL, staging every change (inline_limit=0)."""
    yield from _remote(request, request.param, store_url=None, inline_limit=0)


# -- data ---------------------------------------------------------------------------------------

def iri(text: str) -> ox.NamedNode:
    return ox.NamedNode(text)


def nt(triples: list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)


def parse_nt(data: bytes) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def numbered(stem: str, n: int) -> bytes:
    """``n`` triples ``<id/thing/{stem}{i}> pb:n i`` as N-Triples."""
    return "".join(f'<{ID}thing/{stem}{i}> <{PB}n> "{i}"^^<{XSD}integer> .\n'
                   for i in range(n)).encode()


def sample() -> list[ox.Triple]:
    """A small graph of practices, organisations, a force and concepts, with literals in
    the forms every engine keeps as written."""
    p1, p2 = iri(ID + "practice/hot-spot-policing"), iri(ID + "practice/street-lighting")
    org, force = iri(ID + "organisation/college-of-policing"), iri(ID + "force/avon")
    scheme = iri(CONCEPT + "rating")
    concepts = [iri(CONCEPT + f"rating/{n}") for n in ("effective", "promising", "unknown")]
    label, title = iri("http://www.w3.org/2000/01/rdf-schema#label"), iri(PB + "title")
    triples = [
        ox.Triple(p1, RDF_TYPE, iri(PB + "Practice")),
        ox.Triple(p2, RDF_TYPE, iri(PB + "Practice")),
        ox.Triple(p1, label, ox.Literal("Hot spot policing", language="en-gb")),
        ox.Triple(p1, title, ox.Literal("Policing small areas where crime concentrates")),
        ox.Triple(p2, label, ox.Literal("Goleuadau stryd", language="cy")),
        ox.Triple(p1, iri(PB + "rating"), concepts[0]),
        ox.Triple(p2, iri(PB + "rating"), concepts[1]),
        ox.Triple(p1, iri(PB + "published"),
                  ox.Literal("2024-03-01T09:30:00Z", datatype=iri(XSD + "dateTime"))),
        ox.Triple(p1, iri(PB + "studies"), ox.Literal("42", datatype=iri(XSD + "integer"))),
        ox.Triple(p1, iri(PB + "deliveredBy"), org),
        ox.Triple(org, RDF_TYPE, iri(PB + "Organisation")),
        ox.Triple(force, RDF_TYPE, iri(PB + "Organisation")),
        ox.Triple(force, RDF_TYPE, iri(PB + "PoliceForce")),
        ox.Triple(scheme, RDF_TYPE, iri(SKOS + "ConceptScheme")),
    ]
    triples += [ox.Triple(c, RDF_TYPE, iri(SKOS + "Concept")) for c in concepts]
    return triples


def prov(name: str, *, digest: str = "ab" * 32, added: int = 0,
         ended: str | None = None) -> tuple[str, str]:
    """The provenance a load writes (practicebank.provenance.LoadRecord), and its activity;
    ``ended`` replaces its end time (two loads within one second would tie)."""
    record = LoadRecord(graph=name, filename=f"{name}.csv", digest=digest, reader="csv",
                        started=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
                        source_url="https://example.org/practices.csv")
    text = record.ntriples(added=added, removed=0)
    if ended is not None:
        text = re.sub(r'(endedAtTime> )"[^"]*"', rf'\1"{ended}"', text)
    return text, record.activity


def staging_graphs(store: Store) -> list[str]:
    if isinstance(store, PracticeStore):
        return [g.value for g in store.ox.named_graphs()
                if g.value.startswith(STAGING_PREFIX)]
    pattern = "{ }" if store.engine.empty_graphs else "{ ?s ?p ?o }"
    rows = store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {pattern} "
                       f'FILTER STRSTARTS(STR(?g), "{STAGING_PREFIX}") }}')
    return [row["g"].value for row in rows]


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def empty_graphs_exist(store: Store) -> bool:
    return isinstance(store, PracticeStore) or store.engine.empty_graphs


# -- the contract -------------------------------------------------------------------------------

def test_every_store_keeps_the_protocol(store: Store) -> None:
    assert isinstance(store, Store)
    assert store.kind in ("embedded", "sparql")


def test_a_change_reads_back_the_same_everywhere(store: Store) -> None:
    triples = sample()
    record, activity = prov("sample", added=len(triples))
    store.apply_change("sample", added=nt(triples), provenance=record)
    forces = [ox.Triple(iri(ID + "force/avon"), RDF_TYPE, iri(PB + "PoliceForce"))]
    store.apply_change("forces", added=nt(forces))

    assert store.graph_size("sample") == len(triples)
    assert store.has_graph("sample") and not store.has_graph("nothing")
    assert store.graph_names() == ["forces", "provenance", "sample"]
    assert {g.value for g in store.named_graphs()} == {
        graph_node(n).value for n in ("forces", "provenance", "sample")}
    assert store.contains_named_graph(graph_node("sample"))
    assert not store.contains_named_graph(graph_node("nothing"))
    quads = list(store.quads_of(graph_node("sample")))
    assert {q.triple for q in quads} == set(triples)
    assert {q.graph_name for q in quads} == {graph_node("sample")}

    load = store.last_load("sample")
    assert load is not None and load["load"] == activity
    assert load["sha"] == "ab" * 32 and load["shapes"] == shapes_iri()
    assert abs((when(load["end"]) - datetime.now(UTC)).total_seconds()) < 120
    assert store.last_load("forces") is None

    practice, force = ID + "practice/hot-spot-policing", ID + "force/avon"
    found = set(store.types_of([practice, force, ID + "nothing"]))
    assert found == {(practice, PB + "Practice"), (force, PB + "Organisation"),
                     (force, PB + "PoliceForce")}
    assert set(store.types_of([practice, force], excluding="sample")) == {
        (force, PB + "PoliceForce")}

    provenance_size = store.graph_size("provenance")
    assert store.stats() == {
        "practices": 2, "organisations": 2, "forces": 1, "concept_schemes": 1,
        "concepts": 3, "graphs": 3, "triples": len(triples) + 1 + provenance_size}
    assert store.count("?p a pb:Practice") == 2


def test_read_view_and_stage(store: Store) -> None:
    """What the endpoint's writes and the load pipeline read through: the same answers."""
    store.apply_change("sample", added=nt(sample()))
    view = store.view()
    practice = iri(ID + "practice/hot-spot-policing")
    found = {q.triple for q in view.quads_for_pattern(practice, None, None, graph_node("sample"))}
    assert found == {t for t in sample() if t.subject == practice}
    assert ox.Quad(practice, RDF_TYPE, iri(PB + "Practice"), graph_node("sample")) in view
    assert graph_node("sample") in set(view.named_graphs())
    with store.stage("sample", activity=ID + "load/x", in_place=False) as stage:
        stage.add(nt(sample()[:5]), ox.RdfFormat.N_TRIPLES)
        stage.settle(file="sample.nt", drop_personal=False, blank_nodes=True)
        assert (stage.added, stage.removed) == (0, len(sample()) - 5)


def test_dump_round_trips(store: Store, tmp_path: Path) -> None:
    triples = sample()
    store.apply_change("sample", added=nt(triples), provenance=prov("sample")[0])
    assert parse_nt(store.dump(format=ox.RdfFormat.N_TRIPLES, graph="sample")) == set(triples)
    turtle = store.dump(format=ox.RdfFormat.TURTLE, graph="sample")
    assert {q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)} == set(triples)

    path = tmp_path / "all.nq"
    assert store.dump(str(path), format=ox.RdfFormat.N_QUADS) is None
    dumped = set(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    expected = {q for name in ("sample", "provenance") for q in store.quads_of(graph_node(name))}
    assert dumped == expected
    assert {q.graph_name.value for q in dumped} == {graph_node("sample").value,
                                                    graph_node("provenance").value}
    with pytest.raises(ValueError):
        store.dump(format=ox.RdfFormat.N_TRIPLES)


def test_removing_blank_nodes_by_pattern(remote: RemoteStore) -> None:
    """A removed triple with blank nodes goes by pattern on a remote (the embedded store's
    apply_change refuses blank nodes in ``removed``: its DELETE DATA cannot hold them;
    commit_changes removes them on every store, see test_commit_changes)."""
    store = remote
    data = nt(sample())
    data += (b'_:a <%sstep> "one" .\n_:a <%snext> _:b .\n_:b <%sstep> "two" .\n'
             % (PB.encode(), PB.encode(), PB.encode()))
    store.apply_change("sample", added=data)
    assert store.graph_size("sample") == len(sample()) + 3
    # the blank nodes as the store names them, as a write through the endpoint reads them
    blank = [q.triple for q in store.quads_of(graph_node("sample"))
             if isinstance(q.subject, ox.BlankNode)]
    assert len(blank) == 3
    gone = sample()[2]
    store.apply_change("sample", removed=nt([gone, *blank]))
    left = {q.triple for q in store.quads_of(graph_node("sample"))}
    assert left == set(sample()) - {gone}


def test_big_change_is_all_or_nothing(store: Store) -> None:
    """200k triples (24 MB: the staging path on a remote); a change the server refuses
    leaves the graph as it was and no staging graph behind; the same change then goes in."""
    base = sample()
    store.apply_change("big", added=nt(base),
                       provenance=prov("big", ended="2024-05-01T12:00:01Z")[0])
    before_provenance = store.graph_size("provenance")
    added = "".join(f'<{ID}thing/t{i}> <{PB}label> "Thing number {i} é"@en .\n'
                    for i in range(200_000)).encode()
    record, activity = prov("big", added=200_000)
    bad = record + '<urn:not an iri> <urn:p> "refused" .\n'
    with pytest.raises((SyntaxError, RemoteError)):
        store.apply_change("big", added=added, removed=nt(base[:1]), provenance=bad)
    assert store.graph_size("big") == len(base)
    assert {q.triple for q in store.quads_of(graph_node("big"))} == set(base)
    assert store.graph_size("provenance") == before_provenance
    assert staging_graphs(store) == []

    store.apply_change("big", added=added, removed=nt(base[:1]), provenance=record)
    assert store.graph_size("big") == len(base) - 1 + 200_000
    assert store.last_load("big")["load"] == activity
    assert staging_graphs(store) == []
    dumped = store.dump(format=ox.RdfFormat.N_TRIPLES, graph="big")
    assert len(parse_nt(dumped)) == len(base) - 1 + 200_000


def test_commit_changes(store: Store) -> None:
    keep, gone, put = graph_node("keep"), graph_node("gone"), graph_node("put")
    fresh, empty = graph_node("fresh"), graph_node("empty")
    s = iri(ID + "thing/s")
    store.apply_change("keep", added=(
        b'<%sthing/s> <%sp> "1" .\n<%sthing/s> <%sp> "2" .\n_:x <%sq> "blank" .\n'
        b'_:x <%sr> _:y .\n' % tuple(x.encode() for x in (ID, PB, ID, PB, PB, PB))))
    store.apply_change("gone", added=b'<%sthing/s> <%sp> "old" .\n' % (ID.encode(),
                                                                     PB.encode()))
    store.apply_change("put", added=b'<%sthing/s> <%sp> "before" .\n' % (ID.encode(),
                                                                       PB.encode()))
    blank = [q for q in store.quads_of(keep) if isinstance(q.subject, ox.BlankNode)]
    change = ChangeSet(
        dropped={gone, put}, created={empty},
        removed=[ox.Quad(s, iri(PB + "p"), ox.Literal("1"), keep), *blank,
                 *store.quads_of(gone)],
        added=[ox.Quad(s, iri(PB + "p"), ox.Literal("3"), keep),
               ox.Quad(ox.BlankNode("n1"), iri(PB + "q"), ox.BlankNode("n2"), keep),
               ox.Quad(s, iri(PB + "p"), ox.Literal("after"), put),
               ox.Quad(s, iri(PB + "p"), ox.Literal("new", language="en"), fresh)])
    store.commit_changes(change)

    left = {q.triple for q in store.quads_of(keep)}
    assert {t for t in left if not isinstance(t.subject, ox.BlankNode)} == {
        ox.Triple(s, iri(PB + "p"), ox.Literal("2")), ox.Triple(s, iri(PB + "p"),
                                                                 ox.Literal("3"))}
    new_blank = [t for t in left if isinstance(t.subject, ox.BlankNode)]
    assert len(new_blank) == 1 and isinstance(new_blank[0].object, ox.BlankNode)
    assert not store.has_graph("gone")
    assert gone not in store.named_graphs()
    assert {q.triple.object for q in store.quads_of(put)} == {ox.Literal("after")}
    assert store.graph_size("fresh") == 1
    assert store.contains_named_graph(empty) == empty_graphs_exist(store)
    assert staging_graphs(store) == []
    store.commit_changes(ChangeSet())  # nothing to do


def test_query_forms(store: Store) -> None:
    store.apply_change("sample", added=nt(sample()))
    solutions = store.query(f"PREFIX pb: <{PB}> SELECT ?p ?label WHERE {{ ?p a pb:Practice ; "
                            "<http://www.w3.org/2000/01/rdf-schema#label> ?label } "
                            "ORDER BY ?p")
    assert [v.value for v in solutions.variables] == ["p", "label"]
    rows = [(row["p"], row["label"]) for row in solutions]
    assert rows == [(iri(ID + "practice/hot-spot-policing"),
                     ox.Literal("Hot spot policing", language="en-gb")),
                    (iri(ID + "practice/street-lighting"),
                     ox.Literal("Goleuadau stryd", language="cy"))]
    again = store.query(f"SELECT ?p WHERE {{ ?p a <{PB}Practice> }}")
    assert b"hot-spot-policing" in again.serialize(format=ox.QueryResultsFormat.JSON)

    assert bool(store.query(f"ASK {{ <{ID}practice/hot-spot-policing> a <{PB}Practice> }}"))
    assert not bool(store.query(f"ASK {{ <{ID}nothing> ?p ?o }}"))

    graph = store.query(f"CONSTRUCT {{ ?p a <{PB}Practice> }} WHERE {{ ?p a <{PB}Practice> }}")
    turtle = graph.serialize(format=ox.RdfFormat.TURTLE)
    assert {q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)} == {
        t for t in sample() if t.object == iri(PB + "Practice")}
    described = list(store.query(f"DESCRIBE <{ID}practice/street-lighting>"))
    assert all(isinstance(t, ox.Triple) for t in described)
    assert ox.Triple(iri(ID + "practice/street-lighting"), RDF_TYPE,
                     iri(PB + "Practice")) in set(described)

    base = store.query("SELECT ?x WHERE { BIND (<thing> AS ?x) }",
                       base_iri="http://example.org/base/")
    assert next(iter(base))["x"] == iri("http://example.org/base/thing")


def test_typed_literals_and_language_tags_round_trip(store: Store) -> None:
    s, p = iri(ID + "thing/literal"), iri(PB + "value")
    long_text = "A long description, é😀 \"quoted\"\\\n\t" + "x" * 200_000
    values = [
        ox.Literal("2024-03-01T09:30:00Z", datatype=iri(XSD + "dateTime")),
        ox.Literal("2024-03-01T09:30:00.125+01:00", datatype=iri(XSD + "dateTime")),
        ox.Literal("2024-03-01", datatype=iri(XSD + "date")),
        ox.Literal("42", datatype=iri(XSD + "integer")),
        ox.Literal("-7", datatype=iri(XSD + "integer")),
        ox.Literal("1.5", datatype=iri(XSD + "decimal")),
        ox.Literal("true", datatype=iri(XSD + "boolean")),
        ox.Literal("5", datatype=iri("urn:example:datatype")),
        ox.Literal("Crime prevention", language="en-gb"),
        ox.Literal("Atal troseddu", language="cy"),
        ox.Literal("plain"),
        ox.Literal("tab\there, newline\nthere, \"quotes\", é 😀"),
        ox.Literal(long_text),
    ]
    store.apply_change("literals", added=nt([ox.Triple(s, p, v) for v in values]))
    found = [row["o"] for row in store.query(f"SELECT ?o WHERE {{ {s} {p} ?o }}")]
    assert sorted(found, key=str) == sorted(values, key=str)
    assert {q.object for q in store.quads_of(graph_node("literals"))} == set(values)
    typed = store.query(f"SELECT ?o WHERE {{ {s} {p} ?o FILTER (isNumeric(?o) && ?o > 40) }}")
    assert [row["o"] for row in typed] == [values[3]]


def test_default_graph_is_the_union(store: Store) -> None:
    a, b = graph_node("a"), graph_node("b")
    store.apply_change("a", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:one> .\n")
    store.apply_change("b", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:two> .\n")

    def objects(**dataset) -> set[str]:
        return {row["o"].value for row in store.query(
            "SELECT ?o WHERE { <urn:ex:s> <urn:ex:p> ?o }", **dataset)}

    assert objects() == {"urn:ex:one", "urn:ex:two"}
    assert objects(default_graph=[a]) == {"urn:ex:one"}
    assert objects(default_graph=[a, b]) == {"urn:ex:one", "urn:ex:two"}
    named = store.query("SELECT ?g WHERE { GRAPH ?g { <urn:ex:s> ?p ?o } }",
                        named_graphs=[b], default_graph=[a])
    assert [row["g"] for row in named] == [b]
    assert store.count("<urn:ex:s> <urn:ex:p> ?o") == 2


# -- remote only: failures, recovery, engine facts ---------------------------------------------

def test_a_refused_final_update_changes_nothing(remote: RemoteStore,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    remote.apply_change("target", added=nt(sample()))
    added = numbered("u", 5_000)
    move = remote._move_operation
    monkeypatch.setattr(remote, "_move_operation", lambda *a: move(*a) + " BROKEN")
    monkeypatch.setattr(remote, "inline_limit", 0)
    with pytest.raises(RemoteError) as caught:
        remote.apply_change("target", added=added, removed=nt(sample()[:3]),
                            provenance=prov("target")[0])
    assert caught.value.status is not None and 400 <= caught.value.status < 600
    assert {q.triple for q in remote.quads_of(graph_node("target"))} == set(sample())
    assert not remote.has_graph("provenance")
    assert staging_graphs(remote) == []


def test_a_kill_before_the_final_update_is_recovered(remote: RemoteStore,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    remote.apply_change("target", added=nt(sample()))
    added = numbered("u", 2_000)

    def killed(*args):
        raise KeyboardInterrupt  # as if the process died after uploading

    monkeypatch.setattr(remote, "_move_operation", killed)
    monkeypatch.setattr(remote, "inline_limit", 0)
    with pytest.raises(KeyboardInterrupt):
        remote.apply_change("target", added=added, removed=nt(sample()[:3]),
                            provenance=prov("target")[0])
    monkeypatch.undo()
    left = staging_graphs(remote)
    assert left and all(g.startswith(STAGING_PREFIX) for g in left)
    assert {q.triple for q in remote.quads_of(graph_node("target"))} == set(sample())
    assert remote.graph_names() == ["target"]  # staging graphs are not ours to show
    assert remote.recover(older_than=3600) is None
    assert staging_graphs(remote) != []  # too young to be anyone's leftover
    assert remote.recover() is None
    assert staging_graphs(remote) == []
    assert {q.triple for q in remote.quads_of(graph_node("target"))} == set(sample())


# -- a load into an empty graph is filled in place, under a journal on the server ---------------

def typed_things(path: Path, n: int, *, title: bool = True) -> Path:
    """N-Triples of ``n`` things (practices without a title when ``title`` is False, which the
    shapes refuse)."""
    lines = []
    for i in range(n):
        s = f"<{ID}practice/filled-{i}>"
        lines.append(f"{s} <{RDF_TYPE.value}> <{PB}Practice> .")
        if title:
            lines.append(f'{s} <http://purl.org/dc/terms/title> "Practice {i}"@en .')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_load_into_an_empty_graph_goes_straight_in(remote: RemoteStore, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """No staging graph and no copy: the data is uploaded into the graph itself in several
    POSTs (small pieces here), and the provenance commits it; the next load of the graph,
    which now holds data, is staged as before."""
    monkeypatch.setattr(remote_fill, "FILL_CHUNK", 4_000)
    monkeypatch.setattr(remote, "_move_operation", lambda *a: pytest.fail("copied"))
    posts = []
    post = remote.client.graph_post
    monkeypatch.setattr(remote.client, "graph_post",
                        lambda graph, body, **k: posts.append(graph) or post(graph, body, **k))
    path = typed_things(tmp_path / "t.nt", 300, title=False)
    # describe=False: the dataset description's refresh is a write of its own (staged on
    # Virtuoso), which this test's rule against staging would catch
    result = load_file(remote, path, graph="filled", validate=False, describe=False)
    assert result.triples == 300 and remote.graph_size("filled") == 300
    assert len(posts) > 3 and set(posts) == {graph_node("filled").value}
    assert remote.last_load("filled")["load"].startswith(f"{ID}load/")
    assert staging_graphs(remote) == []
    monkeypatch.undo()
    changed = load_file(remote, typed_things(tmp_path / "u.nt", 200, title=False),
                        graph="filled", validate=False)
    assert (changed.added, changed.removed) == (0, 100)


def test_a_fill_that_fails_validation_leaves_nothing(remote: RemoteStore, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload runs while the load validates; a refusal stops it and drops the graph,
    whether the upload had finished or not."""
    monkeypatch.setattr(remote_fill, "FILL_CHUNK", 2_000)
    before = sorted(remote.dump(format=ox.RdfFormat.N_QUADS).splitlines())
    with pytest.raises(ValidationFailed):
        load_file(remote, typed_things(tmp_path / "bad.nt", 400, title=False), graph="bad")
    assert not remote.has_graph("bad") and staging_graphs(remote) == []
    assert sorted(remote.dump(format=ox.RdfFormat.N_QUADS).splitlines()) == before


def test_a_fill_left_by_a_killed_load_is_emptied_again(remote: RemoteStore) -> None:
    """The journal names the graph being filled and its load: recovery empties the graph
    unless the provenance graph records that load, and drops the journal either way."""
    data = numbered("f", 500)
    left = remote.begin_fill("left", load=f"{ID}load/never-committed")
    remote.fill("left", data)
    record, activity = prov("done")
    done = remote.begin_fill("done", load=activity)
    remote.fill("done", data)
    remote.apply_change("other", provenance=record)  # committed, but the journal stayed
    assert remote.graph_size("left") == 500 and left != done
    with pytest.raises(ValueError, match="not empty"):
        remote.begin_fill("left", load=activity)
    assert remote.recover(older_than=3600) is None  # our own, still running: kept
    assert remote.graph_size("left") == 500
    assert remote.recover() == "left"
    assert not remote.has_graph("left") and remote.graph_size("done") == 500
    assert staging_graphs(remote) == []


def staging_iri(seconds_ago: float) -> str:
    """A staging graph name (a version-1 UUID) made ``seconds_ago``."""
    ticks = int((time.time() - seconds_ago) * 1e7) + 0x01B21DD213814000
    made = uuid.UUID(fields=(ticks & 0xFFFFFFFF, (ticks >> 32) & 0xFFFF,
                             ((ticks >> 48) & 0x0FFF) | 0x1000, 0x80, 0x01, 0x1234567890AB))
    return f"{STAGING_PREFIX}{made}/0"


def test_the_first_write_drops_only_stale_staging_graphs(remote: RemoteStore) -> None:
    old, young = staging_iri(2 * 3600), staging_iri(60)
    remote.client.update(f"INSERT DATA {{ GRAPH <{old}> {{ <urn:ex:s> <urn:ex:p> <urn:ex:o> }} "
                         f"GRAPH <{young}> {{ <urn:ex:s> <urn:ex:p> <urn:ex:o> }} }}")
    with RemoteStore(remote.client.query_url, remote.client.update_url,
                     remote.client.store_url, user=remote.client.user,
                     password=remote.client._password) as fresh:
        fresh.apply_change("first", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:o> .\n")
        assert staging_graphs(fresh) == [young]  # another writer's, maybe still running


def test_a_stopped_writers_staging_graphs_go_at_once(remote: RemoteStore) -> None:
    """A staging graph names its writer: one of a process of this machine that has ended
    (a load killed a moment ago) is dropped by the next write however young, one of a
    process still running is left to it."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ended = staging_iri(5).replace("/0", f"/{_writer(process.pid)}/0")
    finally:
        process.kill()
        process.wait()
    running = staging_iri(5).replace("/0", f"/{_writer(os.getpid())}/0")
    assert "-" in ended and staging_writer_ended(ended) and not staging_writer_ended(running)
    remote.client.update(f"INSERT DATA {{ GRAPH <{ended}> {{ <urn:ex:s> <urn:ex:p> 1 }} "
                         f"GRAPH <{running}> {{ <urn:ex:s> <urn:ex:p> 2 }} }}")
    with RemoteStore(remote.client.query_url, remote.client.update_url,
                     remote.client.store_url, user=remote.client.user,
                     password=remote.client._password) as fresh:
        assert fresh.tidy() == 1 and fresh.tidy() == 1  # once per store object
        assert staging_graphs(fresh) == [running]


def test_the_engines_atomicity_is_as_recorded(remote: RemoteStore) -> None:
    """RemoteStore ends every change in one operation because Virtuoso keeps the operations
    of a request that ran before a failing one; Oxigraph rolls the whole request back."""
    client = remote.client
    client.update("CREATE GRAPH <urn:example:exists>")
    try:
        with pytest.raises(RemoteError):
            client.update("INSERT DATA { GRAPH <urn:example:first> { <urn:ex:s> <urn:ex:p> 1 } }"
                          " ;\nCREATE GRAPH <urn:example:exists>")
        kept = bool(remote.query("ASK { GRAPH <urn:example:first> { ?s ?p ?o } }"))
        assert kept == (not remote.engine.atomic_requests)
    finally:
        client.update("DROP SILENT GRAPH <urn:example:exists> ; "
                      "DROP SILENT GRAPH <urn:example:first>")


def test_virtuoso_rolls_back_one_operation(virtuoso_backend: Backend) -> None:
    """A single DELETE/INSERT operation failing while it runs leaves nothing done: what the
    staged change relies on."""
    store = virtuoso_backend.store()
    try:
        store.apply_change("target", added=numbered("v", 3_000))
        target = graph_node("target")
        with pytest.raises(RemoteError, match="boom"):
            store.client.update(
                f"DELETE {{ GRAPH {target} {{ ?s ?p ?o }} }} "
                f"INSERT {{ GRAPH <urn:example:copy> {{ ?s ?p ?x }} }} "
                f"WHERE {{ GRAPH {target} {{ ?s ?p ?o }} "
                f'BIND (IF(?o = 2999, bif:signal("22023", "boom"), ?o) AS ?x) }}')
        assert store.graph_size("target") == 3_000
        assert not bool(store.query("ASK { GRAPH <urn:example:copy> { ?s ?p ?o } }"))
    finally:
        clear(store)
        store.close()


def test_virtuoso_specifics(virtuoso_backend: Backend) -> None:
    store = virtuoso_backend.store()
    try:
        assert store.engine.name == "virtuoso"
        clear(store)
        # its own graphs exist but are not ours
        engine_graphs = {row["g"].value for row in store.query(
            "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}
        assert any(g.startswith("http://www.openlinksw.com/") for g in engine_graphs)
        assert store.named_graphs() == [] and store.graph_names() == []
        assert store.stats()["triples"] == 0
        # answers are cut at ResultSetMaxRows: a query says so, a graph read pages
        rows = numbered("w", 10_500)
        store.apply_change("many", added=rows)
        with pytest.raises(ResultsTruncated) as caught:
            store.query(f"SELECT * WHERE {{ GRAPH {graph_node('many')} {{ ?s ?p ?o }} }}")
        assert caught.value.max_rows == 10_000
        assert len(store.quads_of(graph_node("many"))) == 10_500
        # typed literals are kept by value
        store.apply_change("canonical", added=(
            b'<urn:ex:s> <urn:ex:p> "007"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'))
        found = next(iter(store.query("SELECT ?o WHERE { <urn:ex:s> <urn:ex:p> ?o }")))["o"]
        assert found == ox.Literal("7", datatype=iri(XSD + "integer"))
        # its blank nodes (nodeID://…) read in every result format
        store.client.update("INSERT { GRAPH <urn:example:bn> { _:a <urn:ex:p> _:b } } WHERE {}")
        row = next(iter(store.query("SELECT ?s ?o WHERE { GRAPH <urn:example:bn> "
                                    "{ ?s ?p ?o } }")))
        assert isinstance(row["s"], ox.BlankNode) and isinstance(row["o"], ox.BlankNode)
    finally:
        store.client.update("DROP SILENT GRAPH <urn:example:bn>")
        clear(store)
        store.close()


def test_staging_without_a_graph_store(remote_without_graph_store: RemoteStore) -> None:
    """Without a Graph Store URL the staging graphs are filled by INSERT DATA in batches
    (500 triples on Virtuoso), blank-node structures whole, and graphs read by CONSTRUCT."""
    store = remote_without_graph_store
    triples = [ox.Triple(iri(f"{ID}thing/x{i}"), iri(PB + "n"),
                         ox.Literal(str(i), datatype=iri(XSD + "integer")))
               for i in range(1_200)]
    data = nt(triples) + b"".join(
        b'_:c%d <%snext> _:d%d .\n_:d%d <%sn> "%d" .\n' % (i, PB.encode(), i, i, PB.encode(), i)
        for i in range(300))
    data += nt([ox.Triple(iri(ID + "thing/long"), iri(PB + "text"), ox.Literal("y" * 100_000))])
    record, activity = prov("nogsp")
    store.apply_change("nogsp", added=data, provenance=record)
    read = store.quads_of(graph_node("nogsp"))
    assert len(read) == 1_200 + 600 + 1
    assert {q.triple for q in read if not isinstance(q.subject, ox.BlankNode)} >= set(triples)
    joined = [q for q in read if isinstance(q.object, ox.BlankNode)]
    targets = {q.object for q in joined}
    assert len(joined) == 300 and len(targets) == 300
    assert all(any(q.subject == t for q in read) for t in targets)
    assert store.last_load("nogsp")["load"] == activity
    assert staging_graphs(store) == []


def test_engine_is_found_from_the_server(oxigraph_backend: Backend,
                                         virtuoso_backend: Backend) -> None:
    for backend in (oxigraph_backend, virtuoso_backend):
        with backend.store() as store:
            assert store.engine.name == backend.name
            assert backend.name in repr(store)


def test_oxigraph_without_the_union_flag(tmp_path: Path) -> None:
    """RemoteStore asks Oxigraph for the union per query, so the server flag is optional;
    the server's own default graph stays reachable (by the Graph Store)."""
    backend = start_oxigraph(tmp_path / "plain", union_default_graph=False)
    try:
        with backend.store() as store:
            store.apply_change("a", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:one> .\n")
            default = ox.Quad(iri("urn:ex:d"), iri("urn:ex:p"), iri("urn:ex:two"),
                              ox.DefaultGraph())
            store.commit_changes(ChangeSet(added=[default]))
            assert store.count("<urn:ex:s> <urn:ex:p> ?o") == 1
            assert list(store.quads_of(ox.DefaultGraph())) == [default]
            assert store.named_graphs() == [graph_node("a")]
    finally:
        backend.stop()


def test_a_missing_virtuoso_says_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    import backends

    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    with pytest.raises(BackendUnavailable, match="virtuoso-opensource"):
        start_virtuoso(tmp_path)


def test_query_form() -> None:
    assert query_form("PREFIX select: <urn:x> # SELECT\n ASK {}") == "ASK"
    assert query_form("define sql:big-data-const 0 CONSTRUCT WHERE { ?s ?p ?o }") == "CONSTRUCT"
    assert query_form("BASE <urn:b> describe <x>") == "DESCRIBE"
    assert query_form("INSERT DATA { }") is None


# -- deadlines --------------------------------------------------------------------------------

@pytest.fixture(params=["oxigraph", "virtuoso"])
def slow_remote(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RemoteStore]:
    """A remote holding 30k triples, on which a self-join runs for minutes. Oxigraph gets a
    server of its own with a short --timeout-s, so the abandoned query stops soon."""
    if request.param == "oxigraph":
        backend = start_oxigraph(tmp_path / "slow", query_timeout=5)
        store = backend.store()
    else:
        backend = None
        store = request.getfixturevalue("virtuoso_backend").store()
        clear(store)
    store.apply_change("slow", added=numbered("s", 30_000))
    yield store
    if backend is None:
        clear(store)
    store.close()
    if backend is not None:
        backend.stop()


def test_a_long_query_stops_at_the_timeout(slow_remote: RemoteStore) -> None:
    slow = graph_node("slow")
    started = time.monotonic()
    with pytest.raises(RemoteTimeout):
        slow_remote.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {slow} {{ ?a ?b ?c }} "
                          f"GRAPH {slow} {{ ?d ?e ?f }} FILTER (?c != ?f) }}", timeout=2)
    assert time.monotonic() - started < 3.5
    assert slow_remote.graph_size("slow") == 30_000  # the store still answers


class _Trickle(http.server.BaseHTTPRequestHandler):
    """A stand-in server that answers one byte at a time (in the headers or the body)."""

    protocol_version = "HTTP/1.1"
    in_headers = False

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        try:
            if self.in_headers:
                self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                for byte in b"Content-Type: application/sparql-results+xml\r\n" * 100:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.05)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+xml")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(100_000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up: what the test wants

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("in_headers", [False, True])
def test_a_trickling_server_is_cut_off_at_the_deadline(in_headers: bool) -> None:
    handler = type("Handler", (_Trickle,), {"in_headers": in_headers})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{server.server_port}/sparql", engine="sparql")
        started = time.monotonic()
        with pytest.raises(RemoteTimeout):
            store.query("SELECT * WHERE { ?s ?p ?o }", timeout=1.5)
        assert time.monotonic() - started < 2.5
        store.close()
    finally:
        server.shutdown()
        server.server_close()


# -- authentication ---------------------------------------------------------------------------

def test_a_wrong_password_is_a_clear_error_without_it(virtuoso_backend: Backend,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    store = RemoteStore(virtuoso_backend.query_url, store_url=virtuoso_backend.store_url,
                        user="dba", password=SECRET)
    try:
        with pytest.raises(AuthenticationError) as caught:
            store.apply_change("secret", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:o> .\n")
        error = caught.value
        assert error.status == 401 and "refused the credentials" in str(error)
        assert "dba" in str(error) and virtuoso_backend.store_url.split("?")[0] in str(error)
        text = "".join(traceback.format_exception(error)) + repr(store) + repr(store.client)
        assert SECRET not in text and SECRET not in caplog.text
        assert not store.has_graph("secret") and staging_graphs(store) == []
    finally:
        store.close()
    anonymous = RemoteStore(virtuoso_backend.query_url, store_url=virtuoso_backend.store_url)
    with pytest.raises(AuthenticationError, match="give a user and password"):
        anonymous.apply_change("secret", added=b"<urn:ex:s> <urn:ex:p> <urn:ex:o> .\n")
    anonymous.close()


def test_credentials_in_a_url_are_taken_out_of_it() -> None:
    client = SparqlClient(f"http://reader:{SECRET}@127.0.0.1:9/sparql")
    assert client.user == "reader" and SECRET not in repr(client)
    assert client.query_url == "http://127.0.0.1:9/sparql"
    with pytest.raises(RemoteError) as caught:
        client.query("ASK {}", timeout=2)
    assert SECRET not in str(caught.value)


class _Basic(http.server.BaseHTTPRequestHandler):
    """A stand-in server asking for HTTP Basic, recording the Authorization it gets."""

    protocol_version = "HTTP/1.1"
    seen: list[str | None] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        given = self.headers.get("Authorization")
        self.seen.append(given)
        if given != "Basic " + base64.b64encode(b"reader:right").decode():
            body = b"<html><body><h1>401</h1><p>Who are you?</p></body></html>"
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="practicebank"')
            self.send_header("Content-Type", "text/html")
        else:
            body = b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>' \
                   b"<boolean>true</boolean></sparql>"
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_basic_authentication_as_the_server_asks() -> None:
    handler = type("Handler", (_Basic,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/sparql"
    try:
        with RemoteStore(url, user="reader", password="right", engine="sparql") as store:
            assert bool(store.query("ASK {}")) and bool(store.query("ASK {}"))
        # nothing sent before the server asked, then sent up front
        assert handler.seen[0] is None and handler.seen[1:] == [handler.seen[1]] * 2
        with RemoteStore(url, user="reader", password=SECRET, engine="sparql") as store:
            with pytest.raises(AuthenticationError) as caught:
                store.query("ASK {}")
        assert "Basic" in str(caught.value) and SECRET not in str(caught.value)
    finally:
        server.shutdown()
        server.server_close()


def test_digest_answers_the_rfc_example() -> None:
    """RFC 7616 section 3.9.1 (MD5): the response to the example challenge."""
    challenge = dict(parse_challenges([
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'])[0][1])
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    header = digest_authorization(challenge, "GET", "/dir/index.html", "Mufasa",
                                  "Circle of Life", 1, cnonce=cnonce)
    assert 'response="8ca523f5e9506fed4657c9700eebdbec"' in header
    assert "nc=00000001" in header and "qop=auth" in header


class _Deadlocking(http.server.BaseHTTPRequestHandler):
    """An update endpoint that answers the first ``refusals`` updates as Virtuoso does a
    deadlock's victim (500, SQL state 40001), then accepts; any other update is refused
    with another error."""

    refusals = 2
    seen: list[str] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.seen.append(body)
        if "broken" in body:
            self._answer(400, "Virtuoso 37000 Error SP030: SPARQL compiler: syntax error")
        elif len(self.seen) <= self.refusals:
            self._answer(500, "Virtuoso 40001 Error SR172: Transaction deadlocked")
        else:
            self._answer(200, "done")

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


def test_an_update_chosen_as_a_deadlock_victim_is_sent_again(monkeypatch) -> None:
    """A server that rolls an update back to break a deadlock changed nothing: the client
    sends it again after a pause (Virtuoso does this to a load that meets an update a killed
    writer left running); other errors are not retried."""
    monkeypatch.setattr("practicebank.sparql_client.DEADLOCK_PAUSES", (0.01, 0.01, 0.01))
    assert DEADLOCK.search("Virtuoso S1T00 Error SR171: Transaction timed out")
    handler = type("Handler", (_Deadlocking,), {"seen": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/update"
    try:
        client = SparqlClient(url, url)
        client.update("INSERT DATA { <urn:x:s> <urn:x:p> 1 }")
        assert len(handler.seen) == 3  # two deadlocks, then done
        with pytest.raises(RemoteError, match="syntax error"):
            client.update("broken")
        assert len(handler.seen) == 4  # not retried
        handler.seen.clear()
        handler.refusals = 10
        with pytest.raises(RemoteError, match="deadlocked"):
            client.update("INSERT DATA { <urn:x:s> <urn:x:p> 2 }")
        assert len(handler.seen) == 4  # the first try and three more, then given up
        client.close()
    finally:
        server.shutdown()
        server.server_close()
