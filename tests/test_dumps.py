"""``practicebank dump`` and ``/dumps/``: dated, checksummed files that load back to the
same quads, published with Range, ETag and HEAD by a real server."""

from __future__ import annotations

import datetime
import fcntl
import gzip
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from endpoint_live import LiveServer

from practicebank import dumps
from practicebank.cli import first_dump, main
from practicebank.dataset_description import DESCRIPTION_NAME
from practicebank.dumps import Manifest, file_names, write_dump
from practicebank.endpoint import create_app
from practicebank.journal import ChangeSet
from practicebank.loaders.load import restore
from practicebank.namespaces import GRAPH, graph_node
from practicebank.settings import default_dump_dir
from practicebank.store import PracticeStore
from practicebank.store_reads import PROVENANCE_GRAPH

DAY = datetime.date(2026, 3, 14)
PROVENANCE = graph_node(PROVENANCE_GRAPH)


def quad_set(quads) -> set[str]:
    return {str(q) for q in quads}


@pytest.fixture(scope="module")
def demo_dump(demo_store, tmp_path_factory) -> tuple[Path, Manifest]:
    folder = tmp_path_factory.mktemp("dumps")
    return folder, write_dump(demo_store, folder, date=DAY)


def test_the_dump_restored_into_an_empty_store_gives_the_same_quads(demo_store, demo_dump,
                                                                     tmp_path):
    folder, manifest = demo_dump
    dataset = folder / manifest.dataset.path
    assert dataset.name == "practicebank-2026-03-14.nq.gz"
    original = quad_set(demo_store.ox)
    assert not any(isinstance(t, ox.BlankNode) for q in demo_store.ox for t in q)
    # the file itself: exactly the store's quads
    loaded = ox.Store()
    with gzip.open(dataset) as data:
        loaded.load(data, format=ox.RdfFormat.N_QUADS)
    assert quad_set(loaded) == original
    # through `practicebank restore`'s library call, validated like a load: every graph
    # exactly as it was; the provenance graph as it was plus the restore's own records
    with PracticeStore() as fresh:
        results = restore(fresh, dataset)
        # graph/dataset is not restored but made again (its dcterms:modified is the restore's)
        assert {r.graph for r in results} == (set(demo_store.graph_names())
                                              - {PROVENANCE_GRAPH, DESCRIPTION_NAME})
        for graph in demo_store.named_graphs():
            if graph not in (PROVENANCE, graph_node(DESCRIPTION_NAME)):
                assert quad_set(fresh.quads_of(graph)) == quad_set(demo_store.quads_of(graph))
        kept = quad_set(demo_store.quads_of(PROVENANCE))
        restored = quad_set(fresh.quads_of(PROVENANCE))
        assert kept < restored
        # what was added is this restore's record of each graph, which used the dump file
        source = ox.NamedNode(f"urn:sha256:{manifest.dataset.sha256}")
        assert {q.subject for q in fresh.quads_of(PROVENANCE)
                if q.object == ox.Literal(dataset.name)} == {source}
        assert len({q.subject for q in fresh.quads_of(PROVENANCE)
                    if q.object == source}) == len(results)


def test_each_turtle_file_is_its_graph(demo_store, demo_dump):
    folder, manifest = demo_dump
    graphs = {f.graph for f in manifest.graph_files}
    assert graphs == {g.value for g in demo_store.named_graphs()}
    for f in manifest.graph_files:
        assert f.path == f"graphs/2026-03-14/{f.name}.ttl.gz"
        assert f.graph == str(GRAPH) + f.name  # every demo graph keeps its own name
        with dumps.open_file(folder, f) as data:
            parsed = {str(t) for t in ox.parse(data, format=ox.RdfFormat.TURTLE)}
        expected = {str(q.triple) for q in demo_store.quads_of(ox.NamedNode(f.graph))}
        assert parsed == expected and len(parsed) == f.quads
        assert f.media_type == "text/turtle"


