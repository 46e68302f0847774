"""One behaviour, three stores: the embedded Oxigraph store, and the ``sparql`` backend on
``oxigraph serve`` and on Virtuoso 7, driven the way users drive them.

Everything goes through the real command line (``practicebank load/query/stats/export``
with ``--store DIR``, or with the ``--backend…`` flags and ``PRACTICEBANK_BACKEND_PASSWORD``
for Virtuoso's Graph Store, which wants HTTP Digest) and the real server (``practicebank
serve`` in a :class:`~endpoint_live.LiveServer` with the same flags), so what is checked is
what a user gets, and each test asks the same of every store:

* a load reads back, as the same triples an in-memory load of the file gives, through
  ``query``, ``stats`` and ``export``, and an export loads back as itself;
* a changed file replaces its graph by the difference, and provenance records both loads;
* a file that fails validation leaves the whole store as it was;
* SIGKILL at several moments of a large load leaves the graph exactly old or exactly new,
  and the next load finds nothing a killed one left;
* queries in every format, the Graph Store, updates of each kind, the shapes, the token and
  the deadline through the endpoint;
* the W3C SPARQL Protocol manifest (34 tests) through the endpoint.

The remote servers are the session's (conftest.py), shared with tests/test_remote_store.py:
every test here names graphs of its own and drops what it made.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pytest
from backends import Backend
from endpoint_live import TOKEN, LiveServer, free_port
from test_w3c import PROTOCOL, W3C, http_send, name_of, protocol_data, run_protocol_test

from practicebank.backend import Store
from practicebank.loaders.load import load_file
from practicebank.remote_store import STALE_STAGING, RemoteStore
from practicebank.store import JOURNAL_NAME, PracticeStore, graph_node
from practicebank.store_reads import STAGING_PREFIX

BACKENDS = ["embedded", "oxigraph", "virtuoso"]
ROOT = Path(__file__).resolve().parent
PB = "https://w3id.org/practicebank/def/"
ID = "https://w3id.org/practicebank/id/"
EX = "http://example.org/backends/"
PROVENANCE = graph_node("provenance")
CLI = Path(sys.executable).with_name("practicebank")
JSON_RESULTS = "application/sparql-results+json"


# -- where the data lives, as the command line and the server are told ------------------------

@dataclass
class Target:
    """One store as the commands reach it: the flags and environment every command gets,
    and a store object for the checks (closed again at once: the embedded one is locked
    while open)."""

    name: str
    flags: list[str]
    env: dict[str, str] = field(default_factory=dict)
    backend: Backend | None = None     # the remote server
    folder: Path | None = None         # the embedded store

    def command(self, *args: str) -> list[str]:
        return [str(CLI), *args, *self.flags]

    def environment(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def run(self, *args: str, expect: int = 0, timeout: float = 180
            ) -> subprocess.CompletedProcess[bytes]:
        result = subprocess.run(self.command(*args), env=self.environment(),
                                capture_output=True, timeout=timeout)
        assert result.returncode == expect, (
            f"practicebank {' '.join(args)} on {self.name}: exit {result.returncode}, not "
            f"{expect}\n{result.stderr.decode(errors='replace')[-3000:]}")
        return result

    def start(self, *args: str) -> subprocess.Popen:
        """The command, running; its stderr is kept in a temporary file (``errors``) to show
        when it fails."""
        errors = tempfile.TemporaryFile()
        process = subprocess.Popen(self.command(*args), env=self.environment(),
                                   stdout=subprocess.DEVNULL, stderr=errors)
        process.errors = errors  # type: ignore[attr-defined]
        return process


    @contextmanager
    def store(self) -> Iterator[Store]:
        store = PracticeStore(self.folder) if self.backend is None else self.backend.store()
        try:
            yield store
        finally:
            store.close()


def stderr_of(process: subprocess.Popen) -> str:
    """What a process ``Target.start`` started wrote to stderr (its file is closed)."""
    with process.errors as errors:  # type: ignore[attr-defined]
        errors.seek(0)
        return errors.read().decode(errors="replace")[-3000:]

def remote_target(backend: Backend) -> Target:
    flags = ["--backend", "sparql", "--backend-query-url", backend.query_url,
             "--backend-update-url", backend.update_url]
    if backend.store_url:
        flags += ["--backend-store-url", backend.store_url]
    env = {}
    if backend.user:
        flags += ["--backend-user", backend.user]
        env["PRACTICEBANK_BACKEND_PASSWORD"] = backend.password or ""
    return Target(backend.name, flags, env, backend=backend)


def our_graphs(store: RemoteStore) -> set[str]:
    """Every graph of ours on the server, empty ones included where the engine keeps them."""
    pattern = "{ }" if store.engine.empty_graphs else "{ ?s ?p ?o }"
    rows = store.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {pattern} }}")
    return {row["g"].value for row in rows
            if isinstance(row["g"], ox.NamedNode) and store.is_ours(row["g"].value)}


def forget(store: RemoteStore, made: set[str], provenance_existed: bool) -> None:
    """Drop the graphs a test made, and its loads' records in a provenance graph that was
    there before it (a provenance graph it made goes whole)."""
    if provenance_existed:
        targets = " ".join(f"<{g}>" for g in made)
        if targets:
            store.client.update(
                f"DELETE {{ GRAPH {PROVENANCE} {{ ?load ?p ?o . ?g ?gp ?go }} }} WHERE {{ "
                f"GRAPH {PROVENANCE} {{ VALUES ?g {{ {targets} }} ?load <{PB}targetGraph> ?g ;"
                f" ?p ?o . OPTIONAL {{ ?g ?gp ?go }} }} }}")
    if made:
        store.client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in sorted(made)))
    store.recover(older_than=STALE_STAGING)  # staging graphs of killed loads, if any


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """Each store, empty of this test's graphs: a fresh folder, or the session's server
    (left as it was found)."""
    if request.param == "embedded":
        yield Target("embedded", ["--store", str(tmp_path / "store")],
                     folder=tmp_path / "store")
        return
    backend: Backend = request.getfixturevalue(f"{request.param}_backend")
    with backend.store() as store:
        before = our_graphs(store)
    yield remote_target(backend)
    with backend.store() as store:
        forget(store, our_graphs(store) - before, PROVENANCE.value in before)


def unique(stem: str) -> str:
    """A graph short name no other test uses."""
    return f"{stem}-{uuid.uuid4().hex[:8]}"


# -- what a load should give ----------------------------------------------------------------

def triples_of(store: Store, name: str) -> set[ox.Triple]:
    return {q.triple for q in store.quads_of(graph_node(name))}


def expected_load(path: Path, name: str) -> set[ox.Triple]:
    """The triples a load of ``path`` into graph/``name`` gives, loaded here in memory."""
    store = PracticeStore()
    load_file(store, path, graph=name)
    return triples_of(store, name)


def parse_nt(data: bytes) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)}


def counts(stats_output: str) -> dict[str, int]:
    """``practicebank stats`` as a dict ("practices": 28, "graph/x": 542 …)."""
    found = {}
    for line in stats_output.splitlines():
        label, _, number = line.strip().rpartition(" ")
        if number.isdigit():
            found[label.strip()] = int(number)
    return found


def changed_csv(source: Path, out: Path) -> Path:
    """``source`` with two practices gone and one retitled: a replace has both sides."""
    with source.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    body = body[:-2]
    body[0][header.index("title")] = body[0][header.index("title")] + " (revised)"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *body])
    out.write_text(buffer.getvalue(), encoding="utf-8")
    return out


# -- the command line -----------------------------------------------------------------------

def test_load_query_stats_and_export_round_trip(target: Target, practices_csv: Path,
                                                tmp_path: Path) -> None:
    """A load holds exactly what the same file gives in memory (so a remote keeps every
    literal as the embedded store does), and every reading command sees it: ``query`` in
    each form (with its own ``FROM``), ``stats``, ``export`` of one graph and of all, and an
    export loaded back is the same graph."""
    name, copy = unique("practices"), unique("copy")
    expected = expected_load(practices_csv, name)
    loaded = target.run("load", str(practices_csv), "--graph", name)
    assert f"{len(expected)} triples into graph/{name}" in loaded.stderr.decode()
    with target.store() as store:
        assert triples_of(store, name) == expected
        assert store.last_load(name)["sha"] == hashlib.sha256(
            practices_csv.read_bytes()).hexdigest()

    practices = {t.subject for t in expected
                 if t.predicate.value.endswith("#type") and t.object.value == PB + "Practice"}
    answer = target.run("query", f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ GRAPH "
                                 f"{graph_node(name)} {{ ?p a <{PB}Practice> }} }}",
                        "--format", "csv")
    assert answer.stdout.decode().split() == ["n", str(len(practices))]
    own = target.run("query", f"SELECT (COUNT(*) AS ?n) FROM {graph_node(name)} "
                              "WHERE { ?s ?p ?o }", "--format", "csv")
    assert own.stdout.decode().split() == ["n", str(len(expected))]  # FROM: not the union
    ask = target.run("query", f"ASK {{ {next(iter(practices))} a <{PB}Practice> }}")
    assert json.loads(ask.stdout)["boolean"] is True
    graph = target.run("query", f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph_node(name)} "
                                "{ ?s ?p ?o } }", "--format", "nt")
    assert parse_nt(graph.stdout) == expected

    stats = counts(target.run("stats").stdout.decode())
    assert stats["practices"] == len(practices)
    assert stats[f"graph/{name}"] == len(expected)
    assert stats["graph/provenance"] > 0
    assert stats["triples"] == len(expected) + stats["graph/provenance"] + stats["graph/dataset"]

    exported = tmp_path / "export.nt"
    target.run("export", "--graph", name, "--format", "nt", "-o", str(exported))
    assert parse_nt(exported.read_bytes()) == expected
    everything = ox.Dataset(ox.parse(target.run("export", "--format", "nq").stdout,
                                     format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in everything} == {
        graph_node(name).value, PROVENANCE.value, graph_node("dataset").value}
    target.run("load", str(exported), "--graph", copy)
    again = tmp_path / "again.nt"
    target.run("export", "--graph", copy, "--format", "nt", "-o", str(again))
    assert parse_nt(again.read_bytes()) == expected


def test_a_changed_file_replaces_only_the_difference(target: Target, practices_csv: Path,
                                                     tmp_path: Path) -> None:
    """A second load of a graph sends only the difference and says so; provenance keeps
    both loads with their counts, and ``last_load`` is the second, even a moment after
    the first (it decides whether the next load of the same file is skipped)."""
    name = unique("replaced")
    changed = changed_csv(practices_csv, tmp_path / "practices.csv")
    first, second = expected_load(practices_csv, name), expected_load(changed, name)
    added, removed = second - first, first - second
    assert added and removed
    target.run("load", str(practices_csv), "--graph", name)
    with target.store() as store:
        first_load = store.last_load(name)
    result = target.run("load", str(changed), "--graph", name)
    assert f"(+{len(added)} -{len(removed)};" in result.stderr.decode()
    with target.store() as store:
        assert triples_of(store, name) == second
        last = store.last_load(name)
        assert last["load"] != first_load["load"]
        assert last["sha"] == hashlib.sha256(changed.read_bytes()).hexdigest()
        rows = list(store.query(
            f"SELECT ?load ?added ?removed WHERE {{ GRAPH {PROVENANCE} {{ ?load a <{PB}Load> ; "
            f"<{PB}targetGraph> {graph_node(name)} ; <{PB}triplesAdded> ?added ; "
            f"<{PB}triplesRemoved> ?removed }} }}"))
    loads = {row["load"].value: (int(row["added"].value), int(row["removed"].value))
             for row in rows}
    assert loads == {first_load["load"]: (len(first), 0),
                     last["load"]: (len(added), len(removed))}
    unchanged = target.run("load", str(changed), "--graph", name)
    assert "unchanged since the last load" in unchanged.stderr.decode()


def test_a_failed_load_leaves_the_store_as_it_was(target: Target, practices_csv: Path,
                                                  tmp_path: Path) -> None:
    """A file the shapes refuse (replacing a graph, or as a new one) exits 1 and the whole
    store, provenance included, dumps the same before and after."""
    name = unique("kept")
    target.run("load", str(practices_csv), "--graph", name)
    before = target.run("export", "--format", "nq").stdout
    for bad, graph in ((ROOT / "invalid" / "practice-no-title.ttl", name),
                       (ROOT / "fixtures" / "practices-invalid.json", unique("never"))):
        refused = target.run("load", str(bad), "--graph", graph, expect=1)
        assert "not loaded; the store is unchanged" in refused.stderr.decode()
        after = target.run("export", "--format", "nq").stdout
        assert sorted(after.splitlines()) == sorted(before.splitlines())
    with target.store() as store:
        assert not store.has_graph(graph)


def test_a_store_that_cannot_be_used_is_a_clear_error(target: Target, tmp_path: Path) -> None:
    """Exit 2 with a message saying what is wrong, never a traceback: a query the store
    cannot read, an embedded store another process holds, a server that cannot be reached,
    credentials it refuses (and the password never shown)."""
    def refused(*args: str, flags: list[str] | None = None, env: dict | None = None) -> str:
        other = Target(target.name, flags or target.flags, env or target.env)
        text = other.run(*args, expect=2).stderr.decode()
        assert "Traceback" not in text, text
        return text

    assert "not valid SPARQL" in refused("query", "SELECT * WHERE { ?s ?p }")
    if target.backend is None:
        with target.store():
            assert "in use" in refused("stats")
        return
    closed = re.sub(r":\d+/", f":{free_port()}/", target.backend.query_url)  # none listens
    assert "cannot reach the server" in refused(
        "stats", flags=["--backend", "sparql", "--backend-query-url", closed])
    if target.backend.user:
        wrong = "not-the-password-Zq7"
        text = refused("load", str(things(tmp_path / "t.nt", range(3))), "--graph",
                       unique("denied"), env={"PRACTICEBANK_BACKEND_PASSWORD": wrong})
        assert "refused the credentials" in text and wrong not in text


# -- SIGKILL during a load ------------------------------------------------------------------

KILLED_BASE = 30_000  # things in the big version: 60,000 triples, ~6.5 MB (staged on a remote)
#: On a remote, a replacement also writes its history (four triples per triple changed) in the
#: same operation; a quarter of the things keeps that operation the size it was before, so
#: that a kill rarely lands inside it (Virtuoso may keep a killed client's transaction and
#: its locks, and the next load waits on them).
KILLED_BASE_REMOTE = 7_500


def things(path: Path, numbers: range) -> Path:
    """Valid N-Triples fast to validate (no shape targets them): typed, labelled things."""
    with path.open("w", encoding="utf-8") as f:
        for i in numbers:
            s = f"<{ID}thing/killed-{i}>"
            f.write(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EX}Thing> .\n"
                    f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "Thing {i}"@en .\n')
    return path


def staging_graphs(store: Store) -> list[str]:
    if isinstance(store, PracticeStore):
        return [g.value for g in store.ox.named_graphs() if g.value.startswith(STAGING_PREFIX)]
    pattern = "{ }" if store.engine.empty_graphs else "{ ?s ?p ?o }"
    return [row["g"].value for row in store.query(
        f'SELECT DISTINCT ?g WHERE {{ GRAPH ?g {pattern} FILTER STRSTARTS(STR(?g), '
        f'"{STAGING_PREFIX}") }}')]


def wait_for(what: Callable[[], bool], process: subprocess.Popen, timeout: float = 180) -> bool:
    """Poll ``what`` until it holds (True) or the process ended first (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.02)
    raise AssertionError("the load neither got there nor ended")


