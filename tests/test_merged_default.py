"""The default graph is the RDF merge of all graphs: a triple held by two graphs counts once.

pyoxigraph's union default graph repeats such a triple once per graph (see
``practicebank/merged_default.py``), so these tests put the same three triples in the default
graph and in a named graph and check every path a query can take: the worker processes on
a snapshot, the in-process lookups, the in-process executor (in-memory store), the Graph
Store reads of the same snapshot, and the bookkeeping that decides when any of it is needed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from endpoint_live import TOKEN, LiveServer

import practicebank
from practicebank import merged_default as merged
from practicebank.cli import main
from practicebank.endpoint import create_app
from practicebank.journal import ChangeSet
from practicebank.store import PracticeStore

DATA = (b"<http://www.example.org/s1> <http://www.example.org/p> <urn:x:g1> .\n"
        b"<http://www.example.org/s2> <http://www.example.org/p> <http://www.example.org/o2> .\n"
        b"<http://www.example.org/s1> <http://www.example.org/q> \"1\" .\n")
G1 = ox.NamedNode("urn:x:g1")
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
#: The W3C test exists/exists-graph-variable: the default graph and graph <urn:x:g1> hold the
#: same triples; only s1 names a graph that exists.
EXISTS = ("PREFIX : <http://www.example.org/> SELECT ?s WHERE { ?s :p ?g . "
          "FILTER EXISTS { GRAPH ?g { ?s2 :p ?o2 } } }")
LOOKUP = "SELECT ?p ?o WHERE { <http://www.example.org/s1> ?p ?o }"
NT = {"Content-Type": "application/n-triples", "Authorization": f"Bearer {TOKEN}"}


def rows(body: bytes) -> list[dict]:
    return json.loads(body)["results"]["bindings"]


def test_every_query_path_of_a_live_server_sees_each_triple_once(tmp_path: Path):
    with LiveServer(tmp_path / "store", tmp_path) as live:
        for where in ("default", "graph=urn%3Ax%3Ag1"):
            status, _, body = live.request("PUT", f"{live.base}/store?{where}", body=DATA,
                                           headers=NT)
            assert status in (201, 204), body
        assert live.count(COUNT) == 3  # was 4: the worker processes
        assert live.count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }") == 3
        assert len(rows(live.query(LOOKUP)[2])) == 2  # the in-process lookup lane
        assert [r["s"]["value"] for r in rows(live.query(EXISTS)[2])] == [
            "http://www.example.org/s1"]
        graphs = rows(live.query("SELECT ?g WHERE { GRAPH ?g { } }")[2])
        assert [r["g"]["value"] for r in graphs] == ["urn:x:g1"]  # the hidden ones stay so
        status, _, _ = live.request("GET", f"{live.base}/store?graph={merged.PART.value}")
        assert status == 404
        status, _, body = live.request("GET", f"{live.base}/store?default",
                                       headers={"Accept": "application/n-triples"})
        assert status == 200 and body.count(b"\n") == 3
        # The overlap ends with the graph: the next snapshot is an ordinary one again.
        status, _, _ = live.request("DELETE", f"{live.base}/store?graph=urn%3Ax%3Ag1",
                                    headers=NT)
        assert status == 204
        assert live.count(COUNT) == 3
        assert rows(live.query(EXISTS)[2]) == []


def test_queries_in_the_server_process_see_each_triple_once():
    store = PracticeStore()
    client = create_app({"TESTING": True, "STORE": store, "WRITE_TOKEN": TOKEN}).test_client()
    for where in ("default", "graph=urn%3Ax%3Ag1"):
        assert client.put(f"/store?{where}", data=DATA, headers=NT).status_code in (201, 204)
    answer = client.get("/sparql", query_string={"query": COUNT},
                        headers={"Accept": "application/sparql-results+json"})
    assert rows(answer.data)[0]["n"]["value"] == "3"
    answer = client.get("/sparql", query_string={"query": EXISTS},
                        headers={"Accept": "application/sparql-results+json"})
    assert len(rows(answer.data)) == 1


def _store_with(*graphs, path: Path | None = None) -> PracticeStore:
    store = PracticeStore(path)
    for graph in graphs:
        store.ox.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    return store


def test_no_overlap_leaves_the_store_as_it_is():
    store = _store_with(G1)
    store.ox.load(b"<urn:a> <urn:b> <urn:c> .", format=ox.RdfFormat.N_TRIPLES)
    assert not merged.overlaps_of(store).any
    assert merged.live_view(store) is store.ox  # the normal case: not a copy, not a wrapper


@pytest.mark.parametrize("on_disk", [False, True], ids=["in-memory", "on-disk"])
def test_overlaps_follow_the_writes(on_disk: bool, tmp_path: Path):
    """In memory the in-process copy is a copy; on disk (``--workers -1``) a checkpoint in a
    temporary folder, removed once no query uses it."""
    store = _store_with(ox.DefaultGraph(), G1, path=tmp_path / "store" if on_disk else None)
    tracker = merged.overlaps_of(store)
    assert tracker.graphs == {ox.DefaultGraph(), G1}
    store.ox.remove_graph(G1)
    merged.note_change(store, ChangeSet(dropped={G1}))
    assert not tracker.any
    quad = ox.Quad(ox.NamedNode("http://www.example.org/s2"), ox.NamedNode(
        "http://www.example.org/p"), ox.NamedNode("http://www.example.org/o2"),
        ox.NamedNode("urn:x:g3"))
    store.ox.add(quad)
    merged.note_change(store, ChangeSet(added=[quad]))
    assert tracker.graphs == {ox.DefaultGraph(), ox.NamedNode("urn:x:g3")}
    view = merged.live_view(store)
    assert int(next(iter(view.query(COUNT, use_default_graph_as_union=True)))["n"].value) == 3
    assert {g.value for g in view.named_graphs()} == {"urn:x:g3"}
    folder = view.folder
    assert (folder is not None) == on_disk
    merged.note_change(store, ChangeSet())  # any write: the next query gets a new copy
    assert merged.live_view(store) is not view
    del view
    assert folder is None or not Path(folder).exists()


def test_a_partition_keeps_the_large_graphs_and_the_query_dataset(tmp_path: Path):
    """The largest overlapping graph and large graphs that share nothing stay in the list;
    the rest is copied once into the hidden part. A query's own FROM NAMED still decides
    its named graphs."""
    store = ox.Store(str(tmp_path / "copy"))
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=G1)
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:x:g2"))
    big = ox.NamedNode("urn:x:big")
    store.extend(ox.Quad(ox.NamedNode(f"urn:x:s{i}"), G1, ox.Literal(str(i)), big)
                 for i in range(merged.FOLD_BUDGET + 1))
    assert merged.partition(store, {G1, ox.NamedNode("urn:x:g2")})
    view = merged.view_of(store)
    assert len(view.members) == 3 and {big, merged.PART} < set(view.members)  # + G1 or g2
    count = view.query(COUNT, use_default_graph_as_union=True)
    assert int(next(iter(count))["n"].value) == 3 + merged.FOLD_BUDGET + 1
    named = view.query("SELECT ?g FROM NAMED <urn:x:g2> WHERE { GRAPH ?g { } }",
                       use_default_graph_as_union=True)
    assert [row["g"].value for row in named] == ["urn:x:g2"]


def test_the_library_and_the_cli_see_each_triple_once_and_honour_from(tmp_path: Path):
    """``PracticeStore.query`` (the CLI, the Python API, the loaders) counts the merge too;
    and a query's own ``FROM`` decides its default graph (pyoxigraph ignores it when asked
    for the union, so the store must not ask)."""
    with PracticeStore(tmp_path / "store") as store:
        store.ox.load(DATA, format=ox.RdfFormat.N_TRIPLES)
        store.ox.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=G1)
        store.ox.add(ox.Quad(ox.NamedNode("urn:x:only"), ox.NamedNode("urn:x:in"),
                             ox.Literal("g2"), ox.NamedNode("urn:x:g2")))
        assert int(next(iter(store.query(COUNT)))["n"].value) == 4
        assert int(next(iter(practicebank.query(store, COUNT)))["n"].value) == 4
        from_g2 = "SELECT ?o FROM <urn:x:g2> WHERE { ?s ?p ?o }"
        assert [r["o"].value for r in store.query(from_g2)] == ["g2"]
        named = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        assert [r["g"].value for r in store.query(named)] == ["urn:x:g1", "urn:x:g2"]
    result = CliRunner().invoke(main, ["query", COUNT, "--format", "csv",
                                       "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["n", "4"]


def test_a_query_with_from_names_its_own_dataset_on_the_endpoint(tmp_path: Path):
    with LiveServer(tmp_path / "store", tmp_path) as live:
        for graph, data in (("urn%3Ax%3Ag1", DATA),
                            ("urn%3Ax%3Ag2", b"<urn:x:a> <urn:x:b> \"g2\" .\n")):
            status, _, body = live.request("PUT", f"{live.base}/store?graph={graph}",
                                           body=data, headers=NT)
            assert status == 201, body
        assert live.count("SELECT (COUNT(*) AS ?n) FROM <urn:x:g2> WHERE { ?s ?p ?o }") == 1
        assert live.count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 4
        assert live.count("SELECT (COUNT(*) AS ?n) FROM NAMED <urn:x:g2> "
                          "WHERE { ?s ?p ?o }") == 0  # FROM NAMED alone: an empty default


def test_descriptions_of_a_partitioned_snapshot_never_read_its_hidden_graphs(tmp_path: Path):
    """A snapshot whose graphs overlap is read through a MergedView; descriptions read its
    indexes (quads_for_pattern), where the hidden graph repeats the shared triples: each
    must be read once, from the graphs that really hold it (a page once listed a force's
    region twice, and could name the hidden graph as where a record came from)."""
    from practicebank.endpoint.descriptions import IndexSource, LinkedCache, describe

    store = ox.Store(str(tmp_path / "copy"))
    g2 = ox.NamedNode("urn:x:g2")
    s1, s2 = ox.NamedNode("http://www.example.org/s1"), ox.NamedNode("http://www.example.org/s2")
    extra = ox.NamedNode("http://www.example.org/extra")
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=G1)
    store.load(DATA, format=ox.RdfFormat.N_TRIPLES, to_graph=g2)
    # G1 is the larger (kept); g2's triple that G1 lacks is copied into the hidden part.
    store.extend([ox.Quad(s2, extra, ox.Literal(str(i)), G1) for i in range(2)])
    store.add(ox.Quad(s1, extra, ox.Literal("only in g2"), g2))
    assert merged.partition(store, {G1, g2})
    assert len(list(store.quads_for_pattern(s1, extra, None, merged.PART))) == 1
    view = merged.view_of(store)
    assert isinstance(view, merged.MergedView)
    for cache in (None, LinkedCache()):
        source = IndexSource(view, cache)
        found = source.quads(s1, None, None, 10)
        assert len(found) == 5 and {q.graph_name for q in found} == {G1, g2}
        description = describe(source, s1.value)
        assert len(description.triples) == 3
        assert description.triples[ox.Triple(s1, extra, ox.Literal("only in g2"))] == {g2}