def test_sha256sums_and_the_manifest_hold(demo_store, demo_dump):
    folder, manifest = demo_dump
    sums = (folder / "SHA256SUMS").read_text()
    assert sums == manifest.sha256sums()
    assert len(sums.splitlines()) == len(manifest.files) == len(demo_store.named_graphs()) + 1
    for line in sums.splitlines():
        digest, path = line.split("  ")
        assert hashlib.sha256((folder / path).read_bytes()).hexdigest() == digest
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=folder,
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    assert dumps.verify(folder, manifest) == []
    # counts, sizes and the manifest as written
    assert manifest.dataset.quads == len(demo_store.ox)
    assert manifest.dataset.media_type == "application/n-quads"
    for f in manifest.files:
        assert (folder / f.path).stat().st_size == f.bytes
    for f in manifest.graph_files:
        assert f.quads == sum(1 for _ in demo_store.quads_of(ox.NamedNode(f.graph)))
    written = json.loads((folder / "latest.json").read_text())
    assert written["quads"] == len(demo_store.ox) and written["date"] == "2026-03-14"
    assert written["version"] and written["created"].endswith("Z")
    assert {f["path"] for f in written["files"]} == {f.path for f in manifest.files}
    assert (folder / "manifests" / "2026-03-14.json").read_bytes() == \
        (folder / "latest.json").read_bytes()
    assert dumps.latest(folder) == manifest


def test_the_same_data_gives_the_same_bytes(demo_store, demo_dump, tmp_path):
    """gzip without a timestamp: a dump of unchanged data has the same sums (so the same
    ETags), whatever the time it was made."""
    _, manifest = demo_dump
    again = write_dump(demo_store, tmp_path, date=DAY)
    assert [(f.path, f.sha256) for f in again.files] == \
        [(f.path, f.sha256) for f in manifest.files]


def test_older_dumps_stay_until_keep_newer_ones_exist(tmp_path):
    store = PracticeStore()
    store.apply_change("things", added=b"<urn:x:a> <urn:x:p> \"one\" .\n")
    for day in (1, 2, 3, 4):
        write_dump(store, tmp_path, date=datetime.date(2026, 1, day), keep=2)
    assert dumps.kept_dates(tmp_path) == ["2026-01-03", "2026-01-04"]
    assert sorted(p.name for p in tmp_path.glob("*.nq.gz")) == [
        "practicebank-2026-01-03.nq.gz", "practicebank-2026-01-04.nq.gz"]
    assert sorted(p.name for p in (tmp_path / "graphs").iterdir()) == ["2026-01-03",
                                                                      "2026-01-04"]
    # a dump of an earlier date is kept, but the latest stays the newest date
    write_dump(store, tmp_path, date=datetime.date(2026, 1, 2), keep=None)
    assert dumps.latest(tmp_path).date == "2026-01-04"
    assert dumps.prune(tmp_path, 1) == ["2026-01-03", "2026-01-02"]
    assert dumps.kept_dates(tmp_path) == ["2026-01-04"]
    assert not list(tmp_path.glob(".dump-*")) and not (tmp_path / "graphs/2026-01-02").exists()
    with pytest.raises(ValueError):
        write_dump(store, tmp_path, keep=0)


def test_a_dump_of_the_same_day_replaces_it(tmp_path):
    store = PracticeStore()
    store.apply_change("a", added=b"<urn:x:a> <urn:x:p> \"a\" .\n")
    store.apply_change("b", added=b"<urn:x:b> <urn:x:p> \"b\" .\n")
    write_dump(store, tmp_path, date=DAY)
    store.commit_changes(ChangeSet(dropped={graph_node("b")}))
    second = write_dump(store, tmp_path, date=DAY)
    assert [f.name for f in second.graph_files] == ["a"]
    assert [p.name for p in (tmp_path / "graphs/2026-03-14").iterdir()] == ["a.ttl.gz"]
    assert dumps.latest(tmp_path) == second and dumps.verify(tmp_path, second) == []