def test_sigkill_during_a_load_is_all_or_nothing(target: Target, tmp_path: Path) -> None:
    """Kill -9 a large load: early (reading and validating), once its data reaches the
    server (uploading into staging graphs), once it is all there (the one operation that
    makes the change) and once the graph has changed (the tidying after it, which on
    Virtuoso is a request of its own); on the embedded store, at moments spread over its
    run. The graph is always exactly the old or exactly the new content, the next load
    drops what a killed one left, and the last load completes."""
    name = unique("killed")
    versions = {"small": things(tmp_path / "small.nt", range(0, 2_000)),
                "big": things(tmp_path / "big.nt", range(1_000, 1_000 + (
                    KILLED_BASE if target.backend is None else KILLED_BASE_REMOTE)))}
    content = {key: parse_nt(path.read_bytes()) for key, path in versions.items()}
    target.run("load", str(versions["small"]), "--graph", name)
    current = "small"
    remote = target.backend is not None
    moments = (["early", "uploading", "uploaded", "changed"] if remote
               else ["early", 1.1, 1.4])
    killed_running = left_behind = 0
    for moment in moments:
        wanted = "big" if current == "small" else "small"
        process = target.start("load", str(versions[wanted]), "--graph", name)
        try:
            # the embedded store is the load's alone while it runs (a lock): only time tells
            with target.store() if remote else nullcontext() as store:
                running = _reach(moment, store, process, name, len(content[wanted]),
                                 len(content[wanted] - content[current]))
            if running:
                os.kill(process.pid, signal.SIGKILL)
                killed_running += 1
            returned = process.wait(timeout=120)
        finally:  # never leave a load running into the shared server
            if process.poll() is None:
                process.kill()
                process.wait()
            said = stderr_of(process)
        assert returned in (-signal.SIGKILL, 0), f"load failed ({returned}) at {moment}:\n{said}"
        with target.store() as store:  # the embedded store recovers as it opens
            if remote:
                until_quiet(store, name)
            held = triples_of(store, name)
            assert held in (content["small"], content["big"]), (
                f"killed at {moment}: {len(held)} triples, neither version")
            current = "small" if held == content["small"] else "big"
            leftovers = staging_graphs(store)
            left_behind += bool(leftovers)
            if target.folder is not None:
                assert not (target.folder / JOURNAL_NAME).exists()
    assert killed_running >= 2, "the loads ended before they could be killed"
    if remote:
        assert left_behind, "no kill caught an upload: make the file bigger"
    wanted = "big" if current == "small" else "small"
    final = target.run("load", str(versions[wanted]), "--graph", name)
    if leftovers:  # (an upload the server was still taking in may show up later)
        assert "staging graph(s) that a stopped load left" in final.stderr.decode()
    with target.store() as store:
        assert triples_of(store, name) == content[wanted]
        assert staging_graphs(store) == []
        assert store.last_load(name)["sha"] == hashlib.sha256(
            versions[wanted].read_bytes()).hexdigest()


