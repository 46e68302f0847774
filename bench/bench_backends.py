"""Backend benchmark: the same load and the same research mix on the three store backends.

One command (not a test)::

    python bench/bench_backends.py [--triples 1000000] [--rounds 1] [--out DIR]
                                   [--before CHECKOUT]

It generates practices data (``bench/generate.py``; ~18.4 triples a practice, so 1 M triples
is ~54,000 practices, as N-Triples) and, on each backend in turn, loads it into a fresh
store with practicebank's own pipeline (``load_file``: parse, stage, validate, commit with
provenance), then runs the research mix of ``bench/bench_endpoint.py`` through
``practicebank serve`` on each:

* **embedded**: the on-disk Oxigraph store (``--store``), the default backend;
* **oxigraph serve**: ``--backend sparql`` on a throwaway ``oxigraph serve``;
* **Virtuoso**: ``--backend sparql`` on a throwaway Virtuoso 7 (the shared
  ``tools/virtuoso_server.sh`` makes it), Graph Store with HTTP Digest ``dba``/``dba``.

Why each measurement is made the way it is:

* **The engine's own bulk path is the yardstick** of a remote load: the issue's target is a
  remote load at least half as fast as a Graph Store POST of the same file into the same
  engine. That POST is sent by ``curl`` (not our client, so our client's costs are not in
  the yardstick) into a *fresh* server: a server that already holds the data has its
  dictionary of IRIs and literals filled, and would load the second copy faster. So every
  load and every bulk POST gets a server of its own, started from an empty database.
  For Oxigraph two bulk paths are measured: the plain POST (one transaction, what
  practicebank's uploads use, and the yardstick) and ``?no_transaction`` (its bulk loader).
  For Virtuoso, the one POST of the file and the same file in POSTs of 100,000 triples:
  Virtuoso 7.2.5's Graph Store loader intermittently stops answering in a POST of a million
  triples (measured: in about half the attempts, with ~738,000 triples stored and kept;
  the server idle, with threads waiting on locks; with the packaged ini settings too),
  while POSTs of 100,000 triples never did. The yardstick is the one POST when it
  completed, else the chunked one. The embedded store's yardstick is pyoxigraph's
  ``bulk_load`` into an on-disk store.
* **A hung request is tried again, and reported.** A bulk POST that gets no answer within
  60 s plus 1 s per 10,000 triples, and a remote load whose server stops answering (the
  client's write deadline: 600 s on Oxigraph, whose final swap of a million triples takes
  minutes; 120 s plus 1 s per 10,000 triples on Virtuoso), is counted as hung and run again
  on a fresh server, up to ``--attempts`` times; the report lists every such attempt.
* **Virtuoso is configured for the data**, in its ini (the same for the POST and the load):
  the packaged ``virtuoso.ini`` keeps 10,000 buffers (80 MB; it says itself that this "will
  not result in very good performance") and ``TransactionAfterImageLimit`` at its 50 MB
  default, which refuses a single change of ~1.2 M triples whole (SR325, remote_store.py).
  The benchmark sets ``NumberOfBuffers``/``MaxDirtyBuffers`` to the packaged file's own
  "4 GB free" line (340,000/250,000, ``--virtuoso-buffers``) and
  ``TransactionAfterImageLimit`` to 1.5 GB. ``ResultSetMaxRows`` (10,000) and
  ``MaxQueryExecutionTime`` (60 s) stay as packaged: practicebank is meant to cope with them.
* **Each load runs in a process of its own** (as in ``bench_load.py``), so its peak memory
  (``ru_maxrss``) and CPU time are that load's alone. The server's CPU time over the load is
  read from ``/proc``. A load's figures are checked: the graph must hold every triple.
* **Where a remote load's time goes** is measured in that process by wrapping the stage's
  steps and the SPARQL client's calls (nothing in practicebank is changed): reads before
  staging, parsing into the scratch store, the settle step (what is to be sent, as
  N-Triples), validation, and each request with the step it was made in. A load into an
  empty graph (every load here: each server is fresh) is uploaded straight into the graph
  by a thread that runs beside validation (practicebank/remote_fill.py): its requests are
  counted apart, and the commit is the wait for it and the one operation that commits. A
  load into a graph that holds data goes by a staging graph instead: the upload into it,
  the count that checks it, the swap ``DELETE/INSERT … WHERE`` and the drop.
* **The mix** is bench_endpoint's 1,000 research queries (``--mix`` takes the first N),
  sent by ``--clients`` processes of ``--connections`` keep-alive connections each to
  ``practicebank serve`` (``/sparql``) on each backend. This machine's speed drifts over
  minutes, so the mix is cut into ``--slices`` parts and each part runs on every backend in
  turn. Before timing, the first ``--check`` queries' answers on each remote are compared
  with the embedded store's (a difference is reported, not fatal); a query with LIMIT or
  OFFSET and no ORDER BY may rightly return other rows on another engine, so only its
  number of rows is compared. A kind of query whose first instance fails on some backend is
  left out on every backend and named in the report: its quick error answers would
  otherwise count as fast queries on that backend only.
* **Before the restructuring** (``--before CHECKOUT``, a ``git worktree`` of 1c79b22): the
  embedded load is measured again with that tree's own ``bench/bench_load.py``
  (``timed_load``, the function behind its table), imported from the tree by a
  ``practicebank`` namespace package of symlinks (that tree had no ``practicebank/`` core
  folder), on the same interpreter and third-party packages as this one. It runs right
  after the current code's load in every round, so the two are minutes apart at most.

If every attempt at a remote load fails, the figures of one that finished but could not be
counted are shown (marked unverified), or none; the mix then runs on a server filled by the
engine's chunked bulk path, and the report says so. Every server runs on loopback, on the
same 2-core machine as the clients (the 1-minute load average before and after the run is
printed, so that other work on the machine shows). Prints, and writes to
``DIR/bench_backends.md``: notes on anything that failed, the main table (load rates, bulk
rates, mix throughput and latency, errors), the targets' lines, the loads, the bulk paths,
and where the remote loads' time goes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import bench_endpoint as mix  # noqa: E402

TRIPLES_PER_PRACTICE = 18.4  # bench/generate.py's data, measured
GRAPH = "practices"
GRAPH_IRI = "https://w3id.org/practicebank/graph/practices"
EMBEDDED, OXIGRAPH, VIRTUOSO = "embedded", "oxigraph serve", "Virtuoso"
BACKENDS = (EMBEDDED, OXIGRAPH, VIRTUOSO)
BEFORE = "embedded, before (1c79b22)"
BULK_GRAPH = "urn:bench:bulk"
CHUNK = 100_000  # triples per POST of the chunked bulk path
DBA = ("dba", "dba")  # the packaged Virtuoso's default: loopback only
PASSWORD_ENV = "BENCH_BACKEND_PASSWORD"  # how a child gets the password (not in argv)


# -- servers ------------------------------------------------------------------------------------


@dataclass
class Server:
    """A running SPARQL server of ours: where to reach it and the process to stop."""

    engine: str
    process: subprocess.Popen
    query_url: str
    update_url: str
    store_url: str
    user: str = ""
    password: str = ""
    extra: str = ""  # query string added to Graph Store URLs by the bulk POST

    @property
    def pid(self) -> int:
        return self.process.pid

    def spec(self) -> dict:
        """What a child process needs to open a RemoteStore on it (no password)."""
        return {"query_url": self.query_url, "update_url": self.update_url,
                "store_url": self.store_url, "user": self.user}

    def stop(self) -> None:
        """End the server this benchmark started (its own process group), gracefully first."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def start_oxigraph(folder: Path) -> Server:
    """``oxigraph serve`` on a free port with an empty store in ``folder``; without
    ``--union-default-graph``, since practicebank asks for the union per query."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    folder.mkdir(parents=True, exist_ok=True)
    port = mix.free_port()
    with open(folder / "oxigraph.log", "wb") as log:
        process = subprocess.Popen([binary, "serve", "--location", str(folder / "data"),
                                    "--bind", f"127.0.0.1:{port}"],
                                   stdout=subprocess.DEVNULL, stderr=log,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    mix.wait_up(f"{base}/query?query=ASK%7B%7D", process)
    return Server(OXIGRAPH, process, f"{base}/query", f"{base}/update", f"{base}/store")


def shared_folder() -> Path:
    """The project's ``shared/`` folder (``$PRACTICEBANK_SHARED`` or ``../shared``), as the
    tests find it."""
    for candidate in (os.environ.get("PRACTICEBANK_SHARED"), ROOT.parent / "shared"):
        if candidate and (Path(candidate) / "tools" / "virtuoso_server.sh").is_file():
            return Path(candidate)
    sys.exit("shared/tools/virtuoso_server.sh not found: set PRACTICEBANK_SHARED")


def set_ini(text: str, values: dict[tuple[str, str], str]) -> str:
    """``text`` (an ini file) with each ``(section, key)`` of ``values`` set, the key added at
    the end of its section when the file lacks it."""
    out: list[str] = []
    section: str | None = None
    done: set[tuple[str, str]] = set()

    def add_missing(where: str | None) -> None:
        for (sec, key), value in values.items():
            if sec == where and (sec, key) not in done:
                out.append(f"{key} = {value}")
                done.add((sec, key))

    for line in text.splitlines():
        header = re.match(r"\s*\[(.+)\]", line)
        if header:
            add_missing(section)
            section = header.group(1)
        elif "=" in line and not line.lstrip().startswith(";"):
            key = line.split("=")[0].strip()
            if (section, key) in values:
                line = f"{key} = {values[(section, key)]}"
                done.add((section, key))
        out.append(line)
    add_missing(section)
    return "\n".join(out) + "\n"


class VirtuosoFactory:
    """Fresh Virtuoso servers from one prepared empty database.

    The shared script makes a database with its grants (SPARQL Update for the anonymous
    user) and an ini derived from the packaged one; it is stopped, the ini is given the
    benchmark's buffers and transaction limit, and the folder becomes a template that each
    server copies (an empty database is ~70 MB; copying beats the script's ~8 s setup)."""

    def __init__(self, folder: Path, buffers: int) -> None:
        self.folder, self.buffers = folder, buffers
        self.template = folder / "virtuoso-template"
        self.count = 0
        if shutil.which("virtuoso-t") is None:
            sys.exit("virtuoso-t not found: apt-get install virtuoso-opensource")
        script = shared_folder() / "tools" / "virtuoso_server.sh"
        http, isql = mix.free_port(), mix.free_port()
        started = subprocess.run(["bash", str(script), "start", str(self.template), str(http),
                                  str(isql)], capture_output=True, text=True, timeout=300)
        subprocess.run(["bash", str(script), "stop", str(self.template)], capture_output=True,
                       timeout=120)
        if started.returncode != 0:
            sys.exit(f"Virtuoso did not start: {started.stderr[-800:]}")
        (self.template / "db" / "virtuoso.lck").unlink(missing_ok=True)

    def settings(self) -> dict[tuple[str, str], str]:
        return {("Parameters", "NumberOfBuffers"): str(self.buffers),
                ("Parameters", "MaxDirtyBuffers"): str(self.buffers * 250 // 340),
                ("Parameters", "TransactionAfterImageLimit"): "1500000000"}

    def start(self) -> Server:
        self.count += 1
        folder = self.folder / f"virtuoso-{self.count}"
        shutil.copytree(self.template / "db", folder / "db")
        http, isql = mix.free_port(), mix.free_port()
        while isql == http:
            isql = mix.free_port()
        text = (self.template / "virtuoso.ini").read_text().replace(str(self.template),
                                                                      str(folder))
        text = set_ini(text, {**self.settings(), ("Parameters", "ServerPort"): str(isql),
                              ("HTTPServer", "ServerPort"): str(http)})
        (folder / "virtuoso.ini").write_text(text)
        with open(folder / "server.log", "wb") as log:
            process = subprocess.Popen(["virtuoso-t", "-f", "-c", str(folder / "virtuoso.ini")],
                                       cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        base = f"http://127.0.0.1:{http}"
        mix.wait_up(f"{base}/sparql?query=ASK%7B%7D", process, timeout=300)
        return Server(VIRTUOSO, process, f"{base}/sparql", f"{base}/sparql",
                      f"{base}/sparql-graph-crud-auth", *DBA)


def remote_store(spec: dict, password: str = ""):
    from practicebank.remote_store import RemoteStore

    return RemoteStore(spec["query_url"], spec["update_url"], spec["store_url"],
                       user=spec["user"] or None, password=password or None,
                       write_timeout=spec.get("write_timeout", 600.0),
                       timeout=spec.get("timeout", 60.0))


def count_graph(server: Server, graph: str) -> int:
    store = remote_store(server.spec(), server.password)
    try:
        rows = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        return int(next(iter(rows))["n"].value)
    finally:
        store.close()


# -- the engines' own bulk paths ------------------------------------------------------------------


def curl_post(server: Server, sources: list[Path], max_time: float,
              graph: str = BULK_GRAPH) -> tuple[float, str]:
    """Seconds for ``curl`` to POST ``sources`` one after the other into the bulk graph (the
    Graph Store Protocol's ``?graph=``), Digest credentials where the server has them, and
    "" or why it failed ("hung": no answer within ``max_time`` seconds). ``Expect:`` is
    emptied so curl does not wait a second for a ``100 Continue`` some servers never send."""
    url = f"{server.store_url}?graph={urllib.parse.quote(graph, safe='')}"
    started = time.perf_counter()
    for source in sources:
        command = ["curl", "-sS", "-f", "-o", "/dev/null", "-X", "POST", "--max-time",
                   f"{max_time:.0f}", "-H", "Content-Type: application/n-triples",
                   "-H", "Expect:", "--data-binary", f"@{source}", url + server.extra]
        if server.user:
            command[1:1] = ["--digest", "-u", f"{server.user}:{server.password}"]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode == 28:  # curl's "operation timed out"
            return time.perf_counter() - started, f"hung (no answer within {max_time:.0f} s)"
        if done.returncode != 0:
            sys.exit(f"bulk POST to {server.engine} failed: {done.stderr.strip()[:500]}")
    return time.perf_counter() - started, ""


@dataclass
class BulkPath:
    """One of an engine's own bulk paths: how to start its server and what to send."""

    engine: str
    label: str
    start: Callable[[], Server]
    sources: list[Path]
    extra: str = ""  # query string added to the Graph Store URL


def bulk_remote(path: BulkPath, triples: int, max_time: float) -> dict:
    """One bulk POST into a fresh server: its time, checked to have stored every triple, or
    (when it hung) how many triples the server holds after the client gave up."""
    server = path.start()
    server.extra = path.extra
    try:
        cpu = mix.tree_cpu_seconds(server.pid)
        seconds, failed = curl_post(server, path.sources, max_time)
        server_cpu = mix.tree_cpu_seconds(server.pid) - cpu
        stored = count_graph(server, BULK_GRAPH)
    finally:
        server.stop()
    if not failed and stored != triples:
        sys.exit(f"{server.engine} {path.label}: {stored} triples stored of {triples}")
    return {"engine": path.engine, "path": path.label, "seconds": seconds,
            "server_cpu": server_cpu, "failed": failed, "stored": stored}


def split_file(source: Path, folder: Path, lines: int) -> list[Path]:
    """``source`` cut into files of ``lines`` N-Triples lines each (the chunked bulk path)."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    with source.open("rb") as f:
        while chunk := [line for _, line in zip(range(lines), f, strict=False)]:
            parts.append(folder / f"part-{len(parts):04d}.nt")
            parts[-1].write_bytes(b"".join(chunk))
    return parts


def bulk_embedded(source: str) -> dict:
    """pyoxigraph's ``bulk_load`` into a fresh on-disk store (in a child process)."""
    import pyoxigraph as ox

    folder = Path(tempfile.mkdtemp(prefix="pb-bench-bulk-"))
    try:
        store = ox.Store(str(folder / "store"))
        started = time.perf_counter()
        store.bulk_load(path=source, format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode(BULK_GRAPH))
        store.flush()
        seconds = time.perf_counter() - started
        del store
        return {"engine": EMBEDDED, "path": "pyoxigraph bulk_load (on disk)",
                "seconds": seconds, "server_cpu": 0.0, "failed": ""}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- one load, in a child process -----------------------------------------------------------------


class Probe:
    """Where a load's time goes: the current step of the pipeline, and every request the
    SPARQL client makes with the step it was made in. Installed by wrapping attributes of
    this process's objects and classes; practicebank itself is not changed."""

    def __init__(self) -> None:
        self.step = "before staging"
        self.steps: dict[str, float] = {}
        self.calls: dict[tuple[str, str], list[float]] = {}

    def time_step(self, owner: object, attribute: str, step: str) -> None:
        original = getattr(owner, attribute)

        def wrapped(*args, **kwargs):
            outer, self.step = self.step, step
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.steps[step] = self.steps.get(step, 0.0) + time.perf_counter() - started
                self.step = outer

        setattr(owner, attribute, wrapped)

    def time_calls(self, client: object) -> None:
        for name in ("query", "update", "graph_post"):
            original = getattr(client, name)

            def wrapped(*args, _original=original, _name=name, **kwargs):
                started = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    step = (self.step if threading.current_thread() is threading.main_thread()
                            else UPLOAD_THREAD)
                    key = (step, request_kind(_name, args))
                    self.calls.setdefault(key, []).append(time.perf_counter() - started)

            setattr(client, name, wrapped)


def request_kind(method: str, args: tuple) -> str:
    """A request's part in the load, from its method and text."""
    text = str(args[0]) if args else ""
    if method == "graph_post":
        into = "a staging graph" if text.startswith(STAGING) else "the graph itself"
        return f"upload into {into} (Graph Store POST)"
    upper = text.upper()
    if method == "update" and FILL_JOURNAL in upper:
        return ("write the fill's journal" if upper.lstrip().startswith("INSERT DATA")
                else "commit the fill (journal out, provenance in)")
    if method == "update":
        if "WHERE" in upper:
            return "swap (DELETE/INSERT … WHERE from the staging graphs)"
        if upper.lstrip().startswith("DROP"):
            return "drop the staging graphs"
        return "the change as one update request (INSERT DATA)"
    if "COUNT(" in upper.replace(" ", ""):
        return "count (after an upload: the check that it stored something)"
    if "URN:PRACTICEBANK:STAGING:" in upper:
        return "look for stale staging graphs"
    return "other query"


def run_load(spec: dict) -> dict:
    """Load the N-Triples file into a fresh store (embedded at ``spec['store']``, or the
    server ``spec`` names) with practicebank's pipeline; the row of figures."""
    from practicebank.loaders import load as pipeline
    from practicebank.remote_fill import RemoteFill
    from practicebank.sparql_client import RemoteTimeout
    from practicebank.staging import ScratchStage

    probe = Probe()
    warnings: list[str] = []  # what practicebank logged (a cleanup that timed out …)
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: warnings.append(f"{probe.step}: {record.getMessage()}")
    logging.getLogger("practicebank").addHandler(handler)
    if spec["kind"] == EMBEDDED:
        from practicebank.store import PracticeStore

        store = PracticeStore(spec["store"])
    else:
        store = remote_store(spec, os.environ.get(PASSWORD_ENV, ""))
        probe.time_calls(store.client)
        probe.time_step(ScratchStage, "add", "parse into the scratch store")
        for stage in (ScratchStage, RemoteFill):
            probe.time_step(stage, "settle", "settle (what is to be sent, as N-Triples)")
            probe.time_step(stage, "commit", "commit")
        probe.time_step(pipeline, "_validate", "validate")
    started = time.perf_counter()
    try:
        result = pipeline.load_file(store, Path(spec["source"]), graph=GRAPH)
    except RemoteTimeout as error:  # the server stopped answering: the caller may retry
        store.close()
        return {"failed": f"{error.method} {error.url}: {error.message}, in step "
                f"{probe.step!r}", "total": time.perf_counter() - started,
                "warnings": warnings}
    total = time.perf_counter() - started
    probe.step = "the count after the load"
    stored, unverified = None, ""
    for _ in range(3):  # a server busy after a large change may need longer than one query
        try:
            stored = store.graph_size(GRAPH)
            break
        except RemoteTimeout as error:
            unverified = f"{error.method} {error.url}: {error.message}"
    store.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    row = {"triples": result.triples, "stored": stored, "focus": result.focus,
           "total": total, **result.timings, "peak_mb": usage.ru_maxrss / 1024,
           "cpu": usage.ru_utime + usage.ru_stime, "steps": probe.steps,
           "warnings": warnings,
           "calls": [[step, kind, len(times), sum(times)]
                     for (step, kind), times in probe.calls.items()]}
    if stored is None:  # the load said it was done, but the server would not count it
        row["unverified"] = f"three counts after the load got no answer ({unverified})"
    return row


def child(args: list[str], *, env: dict | None = None, cwd: Path | None = None,
          python: list[str] | None = None) -> dict:
    """Run ``args`` in a fresh Python process; its last stdout line is the JSON row."""
    command = python or [sys.executable, __file__]
    done = subprocess.run([*command, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **(env or {})})
    if done.returncode != 0:
        sys.exit(f"child {' '.join(args)[:200]} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_in_child(kind: str, source: Path, *, store: Path | None = None,
                  server: Server | None = None, write_timeout: float = 600.0) -> dict:
    """One load in a child process, with the server's CPU time over it; stops the
    benchmark unless the graph then holds every triple. A load whose server stopped
    answering comes back with ``failed`` set (the caller retries on a fresh server)."""
    spec = {"kind": kind, "source": str(source)}
    env = {}
    if server is None:
        spec["store"] = str(store)
        row = child(["--child", "load", json.dumps(spec)])
        row["server_cpu"] = 0.0
    else:
        spec.update(server.spec(), write_timeout=write_timeout)
        env[PASSWORD_ENV] = server.password
        cpu = mix.tree_cpu_seconds(server.pid)
        row = child(["--child", "load", json.dumps(spec)], env=env)
        row["server_cpu"] = mix.tree_cpu_seconds(server.pid) - cpu
    if "failed" not in row and row["stored"] not in (None, row["triples"]):
        sys.exit(f"{kind}: the graph holds {row['stored']} triples after loading "
                 f"{row['triples']}")
    return row


# -- the code before the restructuring ----------------------------------------------------------


def before_shim(checkout: Path, folder: Path) -> Path:
    """A folder whose ``practicebank`` namespace package is ``checkout``'s folders, mapped
    as its ``pyproject.toml`` maps them (that tree has no ``practicebank/`` of its own)."""
    import tomllib

    mapping = tomllib.loads((checkout / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-dir"]
    if "practicebank" in mapping or (checkout / "practicebank" / "__init__.py").exists():
        sys.exit(f"{checkout} has a practicebank/ package of its own: --before takes a tree "
                 "from before the restructuring (1c79b22 or older)")
    package = folder / "practicebank"
    package.mkdir(parents=True, exist_ok=True)
    for name, target in mapping.items():
        (package / name.split(".", 1)[1]).symlink_to(checkout / target)
    return folder


BEFORE_CODE = """
import json, sys
from pathlib import Path
sys.path.insert(0, {bench!r})
import bench_load
import practicebank.loaders.load as load
assert load.__file__.startswith({shim!r}), load.__file__
row = bench_load.timed_load(Path({source!r}), {graph!r}, None)
print(json.dumps(row))
"""


def load_before(checkout: Path, shim: Path, source: Path) -> dict:
    """The embedded load on the old tree, through its own bench_load.timed_load."""
    code = BEFORE_CODE.format(bench=str(checkout / "bench"), shim=str(shim),
                              source=str(source), graph=GRAPH)
    return child([], env={"PYTHONPATH": str(shim)}, cwd=shim,
                 python=[sys.executable, "-c", code])


# -- the mix --------------------------------------------------------------------------------------


def start_practicebank(name: str, tmp: Path, *, store: Path | None = None,
                       server: Server | None = None) -> tuple[subprocess.Popen, int]:
    """``practicebank serve`` on the embedded store at ``store`` or on ``server``."""
    binary = shutil.which("practicebank") or str(Path(sys.executable).with_name("practicebank"))
    port = mix.free_port()
    flags = ["--port", str(port), "--access-log", "false"]
    env = dict(os.environ)
    if server is None:
        flags += ["--store", str(store)]
    else:
        flags += ["--store", str(tmp / f"unused-{port}"), "--backend", "sparql",
                  "--backend-query-url", server.query_url,
                  "--backend-update-url", server.update_url,
                  "--backend-store-url", server.store_url]
        if server.user:
            flags += ["--backend-user", server.user]
            env["PRACTICEBANK_BACKEND_PASSWORD"] = server.password
    log = open(tmp / f"serve-{port}.log", "wb")  # noqa: SIM115 (kept open while it runs)
    process = subprocess.Popen([binary, "serve", *flags], stdout=log, stderr=log, env=env,
                               start_new_session=True)
    mix.wait_up(f"http://127.0.0.1:{port}/health", process)
    return process, port


def mix_inputs(port: int) -> tuple[list[str], list[str]]:
    """The practices and topics the mix draws from, read through the embedded endpoint."""
    def column(query: str, name: str) -> list[str]:
        url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": query})
        request = urllib.request.Request(url, headers={
            "Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            rows = json.loads(response.read())["results"]["bindings"]
        return sorted(row[name]["value"] for row in rows)

    practices = column("SELECT ?p WHERE { ?p a <https://w3id.org/practicebank/def/Practice> }",
                       "p")
    topics = column("SELECT DISTINCT ?c WHERE { ?p <https://w3id.org/practicebank/def/topic> ?c "
                    f'FILTER(STRSTARTS(STR(?c), "{mix.TOPIC}")) }}', "c")
    return practices, topics


KINDS = {"faceted counts": "GROUP BY", "text search": "CONTAINS(", "two-hop path": "?other",
         "OPTIONAL listing": "OPTIONAL", "DESCRIBE": "DESCRIBE"}


def kind_of(query: str) -> str:
    """Which of the mix's five kinds ``query`` is."""
    return next(kind for kind, mark in KINDS.items() if mark in query)


def failing_kinds(ports: dict[str, int], queries: list[str]) -> dict[str, str]:
    """The kinds of the mix whose first query fails on some backend, each with what
    happened. Such a kind is left out of the mix on every backend (and the report says so):
    kept, its quick error answers would count as fast queries on some backends only."""
    failing: dict[str, str] = {}
    firsts = {}
    for query in queries:
        firsts.setdefault(kind_of(query), query)
    for kind, query in firsts.items():
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": query})
            request = urllib.request.Request(url, headers={
                "Accept": "application/sparql-results+json, text/turtle"})
            try:
                urllib.request.urlopen(request, timeout=120).close()
            except urllib.error.HTTPError as error:
                failing[kind] = failing.get(kind, "") + f"HTTP {error.code} on {name}; "
    return {kind: what.rstrip("; ") for kind, what in failing.items()}


def compare_answers(ports: dict[str, int], queries: list[str]) -> dict[str, int]:
    """For each backend, how many of ``queries`` it answers differently from the embedded
    store (or not at all). A query with LIMIT or OFFSET and no ORDER BY may rightly return
    other rows on another engine, so only its number of rows is compared."""
    differing = dict.fromkeys(ports, 0)
    for query in queries:
        paged = re.search(r"\b(LIMIT|OFFSET)\b", query) and "ORDER BY" not in query
        reference = mix.answer(ports[EMBEDDED], "/sparql", query)
        for name, port in ports.items():
            try:
                answer = mix.answer(port, "/sparql", query)
            except OSError:
                differing[name] += 1
                continue
            if (len(answer) != len(reference)) if paged else (answer != reference):
                differing[name] += 1
    return differing


def run_mix(ports: dict[str, int], queries: list[str], args) -> dict[str, dict]:
    """The mix on every backend, part after part, each part on every backend in turn."""
    for port in ports.values():
        mix.load(port, "/sparql", queries[:50], 1.0, args.clients, args.connections)
    size = -(-len(queries) // args.slices)
    parts = [queries[i:i + size] for i in range(0, len(queries), size)]
    cells: dict[str, list[dict]] = {name: [] for name in ports}
    for k, part in enumerate(parts * args.rounds):
        for name, port in ports.items():
            r = mix.load(port, "/sparql", part, None, args.clients, args.connections)
            cells[name].append(r)
            print(f"mix part {k + 1:2} {name:16} {r['rps']:8.1f} q/s  p50 {r['p50']:8.1f} ms  "
                  f"p99 {r['p99']:8.1f} ms  errors {r['errors']}", flush=True)
    return {name: mix.summary([x for c in parts for x in c["latencies"]],
                              sum(c["elapsed"] for c in parts), sum(c["errors"] for c in parts))
            for name, parts in cells.items()}


# -- the report -----------------------------------------------------------------------------------


def median_row(rows: list[dict], key: str = "total") -> dict:
    """The round whose ``key`` is the median (the lower one of an even number)."""
    ordered = sorted(rows, key=lambda r: r[key])
    return ordered[(len(ordered) - 1) // 2]


def bulk_summary(rows: list[dict]) -> dict:
    """A bulk path over its attempts: the median successful one (``seconds`` None when none
    succeeded) and what became of the attempts that hung."""
    done = [r for r in rows if not r["failed"]]
    summary = dict(median_row(done, "seconds") if done else rows[0])
    if not done:
        summary["seconds"] = None
    summary["hung"] = [r for r in rows if r["failed"]]
    summary["attempts"] = len(rows)
    return summary


def excl(row: dict) -> float:
    """Seconds of a load without its validation."""
    return row["total"] - row.get("validate", 0.0)


def load_table(loads: dict[str, dict]) -> list[str]:
    lines = ["| backend | triples | parse+stage s | validate s (nodes) | commit s | total s "
             "| triples/s | triples/s excl. validation | peak MB (load process) "
             "| load process CPU s | server CPU s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in loads.items():
        t = r["triples"]
        cpu = f"{r['cpu']:.1f} | {r['server_cpu']:.1f}" if "cpu" in r else " | "
        shown = f"{name} (unverified)" if r.get("unverified") else name
        lines.append(
            f"| {shown} | {t:,} | {r.get('read', 0):.2f} | {r.get('validate', 0):.2f} "
            f"({r['focus']:,}) | {r.get('commit', 0):.2f} | {r['total']:.2f} "
            f"| {t / r['total']:,.0f} | {t / excl(r):,.0f} | {r['peak_mb']:.0f} | {cpu} |")
    return lines


def bulk_table(bulks: dict[str, dict], triples: int) -> list[str]:
    lines = ["| engine | the engine's own bulk path | s | triples/s | server CPU s "
             "| attempts that hung |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for b in bulks.values():
        hung = ""
        if b["hung"]:
            kept = ", ".join(f"{h['stored']:,}" for h in b["hung"])
            hung = (f"{len(b['hung'])} of {b['attempts']}: {b['hung'][0]['failed']}; the "
                    f"server then held {kept} of {triples:,} triples")
        if b["seconds"] is None:
            lines.append(f"| {b['engine']} | {b['path']} | | | | {hung} |")
            continue
        lines.append(f"| {b['engine']} | {b['path']} | {b['seconds']:.2f} "
                     f"| {triples / b['seconds']:,.0f} | {b['server_cpu']:.1f} | {hung} |")
    return lines


PROFILE_STEPS = ["before staging", "parse into the scratch store",
                 "settle (what is to be sent, as N-Triples)", "validate", "commit"]
#: The step a fill's requests are counted in: they run in a thread beside validation.
UPLOAD_THREAD = "the fill's upload (a thread, beside validation)"
STAGING = "urn:practicebank:staging:"
FILL_JOURNAL = "URN:PRACTICEBANK:STAGING:FILLS"


def profile_table(loads: dict[str, dict]) -> list[str]:
    """Each remote load's seconds by step, the commit's by request, what is left local."""
    remotes = [name for name in loads if name in (OXIGRAPH, VIRTUOSO)]
    if not remotes:
        return []
    rows: list[tuple[str, dict[str, str]]] = []

    def add(label: str, values: dict[str, str]) -> None:
        rows.append((label, values))

    for step in PROFILE_STEPS:
        values, inner = {}, {}
        for name in remotes:
            r = loads[name]
            spent = r["steps"].get(step) if step != "before staging" else \
                r["total"] - sum(r["steps"].get(s, 0.0) for s in PROFILE_STEPS[1:])
            calls = [c for c in r["calls"] if c[0] == step]
            values[name] = f"{spent or 0.0:.2f}"
            if step == "commit":
                for _, kind, n, seconds in calls:
                    inner.setdefault(kind, {})[name] = f"{seconds:.2f} ({n})"
                local = (spent or 0.0) - sum(c[3] for c in calls)
                inner.setdefault("left in this process (splitting, serialising)", {})[
                    name] = f"{local:.2f}"
            elif calls:
                requests = sum(c[3] for c in calls)
                values[name] += f" ({requests:.2f} in {sum(c[2] for c in calls)} requests)"
        add(f"**{step}**", values)
        for kind, by_name in inner.items():
            add(f"commit: {kind}", by_name)
    threads = {name: [c for c in loads[name]["calls"] if c[0] == UPLOAD_THREAD]
               for name in remotes}
    if any(threads.values()):
        add(f"**{UPLOAD_THREAD}**", {name: f"{sum(c[3] for c in calls):.2f}"
                                     for name, calls in threads.items()})
        inner = {}
        for name, calls in threads.items():
            for _, kind, n, seconds in calls:
                inner.setdefault(kind, {})[name] = f"{seconds:.2f} ({n})"
        for kind, by_name in inner.items():
            add(f"upload thread: {kind}", by_name)
    add("**total**", {name: f"{loads[name]['total']:.2f}" for name in remotes})
    add("server CPU s during the load", {name: f"{loads[name]['server_cpu']:.1f}"
                                         for name in remotes})
    add("load process CPU s", {name: f"{loads[name]['cpu']:.1f}" for name in remotes})
    lines = ["| step (seconds; requests: seconds (count)) | " + " | ".join(remotes) + " |",
             "| --- | " + " | ".join("---:" for _ in remotes) + " |"]
    for label, values in rows:
        lines.append(f"| {label} | " + " | ".join(values.get(n, "") for n in remotes) + " |")
    return lines


def main_table(loads: dict[str, dict], bulk_of: dict[str, dict], mixes: dict[str, dict],
               differing: dict[str, int], checked: int) -> list[str]:
    lines = ["| backend | load triples/s | load triples/s excl. validation | own bulk "
             "triples/s | load rate / bulk rate (excl. validation) | mix queries/s | p50 ms "
             "| p99 ms | errors | answers unlike embedded |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in [*loads, *(n for n in BACKENDS if n not in loads)]:
        bulk, m = bulk_of.get(name), mixes.get(name)
        cells = (f"{m['rps']:.1f} | {m['p50']:.1f} | {m['p99']:.1f} | {m['errors']}"
                 if m else " | | | ")
        diff = f"{differing[name]} of {checked}" if name in differing else ""
        if name not in loads:  # every load attempt failed (see the notes)
            lines.append(f"| {name} | failed | failed | | | {cells} | {diff} |")
            continue
        r = loads[name]
        t = r["triples"]
        rate = f"{t / bulk['seconds']:,.0f}" if bulk else ""
        ratio = (f"{bulk['seconds'] / r['total']:.0%} ({bulk['seconds'] / excl(r):.0%})"
                 if bulk else "")
        shown = f"{name} (unverified)" if r.get("unverified") else name
        lines.append(f"| {shown} | {t / r['total']:,.0f} | {t / excl(r):,.0f} | {rate} "
                     f"| {ratio} | {cells} | {diff} |")
    return lines


def targets(loads: dict[str, dict], bulk_of: dict[str, dict], bulks: dict[str, dict]
            ) -> list[str]:
    """The issue's two targets, and each remote load against the engine's other bulk paths."""
    lines = []
    for name in (OXIGRAPH, VIRTUOSO):
        if name not in loads or name not in bulk_of:
            continue
        r = loads[name]
        others = [b for b in bulks.values() if b["engine"] == name and b is not bulk_of[name]
                  and b["seconds"] is not None]
        line = (f"- {name}: remote load rate / engine's own bulk rate = "
                f"{bulk_of[name]['seconds'] / r['total']:.0%} end to end, "
                f"{bulk_of[name]['seconds'] / excl(r):.0%} excluding validation (target >= 50%; "
                f"bulk path: {bulk_of[name]['path']})")
        for b in others:
            line += (f"; against {b['path']}: {b['seconds'] / r['total']:.0%} and "
                     f"{b['seconds'] / excl(r):.0%}")
        lines.append(line)
    if BEFORE in loads:
        now, before = loads[EMBEDDED], loads[BEFORE]
        lines.append(f"- embedded: {now['triples'] / now['total']:,.0f} triples/s now against "
                     f"{before['triples'] / before['total']:,.0f} before the restructuring "
                     f"(end to end {before['total'] / now['total']:.0%} of the old rate; "
                     f"excluding validation {excl(before) / excl(now):.0%}; target: no "
                     "slower)")
    return lines


# -- main -----------------------------------------------------------------------------------------


def data_file(triples: int, out: Path) -> tuple[Path, int]:
    """The N-Triples file of about ``triples`` triples (made if missing) and its count."""
    import generate

    practices = max(1, round(triples / TRIPLES_PER_PRACTICE))
    path = out / str(practices) / "practices.nt"
    if not path.exists():
        generate.write(practices, out, ["nt"])
    with path.open("rb") as f:
        count = sum(1 for line in f if line.strip() and not line.startswith(b"#"))
    return path, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000,
                        help="about how many triples to load (default 1,000,000)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times each load and bulk POST is measured (the median round is "
                        "reported) and the mix is run")
    parser.add_argument("--out", type=Path, default=HERE / "out",
                        help="folder for the generated data and bench_backends.md")
    parser.add_argument("--before", type=Path, default=None, metavar="CHECKOUT",
                        help="a checkout of the code before the restructuring (git worktree "
                        "add /tmp/pb-before 1c79b22): also measure its embedded load")
    parser.add_argument("--mix", type=int, default=mix.MIX_SIZE,
                        help="queries of the research mix to run (its first N)")
    parser.add_argument("--slices", type=int, default=10,
                        help="parts the mix is cut into, each run on every backend in turn")
    parser.add_argument("--check", type=int, default=25,
                        help="first queries of the mix whose answers are compared")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--virtuoso-buffers", type=int, default=340_000,
                        help="Virtuoso's NumberOfBuffers (8 KB each; the packaged ini has "
                        "10,000)")
    parser.add_argument("--attempts", type=int, default=3,
                        help="times a bulk POST or a remote load whose server stops answering "
                        "is tried again on a fresh server (each failure is reported)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, payload = args.child[0], args.child[1]
        row = run_load(json.loads(payload)) if kind == "load" else bulk_embedded(payload)
        print(json.dumps(row))
        return

    args.out.mkdir(parents=True, exist_ok=True)
    args.load_before = os.getloadavg()[0]  # others' work on the machine shows in the figures
    source, triples = data_file(args.triples, args.out)
    print(f"data: {source} ({triples:,} triples)", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-backends-"))
    servers: list[Server] = []
    serving: list[subprocess.Popen] = []
    try:
        virtuoso = VirtuosoFactory(tmp, args.virtuoso_buffers)
        shim = before_shim(args.before.resolve(), tmp / "before") if args.before else None
        rounds: dict[str, list[dict]] = {}
        bulk_rounds: dict[str, list[dict]] = {}
        kept: dict[str, Server | Path] = {}
        made = [0]

        def fresh_oxigraph() -> Server:
            made[0] += 1
            return start_oxigraph(tmp / f"oxigraph-{made[0]}")

        parts = split_file(source, tmp / "parts", CHUNK)
        bulk_paths = [
            BulkPath(OXIGRAPH, "POST /store?graph= (one transaction)", fresh_oxigraph,
                     [source]),
            BulkPath(OXIGRAPH, "POST /store?graph=…&no_transaction (its bulk loader)",
                     fresh_oxigraph, [source], "&no_transaction"),
            BulkPath(VIRTUOSO, "POST /sparql-graph-crud-auth?graph= (Digest)",
                     virtuoso.start, [source]),
            BulkPath(VIRTUOSO, f"the same, as {len(parts)} POST(s) of <= {CHUNK:,} triples",
                     virtuoso.start, parts),
        ]
        starts = {OXIGRAPH: fresh_oxigraph, VIRTUOSO: virtuoso.start}
        # A hung request is given up after these many seconds (a normal one takes ~10 s a
        # million triples; Oxigraph's final swap of a million ~140 s), then tried again.
        max_post = 60 + triples / 10_000
        write_timeout = {OXIGRAPH: 600.0, VIRTUOSO: 120 + triples / 10_000}
        failures: dict[str, list[str]] = {}
        fallbacks: list[str] = []  # engines whose mix ran on data put there by the bulk path
        for k in range(args.rounds):
            last = k == args.rounds - 1
            store = tmp / f"embedded-{k}" / "store"
            store.parent.mkdir(parents=True)
            rounds.setdefault(EMBEDDED, []).append(load_in_child(EMBEDDED, source, store=store))
            note(EMBEDDED, rounds[EMBEDDED][-1])
            if shim is not None:
                rounds.setdefault(BEFORE, []).append(load_before(args.before.resolve(), shim,
                                                                 source))
                note(BEFORE, rounds[BEFORE][-1])
            if last:
                kept[EMBEDDED] = store
            else:
                shutil.rmtree(store.parent, ignore_errors=True)
            embedded_bulk = child(["--child", "bulk", str(source)])
            bulk_rounds.setdefault(embedded_bulk["path"], []).append(embedded_bulk)
            for path in bulk_paths:
                for _ in range(args.attempts):
                    b = bulk_remote(path, triples, max_post)
                    bulk_rounds.setdefault(path.label, []).append(b)
                    print(f"bulk {b['engine']:16} {b['path']:55} {b['seconds']:8.2f} s "
                          f"{b['failed']}", flush=True)
                    if not b["failed"]:
                        break
            for name in (OXIGRAPH, VIRTUOSO):
                candidate = None  # a load that finished but could not be counted
                for attempt in range(args.attempts):
                    server = starts[name]()
                    servers.append(server)
                    row = load_in_child(name, source, server=server,
                                        write_timeout=write_timeout[name])
                    trouble = row.get("failed") or row.get("unverified")
                    if trouble:
                        server.stop()
                        logged = "; ".join(row.get("warnings", []))
                        failures.setdefault(name, []).append(
                            f"round {k + 1}, attempt {attempt + 1}: {trouble} (after "
                            f"{row['total']:.0f} s)" + (f"; logged: {logged}" if logged else ""))
                        print(f"load {name:28} failed: {failures[name][-1]}", flush=True)
                        if "failed" not in row:
                            candidate = candidate or row
                        continue
                    rounds.setdefault(name, []).append(row)
                    note(name, row)
                    if last:
                        kept[name] = server
                    else:
                        server.stop()
                    break
                else:
                    if candidate is not None:
                        rounds.setdefault(name, []).append(candidate)
                    if last:  # the mix still runs, on the data as the engine's bulk path puts it
                        server = starts[name]()
                        servers.append(server)
                        _, failed = curl_post(server, parts, max_post, graph=GRAPH_IRI)
                        if failed:
                            sys.exit(f"{name}: every load failed, and so did the bulk path")
                        kept[name] = server
                        fallbacks.append(name)
        loads = {name: median_row(rows) for name, rows in rounds.items()}
        bulks = {label: bulk_summary(rows) for label, rows in bulk_rounds.items()}
        # the yardsticks: pyoxigraph's bulk_load; oxigraph serve's plain POST (its bulk
        # loader is shown beside it); Virtuoso's one POST, or its chunked POSTs if that hung
        yardsticks = {EMBEDDED: [embedded_bulk["path"]], OXIGRAPH: [bulk_paths[0].label],
                      VIRTUOSO: [bulk_paths[2].label, bulk_paths[3].label]}
        bulk_of = {name: bulks[label] for name, labels in yardsticks.items()
                   for label in reversed(labels) if bulks[label]["seconds"] is not None}

        ports: dict[str, int] = {}
        for name in BACKENDS:
            target = kept[name]
            if isinstance(target, Server):
                process, port = start_practicebank(name, tmp, server=target)
            else:
                process, port = start_practicebank(name, tmp, store=target)
            serving.append(process)
            ports[name] = port
        practices, topics = mix_inputs(ports[EMBEDDED])
        queries = mix.mix_queries(practices, topics, random.Random(7))[:args.mix]
        left_out = failing_kinds(ports, queries)
        queries = [q for q in queries if kind_of(q) not in left_out]
        differing = compare_answers(ports, queries[:args.check])
        mixes = run_mix(ports, queries, args)
    finally:
        for process in serving:
            mix.stop(process)
        for server in servers:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, triples, loads, bulks, bulk_of, mixes, differing,
           min(args.check, len(queries)), len(queries), left_out, failures, fallbacks)


def note(name: str, row: dict) -> None:
    print(f"load {name:28} {row['triples']:>10,} triples in {row['total']:8.2f} s "
          f"(validate {row.get('validate', 0):.2f} s)", flush=True)


def report(args, triples: int, loads, bulks, bulk_of, mixes, differing, checked: int,
           ran: int, left_out: dict[str, str], failures: dict[str, list[str]],
           fallbacks: list[str]) -> None:
    head = (f"{triples:,} triples (bench/generate.py, N-Triples); {os.cpu_count()} CPUs; "
            f"{args.rounds} round(s), the median round's load shown; mix: {ran} queries "
            f"x {args.rounds}, "
            f"{args.clients} client processes x {args.connections} connections, through "
            f"practicebank serve; Virtuoso with NumberOfBuffers {args.virtuoso_buffers:,} and "
            "TransactionAfterImageLimit 1.5 GB; 1-minute load average "
            f"{args.load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after it")
    notes = [f"- Left out of the mix on every backend: {kind} queries ({what})."
             for kind, what in left_out.items()]
    notes += [f"- {name} load stopped, tried again on a fresh server: {failure}"
              for name, found in failures.items() for failure in found]
    notes += [f"- {name} load (the one reported) logged: {warning}"
              for name, row in loads.items() for warning in row.get("warnings", [])]
    notes += [f"- {name}: no load could be verified in {args.attempts} attempt(s); the load "
              "figures shown are of one that finished but whose graph the server would not "
              "count" for name, row in loads.items() if row.get("unverified")]
    notes += [f"- {name}: the mix ran on data put there by the engine's chunked bulk path "
              f"(POSTs of {CHUNK:,} triples into graph/{GRAPH}), since no load succeeded"
              for name in fallbacks]
    sections = [
        head, "", *notes, *([""] if notes else []),
        *main_table(loads, bulk_of, mixes, differing, checked), "",
        *targets(loads, bulk_of, bulks), "",
        "Loads (practicebank's pipeline into a fresh store; one process each):", "",
        *load_table(loads), "",
        "The engines' own bulk paths (a fresh server each; sent by curl):", "",
        *bulk_table(bulks, triples), "",
    ]
    profile = profile_table(loads)
    if profile:
        sections += ["Where the remote loads' time goes:", "", *profile, ""]
    text = "\n".join(sections)
    print("\n" + text, flush=True)
    (args.out / "bench_backends.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