def test_one_dump_at_a_time_and_an_empty_store_dumps_too(tmp_path):
    store = PracticeStore()
    tmp_path.joinpath(".lock").touch()
    with open(tmp_path / ".lock") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(dumps.DumpBusy):
            write_dump(store, tmp_path, date=DAY)
        result = CliRunner().invoke(main, ["dump", "-o", str(tmp_path), "--store",
                                           str(tmp_path / "store")])
        assert result.exit_code == 2 and "another dump" in result.output
    manifest = write_dump(store, tmp_path, date=DAY)
    assert manifest.dataset.quads == 0 and manifest.graph_files == []
    assert dumps.verify(tmp_path, manifest) == []


def test_the_default_graph_goes_into_the_nquads(tmp_path):
    """Endpoint writes can reach the default graph: the whole-dataset file keeps it."""
    store = PracticeStore()
    store.ox.add(ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("d")))
    manifest = write_dump(store, tmp_path, date=DAY)
    assert manifest.dataset.quads == 1 and manifest.graph_files == []
    with dumps.open_file(tmp_path, manifest.dataset) as data:
        assert [q.graph_name for q in ox.parse(data, format=ox.RdfFormat.N_QUADS)] == [
            ox.DefaultGraph()]


@pytest.mark.parametrize(("iri", "name"), [
    (str(GRAPH) + "sample", "sample"),
    (str(GRAPH) + "corpus-tilley", "corpus-tilley"),
    (str(GRAPH) + "Upper Case", None),
    (str(GRAPH) + "../../etc/passwd", None),
    (str(GRAPH) + "a/b", None),
    (str(GRAPH), None),
    ("http://example.org/graph", None),
    ("urn:x:" + "long" * 100, None),
])
def test_file_names_are_plain_slugs(iri, name):
    got = file_names([iri])[iri]
    assert dumps.PLAIN_NAME.fullmatch(got)
    if name is not None:
        assert got == name
    else:
        assert got.endswith("-" + hashlib.sha256(iri.encode()).hexdigest()[:12])


def test_file_names_never_clash():
    iris = [str(GRAPH) + "a b", str(GRAPH) + "a-b", str(GRAPH) + "A B", "urn:a:b"]
    names = file_names(iris)
    assert len(set(names.values())) == len(iris) and names[str(GRAPH) + "a-b"] == "a-b"


def test_manifests_that_are_not_ours_are_refused(demo_dump):
    _, manifest = demo_dump
    good = manifest.to_json()
    assert Manifest.from_json(good) == manifest
    for bad_path in ("../../etc/passwd", "/etc/passwd", "graphs/2026-03-14/../../x.ttl.gz",
                     "graphs/2026-03-15/sample.ttl.gz", "practicebank-2026-03-14.nq"):
        tampered = json.loads(json.dumps(good))
        tampered["files"][1]["path"] = bad_path
        with pytest.raises(ValueError):
            Manifest.from_json(tampered)
    for field, value in (("sha256", 'abc"\r\nSet-Cookie: x'), ("bytes", "12"), ("quads", -1),
                         ("graph", 5), ("extra", 1)):
        tampered = json.loads(json.dumps(good))
        tampered["files"][1][field] = value
        with pytest.raises(ValueError):
            Manifest.from_json(tampered)
    with pytest.raises(ValueError):
        Manifest.from_json({"files": []})