def test_sigkill_during_a_fill_leaves_the_graph_whole_or_empty(target: Target,
                                                               tmp_path: Path) -> None:
    """Kill -9 a large load into a graph that holds nothing, which is filled in place (the
    embedded store's bulk load; on a remote, uploaded straight into the graph under a
    journal): once the fill is journaled, and once the graph holds data but its load is
    not yet committed (on a remote; the embedded store is the load's alone while it runs).
    Once what a stopped load left is dealt with (the embedded store as it opens; a remote
    by the next load or ``serve``, here ``tidy``), the graph holds nothing or everything,
    with its provenance when everything, and no staging graph is left."""
    path = things(tmp_path / "big.nt", range(KILLED_BASE))
    content = parse_nt(path.read_bytes())
    remote = target.backend is not None
    caught = 0
    for moment in (["journaled", "filled"] if remote else ["journaled"]):
        name = unique("filled")
        process = target.start("load", str(path), "--graph", name)
        try:
            with target.store() if remote else nullcontext() as store:
                if not remote:
                    running = wait_for((target.folder / JOURNAL_NAME).exists, process)
                elif moment == "journaled":
                    running = wait_for(lambda: bool(staging_graphs(store)), process)
                else:
                    running = wait_for(lambda s=store, n=name: staging_graphs(s) != []
                                       and s.has_graph(n), process)
            if running:
                os.kill(process.pid, signal.SIGKILL)
                caught += 1
            returned = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            said = stderr_of(process)
        assert returned in (-signal.SIGKILL, 0), f"load failed ({returned}) at {moment}:\n{said}"
        with target.store() as store:
            if isinstance(store, RemoteStore):
                store.tidy()
            held = triples_of(store, name)
            assert held in (set(), content), f"killed at {moment}: {len(held)} triples"
            assert (store.last_load(name) is not None) == bool(held)
            assert staging_graphs(store) == []
            if running and not held:
                assert store.recovered == name
    assert caught, "every load ended before it could be killed"


