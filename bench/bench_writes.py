"""Write benchmark: large ``INSERT DATA``/``DELETE DATA`` through practicebank's server and
through ``oxigraph serve``, on the same store.

One command (not a test)::

    python bench/bench_writes.py [--sizes 3000 30000] [--rounds 1]

builds the demo store once, then for each size (in triples: valid practices shaped like the
bundled sample, ten triples each, written with prefixes as a client would: 30,000 triples are
~1 MB, just under the default body limit) and each target graph (a *data* graph under
``graph/``, which is validated against the shapes, and a scratch graph, which is not) sends
one ``INSERT DATA``, then a ``DELETE``/``INSERT``/``WHERE`` that rewrites every practice's
summary (an update practicebank runs on a copy in a process of its own), then the
``DELETE DATA`` of the first (which leaves the rewritten summaries), to each server, each
on its own checkpoint of the store. It reports the wall time of each request as the client sees
it and the CPU time the server's process tree spent on it (with the processes it started
and ended meanwhile), and checks the graph's size after each request. practicebank runs
with its defaults (two query workers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_endpoint import (  # noqa: E402
    free_port,
    start_practicebank,
    stop,
    tree_cpu_seconds,
    wait_up,
)

TOKEN = "bench-writes"
BASE = "https://w3id.org/practicebank/"
DATA_GRAPH = BASE + "graph/bench-writes"
SCRATCH_GRAPH = "urn:practicebank:bench:scratch"
PREFIXES = f"""PREFIX pb: <{BASE}def/>
PREFIX id: <{BASE}id/practice/>
PREFIX force: <{BASE}id/force/>
PREFIX purpose: <{BASE}concept/purpose/>
PREFIX topic: <{BASE}concept/topic/>
PREFIX stage: <{BASE}concept/stage/>
PREFIX scale: <{BASE}concept/scale/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX page: <https://www.college.police.uk/support-forces/practices/>
"""


def practices(triples: int) -> str:
    """Valid practices, ten triples each, as the inside of a data block (named after the
    size, so the summaries one size leaves rewritten do not meet the next size's)."""
    tag = f"bench{triples}"
    return "\n".join(
        f'id:{tag}-{i} a pb:Practice ; dcterms:title "Bench practice {i}"@en ; '
        f'dcterms:abstract "Bench summary {i}."@en ; prov:wasDerivedFrom page:{tag}-{i} ; '
        "pb:purpose purpose:prevention ; pb:topic topic:crime-prevention ; "
        "pb:organisation force:kent ; pb:stage stage:implemented ; pb:scale scale:local ; "
        f'dcterms:identifier "{tag}-{i}" .' for i in range(triples // 10))


def update_text(kind: str, graph: str, triples: int) -> str:
    if kind == "DELETE/INSERT WHERE":  # every practice's summary rewritten
        return (f"{PREFIXES}WITH <{graph}> DELETE {{ ?p dcterms:abstract ?a }} "
                'INSERT { ?p dcterms:abstract "Rewritten."@en } '
                "WHERE { ?p a pb:Practice ; dcterms:abstract ?a }")
    return f"{PREFIXES}{kind} {{ GRAPH <{graph}> {{\n{practices(triples)}\n}} }}"


def post(port: int, path: str, text: str) -> tuple[int, float, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=text.encode(), method="POST",
        headers={"Content-Type": "application/sparql-update",
                 "Authorization": f"Bearer {TOKEN}"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    return status, time.perf_counter() - started, body


def graph_size(port: int, query_path: str, graph: str) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{query_path}?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "text/csv"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.read().decode().split()[1])


def start_oxigraph(location: Path) -> tuple[subprocess.Popen, int]:
    """``oxigraph serve`` without ``--union-default-graph``, which refuses ``WITH``."""
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    wait_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
    return process, port


def build_base(folder: Path) -> Path:
    from practicebank.loaders.load import ensure_demo
    from practicebank.store import PracticeStore

    with PracticeStore(folder / "base") as store:
        ensure_demo(store)
    return folder / "base"


def measure(server: str, base: Path, work: Path, sizes: list[int]) -> list[dict]:
    """Every (size, graph, INSERT DATA then DELETE DATA) on one fresh server."""
    copy = work / server.split()[0]
    shutil.rmtree(copy, ignore_errors=True)
    source = ox.Store.read_only(str(base))
    source.backup(str(copy))
    del source
    if server == "oxigraph serve":
        process, port = start_oxigraph(copy)
        update_path, query_path = "/update", "/query"
    else:
        os.environ["PRACTICEBANK_WRITE_TOKEN"] = TOKEN
        process, port, query_path = start_practicebank(copy, "--max-content-length",
                                                       str(16 << 20))
        update_path = "/update"
    rows = []
    try:
        for size in sizes:
            for label, graph in (("data graph", DATA_GRAPH), ("scratch graph", SCRATCH_GRAPH)):
                left = sum(r["triples"] // 10 for r in rows if r["graph"] == label
                           and r["operation"] == "DELETE DATA")  # rewritten summaries
                for kind, expected in (("INSERT DATA", left + size),
                                       ("DELETE/INSERT WHERE", left + size),
                                       ("DELETE DATA", left + size // 10)):
                    text = update_text(kind, graph, size)
                    cpu = tree_cpu_seconds(process.pid, waited=True)
                    status, wall, body = post(port, update_path, text)
                    cpu = tree_cpu_seconds(process.pid, waited=True) - cpu
                    if status not in (200, 204):
                        sys.exit(f"{server}: {kind} of {size} triples answered {status}: "
                                 f"{body[:500]!r}")
                    size_after = graph_size(port, query_path, graph)
                    if size_after != expected:
                        sys.exit(f"{server}: after {kind} of {size} triples the graph holds "
                                 f"{size_after}, not {expected}")
                    rows.append({"server": server, "operation": kind, "graph": label,
                                 "triples": size, "kb": len(text.encode()) // 1024,
                                 "wall": wall, "cpu": cpu})
    finally:
        stop(process)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 30000])
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-writes-"))
    try:
        base = build_base(work)
        rows = []
        for _ in range(args.rounds):
            for server in ("practicebank serve", "oxigraph serve"):
                rows += measure(server, base, work, args.sizes)
        print("| server | operation | graph | triples | body KB | wall s | server CPU s |")
        print("|---|---|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['server']} | {r['operation']} | {r['graph']} | {r['triples']:,} | "
                  f"{r['kb']:,} | {r['wall']:.2f} | {r['cpu']:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