def test_the_dump_command_writes_beside_the_store_and_restore_loads_it(tmp_path):
    store_path = tmp_path / "store"
    with PracticeStore(store_path) as store:
        store.apply_change("things", added=b"<urn:x:a> <urn:x:p> \"one\" .\n"
                                           b"<urn:x:b> <urn:x:p> \"two\" .\n")
        expected = quad_set(store.ox)
    runner = CliRunner()
    result = runner.invoke(main, ["dump", "--store", str(store_path), "--keep", "1"])
    assert result.exit_code == 0, result.output
    folder = default_dump_dir(store_path)
    assert folder == tmp_path / "store.dumps"
    manifest = dumps.latest(folder)
    assert manifest.dataset.path in result.output and "graphs/" in result.output
    assert f"{len(expected)} quads in 1 graph(s)" in result.output
    elsewhere = runner.invoke(main, ["dump", "--store", str(store_path),
                                     "-o", str(tmp_path / "out")])
    assert elsewhere.exit_code == 0 and dumps.latest(tmp_path / "out") is not None
    bad = runner.invoke(main, ["dump", "--store", str(store_path), "--keep", "0"])
    assert bad.exit_code == 2
    restored = runner.invoke(main, ["restore", str(folder / manifest.dataset.path),
                                    "--store", str(tmp_path / "fresh")])
    assert restored.exit_code == 0, restored.output
    with PracticeStore(tmp_path / "fresh") as fresh:
        assert quad_set(fresh.quads_of(graph_node("things"))) == {
            q for q in expected if "graph/things" in q}


def test_a_remote_store_dumps_the_same_files(oxigraph_backend, tmp_path):
    """Through the Store protocol only: a dump of a SPARQL server holds what it holds."""
    names = ("dumps-test-a", "dumps-test-b")
    with oxigraph_backend.store() as store:
        try:
            for i, name in enumerate(names):
                store.apply_change(name, added=f'<urn:x:{i}> <urn:x:p> "{name}" .\n'.encode())
            manifest = write_dump(store, tmp_path, date=DAY)
            expected = {str(q) for g in store.named_graphs() for q in store.quads_of(g)}
        finally:
            store.commit_changes(ChangeSet(dropped={graph_node(n) for n in names}))
    for name in names:
        f = manifest.graph_file(name)
        with dumps.open_file(tmp_path, f) as data:
            assert [t.object.value for t in ox.parse(data, format=ox.RdfFormat.TURTLE)] == [name]
    with dumps.open_file(tmp_path, manifest.dataset) as data:
        assert quad_set(ox.parse(data, format=ox.RdfFormat.N_QUADS)) == expected
    assert dumps.verify(tmp_path, manifest) == []


def test_serve_demo_writes_a_first_dump_only_when_there_is_none(tmp_path):
    store = PracticeStore()
    store.apply_change("things", added=b"<urn:x:a> <urn:x:p> \"one\" .\n")
    first_dump(store, tmp_path)
    written = (tmp_path / "latest.json").read_bytes()
    store.apply_change("things", added=b"<urn:x:b> <urn:x:p> \"two\" .\n")
    first_dump(store, tmp_path)
    assert (tmp_path / "latest.json").read_bytes() == written


def test_no_dump_yet_says_how_to_make_one(demo_store, tmp_path):
    for config in ({"STORE": demo_store}, {"STORE": demo_store, "DUMP_DIR": str(tmp_path)}):
        client = create_app({"TESTING": True, **config}).test_client()
        page = client.get("/dumps/")
        assert page.status_code == 200 and "practicebank dump" in page.get_data(as_text=True)
        as_json = client.get("/dumps/", headers={"Accept": "application/json"})
        assert as_json.status_code == 404 and as_json.json["error"] == "no_dump"
        assert client.get("/dumps/latest.json").status_code == 404
        assert client.get("/dumps/practicebank-latest.nq.gz").status_code == 404


# -- a real server ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(demo_store, tmp_path_factory):
    """``serve --demo`` on a store that holds the demo data (copied, which is far quicker
    than loading it on disk) but has no dump yet: it writes a first one."""
    tmp = tmp_path_factory.mktemp("served")
    with PracticeStore(tmp / "store") as disk:
        disk.ox.bulk_extend(demo_store.ox)
    with LiveServer(tmp / "store", tmp, "--demo", "--workers", "1") as live:
        live.folder = default_dump_dir(tmp / "store")
        yield live


def get(server, path: str, method: str = "GET", **headers):
    return server.request(method, server.base + path, headers=headers)