def until_quiet(store: Store, name: str, timeout: float = 150) -> None:
    """Wait until the server has finished what a killed load sent it. A server goes on
    with an update whose client was killed; the next load would meet it (and wait for its
    locks, or be chosen as a deadlock's victim and send its update again: tested with a
    stand-in in test_remote_store.py), which on a loaded machine can outlast this test's
    patience. Quiet is the graph and the staging graphs unchanged over two seconds."""
    def state() -> tuple:
        sizes = tuple(sorted((g, int(next(iter(store.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")))["n"].value))
            for g in staging_graphs(store)))
        return store.graph_size(name), sizes

    end, last, same = time.monotonic() + timeout, None, 0
    while time.monotonic() < end and same < 4:
        now = state()
        same = same + 1 if now == last else 0
        last = now
        time.sleep(0.5)


def _reach(moment: str | float, store: Store | None, process: subprocess.Popen, name: str,
           size: int, change: int) -> bool:
    """Wait for ``moment`` of the load ``process`` into graph/``name`` (``size`` triples
    when done, ``change`` of them added); False when it ended first."""
    if moment == "early":
        time.sleep(0.7)  # the interpreter is up, the file being read and checked
        return process.poll() is None
    if isinstance(moment, float):
        time.sleep(moment)
        return process.poll() is None
    if moment == "uploading":
        return wait_for(lambda: bool(staging_graphs(store)), process)
    if moment == "changed":  # the graph is new; its staging graphs may not be dropped yet
        return wait_for(lambda: store.graph_size(name) == size, process)

    def all_there() -> bool:  # the staging graph of the additions holds all of them
        sizes = [int(next(iter(store.query(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")))["n"].value)
            for g in staging_graphs(store)]
        return any(size >= change for size in sizes)

    return wait_for(all_there, process)


# -- the endpoint ---------------------------------------------------------------------------

@dataclass
class Served:
    """A running ``practicebank serve`` on one store, and how to reach that store."""

    name: str
    server: LiveServer
    target: Target

    def url(self, path: str, **params: str) -> str:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return f"{self.server.base}{path}{query}"

    def put(self, graph: str, data: bytes, content_type: str = "text/turtle", *,
            method: str = "PUT", token: str | None = TOKEN) -> int:
        headers = {"Content-Type": content_type}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _, body = self.server.request(method, self.url("/store", graph=graph),
                                              body=data, headers=headers)
        return status

    def get(self, graph: str, accept: str = "application/n-triples"
            ) -> tuple[int, set[ox.Triple]]:
        status, headers, body = self.server.request(
            "GET", self.url("/store", graph=graph), headers={"Accept": accept})
        if status != 200:
            return status, set()
        fmt = ox.RdfFormat.from_media_type(headers["Content-Type"].split(";")[0])
        return status, {q.triple for q in ox.parse(body, format=fmt)}

    def delete(self, graph: str) -> int:
        status, _, _ = self.server.request(
            "DELETE", self.url("/store", graph=graph),
            headers={"Authorization": f"Bearer {TOKEN}"})
        return status

    def select(self, query: str) -> list[dict[str, str]]:
        status, _, body = self.server.query(query)
        assert status == 200, body
        return [{k: v["value"] for k, v in row.items()}
                for row in json.loads(body)["results"]["bindings"]]

    def update(self, text: str, **kwargs) -> tuple[int, bytes]:
        status, _, body = self.server.update(text, **kwargs)
        return status, body


@pytest.fixture(scope="module", params=BACKENDS)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Served]:
    """``practicebank serve`` on each store, one per module: on an empty folder of its own,
    or on the session's server (every test drops the graphs it wrote)."""
    tmp = tmp_path_factory.mktemp(f"serve-{request.param}")
    if request.param == "embedded":
        target = Target("embedded", ["--store", str(tmp / "store")], folder=tmp / "store")
        flags: list[str] = []
    else:
        target = remote_target(request.getfixturevalue(f"{request.param}_backend"))
        flags = target.flags
    with LiveServer(tmp / "store", tmp, *flags, env=target.env) as server:
        yield Served(request.param, server, target)


@pytest.fixture
def graphs(served: Served) -> Iterator[Callable[[str], str]]:
    """Names for this test's graphs (``graph/…`` data graphs when asked for ``data:…``);
    each is deleted through the endpoint afterwards."""
    named: list[str] = []

    def name(stem: str) -> str:
        kind, _, rest = stem.rpartition(":")
        iri = (graph_node(unique(rest)).value if kind == "data"
               else f"{EX}{uuid.uuid4().hex[:8]}/{rest}")
        named.append(iri)
        return iri

    yield name
    for iri in named:
        assert served.delete(iri) in (204, 404)


def turtle(graph_stem: str, n: int = 3) -> tuple[bytes, set[ox.Triple]]:
    """Small Turtle of ``n`` things with a label (one in Welsh) and a number each."""
    text = f"@prefix ex: <{EX}> .\n" + "".join(
        f'ex:{graph_stem}{i} a ex:Thing ; ex:n {i} ; '
        f'<http://www.w3.org/2000/01/rdf-schema#label> "thing {i}"@{"cy" if i == 1 else "en"} .\n'
        for i in range(n))
    return text.encode(), {q.triple for q in ox.parse(text.encode(),
                                                        format=ox.RdfFormat.TURTLE)}


def test_queries_in_every_format(served: Served, graphs) -> None:
    g = graphs("q")
    data, triples = turtle("q")
    assert served.put(g, data) == 201
    select = (f"SELECT ?s ?label ?n WHERE {{ GRAPH <{g}> {{ ?s <{EX}n> ?n ; "
              "<http://www.w3.org/2000/01/rdf-schema#label> ?label } } ORDER BY ?n")
    expected = [(f"{EX}q{i}", f"thing {i}", str(i)) for i in range(3)]
    for accept, fmt in (("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                        ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                        ("text/tab-separated-values", ox.QueryResultsFormat.TSV)):
        status, headers, body = served.server.query(select, accept=accept)
        assert status == 200 and headers["Content-Type"].startswith(accept), (accept, body)
        rows = [(r["s"].value, r["label"].value, r["n"].value)
                for r in ox.parse_query_results(body, format=fmt)]
        assert rows == expected, accept
        languages = [r["label"].language for r in ox.parse_query_results(body, format=fmt)]
        assert languages == ["en", "cy", "en"], accept
    status, headers, body = served.server.query(select, format="csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(body.decode()))) == [["s", "label", "n"],
                                                            *map(list, expected)]
    for accept in ("application/sparql-results+json", "application/sparql-results+xml"):
        for query, answer in ((f"ASK {{ GRAPH <{g}> {{ <{EX}q1> <{EX}n> 1 }} }}", True),
                              (f"ASK {{ GRAPH <{g}> {{ <{EX}q1> <{EX}n> 2 }} }}", False)):
            status, _, body = served.server.query(query, accept=accept)
            fmt = ox.QueryResultsFormat.from_media_type(accept)
            assert status == 200 and bool(ox.parse_query_results(body, format=fmt)) is answer
    construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
    for accept in ("text/turtle", "application/n-triples", "application/rdf+xml",
                   "application/ld+json"):
        status, headers, body = served.server.query(construct, accept=accept)
        assert status == 200 and headers["Content-Type"].startswith(accept), (accept, body)
        fmt = ox.RdfFormat.from_media_type(accept)
        assert {q.triple for q in ox.parse(body, format=fmt)} == triples, accept
    status, headers, body = served.server.query(f"DESCRIBE <{EX}q2>", format="nt")
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert {t for t in triples if t.subject.value == f"{EX}q2"} <= parse_nt(body)
    status, _, body = served.server.query("SELECT * WHERE { ?s ?p }")
    assert status == 400 and json.loads(body)["error"] == "syntax_error"


def test_the_dataset_a_query_names(served: Served, graphs) -> None:
    """The union of the graphs by default; ``FROM``/``FROM NAMED`` in the query, or the
    protocol's ``default-graph-uri``/``named-graph-uri``, name the dataset instead."""
    one, two = graphs("one"), graphs("two")
    for g, value in ((one, 1), (two, 2)):
        assert served.put(g, f"<{EX}s> <{EX}p> {value} .".encode()) == 201
    pattern = f"<{EX}s> <{EX}p> ?o"

    def objects(query: str, **params: str) -> list[str]:
        status, _, body = served.server.query(query, **params)
        assert status == 200, body
        return sorted(b["o"]["value"] for b in json.loads(body)["results"]["bindings"])

    assert objects(f"SELECT ?o WHERE {{ {pattern} }}") == ["1", "2"]
    assert objects(f"SELECT ?o FROM <{one}> WHERE {{ {pattern} }}") == ["1"]
    assert objects(f"SELECT ?o FROM NAMED <{two}> WHERE {{ GRAPH ?g {{ {pattern} }} }}") == ["2"]
    assert objects(f"SELECT ?o WHERE {{ {pattern} }}", **{"default-graph-uri": two}) == ["2"]
    assert objects(f"SELECT ?o WHERE {{ GRAPH ?g {{ {pattern} }} }}",
                   **{"named-graph-uri": one}) == ["1"]


def test_graph_store_put_get_delete(served: Served, graphs) -> None:
    g = graphs("gsp")
    first, first_triples = turtle("a")
    assert served.get(g)[0] == 404
    assert served.put(g, first) == 201
    assert served.get(g) == (200, first_triples)
    assert served.get(g, "text/turtle") == (200, first_triples)
    second, second_triples = turtle("b", 2)
    assert served.put(g, second) == 204
    assert served.get(g) == (200, second_triples)
    third, third_triples = turtle("c", 1)
    assert served.put(g, third, method="POST") == 204
    assert served.get(g) == (200, second_triples | third_triples)
    assert served.delete(g) == 204
    assert served.get(g)[0] == 404 and served.delete(g) == 404
    # a graph above Virtuoso's 10,000-row answers reads back whole
    big = graphs("big")
    rows = "".join(f'<{EX}big/{i}> <{EX}n> "{i}" .\n' for i in range(10_500)).encode()
    assert served.put(big, rows, "application/n-triples") == 201
    status, held = served.get(big)
    assert status == 200 and held == parse_nt(rows)
    # the server's counts are of our graphs only (not Virtuoso's own, ~6,000 triples)
    health = json.loads(served.server.request("GET", served.url("/health"))[2])
    assert health["triples"] == 10_500


def test_insert_data_and_delete_data(served: Served, graphs) -> None:
    g, h = graphs("data"), graphs("other")
    status, body = served.update(
        f"INSERT DATA {{ GRAPH <{g}> {{ <{EX}s> <{EX}p> 1, 2, 3 }} "
        f"GRAPH <{h}> {{ <{EX}s> <{EX}p> 'x'@en }} }}")
    assert status == 204, body
    assert served.get(g) == (200, parse_nt(b"".join(
        b'<%ss> <%sp> "%d"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
        % (EX.encode(), EX.encode(), i) for i in (1, 2, 3))))
    status, body = served.update(f"DELETE DATA {{ GRAPH <{g}> {{ <{EX}s> <{EX}p> 2 }} "
                                 f"GRAPH <{h}> {{ <{EX}s> <{EX}p> 'x'@en }} }}")
    assert status == 204, body
    assert [r["o"] for r in served.select(
        f"SELECT ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }} ORDER BY ?o")] == ["1", "3"]
    assert served.get(h)[1] == set()


def test_delete_insert_where(served: Served, graphs) -> None:
    g, copy = graphs("where"), graphs("copy")
    assert served.put(g, turtle("w")[0]) == 201
    status, body = served.update(
        f"WITH <{g}> DELETE {{ ?s <{EX}n> ?n }} INSERT {{ ?s <{EX}n> ?m }} "
        f"WHERE {{ ?s <{EX}n> ?n BIND (?n + 10 AS ?m) }}")
    assert status == 204, body
    assert [r["n"] for r in served.select(
        f"SELECT ?n WHERE {{ GRAPH <{g}> {{ ?s <{EX}n> ?n }} }} ORDER BY ?n")] == [
        "10", "11", "12"]
    # several operations in one request: each sees what the one before did
    status, body = served.update(
        f"INSERT DATA {{ GRAPH <{g}> {{ <{EX}extra> <{EX}n> 99 }} }} ;\n"
        f"INSERT {{ GRAPH <{copy}> {{ ?s a <{EX}Copied> }} }} "
        f"WHERE {{ GRAPH <{g}> {{ ?s <{EX}n> ?n FILTER (?n > 10) }} }} ;\n"
        f"DELETE WHERE {{ GRAPH <{g}> {{ <{EX}w0> ?p ?o }} }}")
    assert status == 204, body
    assert {r["s"] for r in served.select(
        f"SELECT ?s WHERE {{ GRAPH <{copy}> {{ ?s a <{EX}Copied> }} }}")} == {
        f"{EX}w1", f"{EX}w2", f"{EX}extra"}
    assert served.select(f"SELECT * WHERE {{ GRAPH <{g}> {{ <{EX}w0> ?p ?o }} }}") == []


def practice(iri: str) -> bytes:
    slug = iri.rsplit("/", 1)[1]
    return (f"<{iri}> a <{PB}Practice> ; <http://purl.org/dc/terms/title> \"Checked\"@en ;"
            f' <http://purl.org/dc/terms/identifier> "{slug}" ;'
            f' <http://purl.org/dc/terms/abstract> "A practice the shapes check."@en ;'
            f" <http://www.w3.org/ns/prov#wasDerivedFrom> <https://example.org/{slug}> ;"
            f" <{PB}sourceKind> <https://w3id.org/practicebank/concept/source-kind/secondary>"
            " .\n").encode()


def test_a_write_breaking_the_shapes_is_refused(served: Served, graphs) -> None:
    g = graphs("data:checked")
    p = f"{ID}practice/checked-{uuid.uuid4().hex[:8]}"
    assert served.put(g, practice(p)) == 201
    status, before = served.get(g)
    assert status == 200 and len(before) == 6
    title = "<http://purl.org/dc/terms/title>"
    for update in (f"DELETE WHERE {{ GRAPH <{g}> {{ <{p}> {title} ?t }} }}",
                   f'INSERT DATA {{ GRAPH <{g}> {{ <{p}> {title} "Second"@en }} }}',
                   f"WITH <{g}> DELETE {{ ?p {title} ?t }} WHERE {{ ?p {title} ?t }}"):
        status, body = served.update(update)
        assert status == 422, body
        answer = json.loads(body)
        assert answer["error"] == "validation_failed" and answer["problems"], answer
        assert any("title" in problem["message"] for problem in answer["problems"])
        assert served.get(g) == (200, before)
    assert served.put(g, practice(p).replace(b'"Checked"@en', b'"Checked"@en, "Twice"@en')) == 422
    assert served.get(g) == (200, before)


def test_writes_need_the_token(served: Served, graphs) -> None:
    g = graphs("locked")
    for token in (None, "not-the-token"):
        status, body = served.update(f"INSERT DATA {{ GRAPH <{g}> {{ <{EX}s> <{EX}p> 1 }} }}",
                                     token=token)
        assert status == 401, body
        assert served.put(g, turtle("x")[0], token=token) == 401
    assert served.get(g)[0] == 404
    assert served.put(g, turtle("x")[0]) == 201
    status, _, _ = served.server.request("DELETE", served.url("/store", graph=g))
    assert status == 401 and served.get(g)[0] == 200


def test_a_query_past_its_deadline_is_a_504(served: Served) -> None:
    """A query of ~20 million rows with ``timeout=1``: 504 in about a second (the worker is
    killed; a remote is told to stop, or the connection is closed), then the endpoint
    answers at once."""
    values = " ".join(str(i) for i in range(270))
    heavy = (f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?a {{ {values} }} VALUES ?b "
             f"{{ {values} }} VALUES ?c {{ {values} }} FILTER (?a * ?b != ?c + 100000) }}")
    started = time.monotonic()
    status, _, body = served.server.query(heavy, timeout="1", client_timeout=20)
    took = time.monotonic() - started
    assert status == 504 and json.loads(body)["error"] == "deadline_exceeded", body
    assert took < 5, took
    started = time.monotonic()
    status, _, body = served.server.query("ASK {}")
    assert status == 200 and json.loads(body)["boolean"] is True
    assert time.monotonic() - started < 3


def test_a_load_while_serving(served: Served, graphs, practices_csv: Path) -> None:
    """The embedded store has one writer, the server, so a load is refused while it runs.
    A remote server is shared: a load goes in, and the endpoint shows it at once, however
    the client caches (no 304 from what this server last knew)."""
    count = f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ GRAPH ?g {{ ?p a <{PB}Practice> }} }}"
    status, headers, body = served.server.query(count, accept=JSON_RESULTS)
    assert status == 200
    before, etag = int(json.loads(body)["results"]["bindings"][0]["n"]["value"]), headers["ETag"]
    status, headers, _ = served.server.request(
        "GET", served.url("/sparql", query=count),
        headers={"Accept": JSON_RESULTS, "If-None-Match": etag})
    assert status == (304 if served.target.backend is None else 200)
    g = graphs("data:served")
    name = g.rsplit("/", 1)[1]
    if served.target.backend is None:
        refused = served.target.run("load", str(practices_csv), "--graph", name, expect=2)
        assert b"in use" in refused.stderr, refused.stderr
        return
    with served.target.store() as store:
        provenance_existed = PROVENANCE in store.named_graphs()
    try:
        served.target.run("load", str(practices_csv), "--graph", name)
        status, _, body = served.server.request(
            "GET", served.url("/sparql", query=count),
            headers={"Accept": JSON_RESULTS, "If-None-Match": etag})
        assert status == 200, body
        practices = {t.subject for t in expected_load(practices_csv, name)
                     if t.object.value == PB + "Practice"}
        after = int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
        assert after == before + len(practices)
    finally:
        with served.target.store() as store:
            forget(store, {g} if provenance_existed else {g, PROVENANCE.value},
                   provenance_existed)


# -- the W3C SPARQL Protocol manifest through the endpoint ----------------------------------

#: Protocol tests a remote engine cannot pass through our endpoint, for reasons that are the
#: engine's, with the reason; each is checked to still fail, so the list cannot go stale.
ENGINE_EXCEPTIONS: dict[tuple[str, str], str] = {}

MANIFEST_GRAPHS = sorted(
    set(re.findall(r"GRAPH\s*<(http[^>]+)>", (W3C / "protocol" / "manifest.ttl").read_text()))
    | {name.value for case in PROTOCOL for name, _ in protocol_data(case)})


@pytest.mark.parametrize("case", PROTOCOL, ids=name_of)
def test_w3c_protocol(served: Served, case) -> None:
    """One test of the manifest, on a store holding only its data (set up and dropped
    through the endpoint's Graph Store)."""
    send = http_send(served.server.base, TOKEN)
    _drop_manifest_graphs(served)
    try:
        for graph, data in protocol_data(case):
            assert served.put(graph.value, data, "application/n-triples") == 201
        reason = ENGINE_EXCEPTIONS.get((served.name, name_of(case)))
        if reason is None:
            run_protocol_test(send, case)
        else:
            with pytest.raises(AssertionError):
                run_protocol_test(send, case)
    finally:
        _drop_manifest_graphs(served)


def _drop_manifest_graphs(served: Served) -> None:
    values = " ".join(f"<{g}>" for g in MANIFEST_GRAPHS)
    pattern = "{ ?s ?p ?o }" if served.name == "virtuoso" else "{ }"  # empty ones too
    held = served.select(f"SELECT DISTINCT ?g WHERE {{ VALUES ?g {{ {values} }} "
                         f"GRAPH ?g {pattern} }}")
    for row in held:
        assert served.delete(row["g"]) == 204


# -- a store that stops answering --------------------------------------------------------------

def test_a_store_that_does_not_answer_is_a_502_never_a_500(tmp_path: Path) -> None:
    """Reads, writes and the health probe, when nothing listens at the backend's URL: the
    endpoint says the store failed (502, 503 for /health) and never shows a traceback."""
    from endpoint_live import free_port

    from practicebank.endpoint import create_app

    url = f"http://127.0.0.1:{free_port()}/sparql"
    app = create_app({"STORE": RemoteStore(url, url, timeout=5), "WRITE_TOKEN": TOKEN})
    client = app.test_client()
    read = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
    assert read.status_code == 502 and read.get_json()["error"] == "backend_failed"
    write = client.put("/store", query_string={"graph": f"{EX}down"},
                       data=b"<urn:x:s> <urn:x:p> <urn:x:o> .\n",
                       headers={"Content-Type": "application/n-triples",
                                "Authorization": f"Bearer {TOKEN}"})
    assert write.status_code == 502, write.get_data()
    assert "nothing was changed" in write.get_json()["message"]
    update = client.post("/update", data="INSERT DATA { <urn:x:s> <urn:x:p> 1 }",
                         headers={"Content-Type": "application/sparql-update",
                                  "Authorization": f"Bearer {TOKEN}"})
    assert update.status_code == 502, update.get_data()
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["status"] == "store_unavailable"
    for response in (read, write, update, health):
        assert b"Traceback" not in response.get_data()