def test_serve_demo_publishes_a_first_dump(server):
    manifest = dumps.latest(server.folder)
    assert manifest is not None and manifest.dataset.quads > 5000
    status, headers, body = get(server, "/dumps/", Accept="application/json")
    assert status == 200 and json.loads(body) == manifest.to_json()
    assert headers["Access-Control-Allow-Origin"] == "*"
    status, headers, body = get(server, "/dumps/latest.json")
    assert status == 200 and body == (server.folder / "latest.json").read_bytes()
    status, headers, page = get(server, "/dumps/", Accept="text/html")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for f in manifest.files:
        assert f"/dumps/{f.path}".encode() in page and f"/dumps/{f.alias}".encode() in page
    status, _, sums = get(server, "/dumps/SHA256SUMS")
    assert status == 200 and sums == (server.folder / "SHA256SUMS").read_bytes()


def test_range_requests_answer_the_bytes_asked_for(server):
    manifest = dumps.latest(server.folder)
    f = manifest.dataset
    data = (server.folder / f.path).read_bytes()
    status, headers, body = get(server, f"/dumps/{f.path}", Range="bytes=100-1099")
    assert status == 206 and body == data[100:1100]
    assert headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert headers["Content-Type"] == "application/gzip"
    status, headers, body = get(server, f"/dumps/{f.path}", Range="bytes=-10")
    assert status == 206 and body == data[-10:]
    status, headers, body = get(server, f"/dumps/{f.path}", Range=f"bytes={len(data)}-")
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    status, headers, body = get(server, f"/dumps/{f.path}")
    assert status == 200 and body == data and headers["Accept-Ranges"] == "bytes"
    assert headers["Content-Disposition"] == f"attachment; filename={f.filename}"


def test_etags_and_dates_make_conditional_requests_work(server):
    f = dumps.latest(server.folder).graph_file("sample")
    status, headers, body = get(server, f"/dumps/{f.path}")
    assert status == 200 and headers["ETag"] == f'"{f.sha256}"'
    assert hashlib.sha256(body).hexdigest() == f.sha256
    status, _, body = get(server, f"/dumps/{f.path}", **{"If-None-Match": f'"{f.sha256}"'})
    assert status == 304 and body == b""
    status, _, body = get(server, f"/dumps/{f.path}",
                          **{"If-Modified-Since": headers["Last-Modified"]})
    assert status == 304
    status, _, body = get(server, f"/dumps/{f.path}", **{"If-None-Match": '"other"'})
    assert status == 200 and len(body) == f.bytes
    # If-Range with a tag that no longer matches: the whole (new) file, not a piece of it
    status, _, body = get(server, f"/dumps/{f.path}", Range="bytes=0-9",
                          **{"If-Range": '"stale"'})
    assert status == 200 and len(body) == f.bytes


def test_head_gives_the_headers_without_the_body(server):
    f = dumps.latest(server.folder).dataset
    status, headers, body = get(server, f"/dumps/{f.path}", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == f.bytes and headers["ETag"] == f'"{f.sha256}"'


def test_stable_aliases_answer_the_latest_files(server):
    manifest = dumps.latest(server.folder)
    for f in (manifest.dataset, manifest.graph_file("vocabularies")):
        status, headers, body = get(server, f"/dumps/{f.alias}")
        assert status == 200 and headers["Content-Location"] == f"/dumps/{f.path}"
        assert body == (server.folder / f.path).read_bytes()
        assert headers["ETag"] == f'"{f.sha256}"'
        status, headers, body = get(server, f"/dumps/{f.alias}", Range="bytes=0-1")
        assert status == 206 and body == b"\x1f\x8b"
    assert get(server, "/dumps/practicebank-latest.nq.gz")[1]["Content-Disposition"] == \
        f"attachment; filename={manifest.dataset.filename}"
    assert get(server, "/dumps/graphs/no-such-graph-latest.ttl.gz")[0] == 404
