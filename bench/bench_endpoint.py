"""Endpoint benchmark: practicebank's server against ``oxigraph serve`` on the same data.

One command (not a test)::

    python bench/bench_endpoint.py [--practices 100000] [--seconds 30] [--store DIR]

builds (or reuses, with ``--store``) the 100k-practice store of ``bench/endpoint_data.py``,
gives each server its own checkpoint of it, and measures three servers in turn, slice after
slice (see :func:`slices`), on loopback with the same load: ``oxigraph serve
--union-default-graph``, ``practicebank serve`` with its worker pool (deadlines enforced)
and ``practicebank serve --workers -1`` (queries in the server process: no deadline
machinery). Three workloads: a cheap lookup (the title of one practice by IRI), the same
lookup written with a second pattern so that it must go through a worker process, and a mix
of research queries (faceted counts, text search, two-hop paths, OPTIONAL listings,
DESCRIBE). The load comes from ``--clients`` processes with ``--connections`` keep-alive
connections each, on the same 2-core machine, so the client competes with the server for
CPU. The lookups run for ``--seconds``; the mix runs its 1,000 queries once each on every
server (timed to the last answer); ``--rounds`` repeats them, ``--workloads`` picks some.
Before any timing, the servers must agree on the answers to the first queries of every
workload. Prints a Markdown table of throughput and p50/p99 latency, then the ratios the
issue sets targets for.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from endpoint_data import build_store  # noqa: E402

PREFIXES = """PREFIX pb: <https://w3id.org/practicebank/def/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
TOPIC = "https://w3id.org/practicebank/concept/topic/"
MIX_SIZE = 1000  # queries in the research mix, five kinds in equal numbers
OXIGRAPH = "oxigraph serve"
WORKERS = "practicebank (workers, deadlines)"
IN_PROCESS = "practicebank (in process, no deadlines)"
WORKLOADS = ["cheap lookup", "lookup via worker", "research mix"]


def lookup_queries(practices: list[str]) -> list[str]:
    """One triple pattern about one IRI: practicebank answers these in the server process."""
    return [f"SELECT ?title WHERE {{ <{p}> <http://purl.org/dc/terms/title> ?title }}"
            for p in practices]


def two_pattern_lookups(practices: list[str]) -> list[str]:
    """The same lookup with a type check: two patterns, so practicebank sends it to a worker
    process; this line measures the deadline machinery on a cheap query."""
    return [f"SELECT ?title WHERE {{ <{p}> a <https://w3id.org/practicebank/def/Practice> ; "
            "<http://purl.org/dc/terms/title> ?title }" for p in practices]


def mix_queries(practices: list[str], topics: list[str], rnd: random.Random) -> list[str]:
    """Research questions, in a fixed shuffled order, each kind with varying constants."""
    words = ["burglary", "knife", "youth", "fraud", "lighting", "mentoring", "drugs", "cctv"]
    out = []
    for i in range(MIX_SIZE // 5):
        topic, practice = rnd.choice(topics), rnd.choice(practices)
        out += [
            # faceted counts: practices per rating value, within one topic
            PREFIXES + f"SELECT ?value (COUNT(?p) AS ?n) WHERE {{ ?p pb:topic <{topic}> ; "
            "pb:rating/pb:ratingValue ?value } GROUP BY ?value",
            # text search on titles
            PREFIXES + f'SELECT ?p ?title WHERE {{ ?p pb:topic <{topic}> ; dcterms:title ?title '
            f'FILTER(CONTAINS(LCASE(?title), "{words[i % len(words)]}")) }} LIMIT 20',
            # two-hop path: the force of a practice and that force's other practices
            PREFIXES + f"SELECT ?other ?title WHERE {{ <{practice}> pb:organisation ?force . "
            "?other pb:organisation ?force ; dcterms:title ?title } LIMIT 25",
            # OPTIONAL listing: a page of practices of a topic with their rating, if any
            PREFIXES + f"SELECT ?p ?title ?value WHERE {{ ?p pb:topic <{topic}> ; "
            "dcterms:title ?title OPTIONAL { ?p pb:rating/pb:ratingValue ?value } } "
            f"LIMIT 50 OFFSET {50 * (i % 5)}",
            # DESCRIBE one practice
            f"DESCRIBE <{practice}>",
        ]
    rnd.shuffle(out)
    return out


# -- the load client -----------------------------------------------------------------------------


def _client(port: int, path: str, queries: list[str], seconds: float | None, connections: int,
            out) -> None:
    """``connections`` keep-alive connections sending ``queries``: round and round for
    ``seconds``, or, with ``seconds`` None, each query once (taken in turn from a shared
    list, so every connection stays busy to the end)."""
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + (seconds or 0)
    todo = iter(range(len(queries)))
    todo_lock = threading.Lock()

    def next_index(i: int) -> int | None:
        if seconds is not None:
            return i if time.monotonic() < stop else None
        with todo_lock:
            return next(todo, None)

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k
        while (index := next_index(i)) is not None:
            query = queries[index % len(queries)]
            i += connections
            started = time.perf_counter()
            conn.request("GET", f"{path}?" + urllib.parse.urlencode({"query": query}),
                         headers={"Accept": "application/sparql-results+json, text/turtle"})
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                errors[0] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors[0], time.monotonic() - started))


def load(port: int, path: str, queries: list[str], seconds: float | None, clients: int,
         connections: int) -> dict:
    """Throughput and latency of ``queries`` from ``clients`` processes: for ``seconds``, or
    (``seconds`` None) until each query has been answered once, timed to the last answer."""
    queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client, args=(
        port, path, queries[c::clients], seconds, connections, queue)) for c in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    elapsed = seconds if seconds is not None else max(r[2] for r in results)
    return summary(latencies, elapsed, sum(r[1] for r in results))


def summary(latencies: list[float], elapsed: float, errors: int) -> dict:
    latencies = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
        "n": len(latencies),
        "latencies": latencies,
        "elapsed": elapsed,
    }


# -- servers -------------------------------------------------------------------------------------


def tree_cpu_seconds(root: int, *, waited: bool = False) -> float:
    """User + system CPU time used so far by ``root`` and every process under it (Linux);
    with ``waited``, also that of the children they have waited for (a process that ended
    before the measure was taken, such as the one an update runs in)."""
    parents, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = sum(int(x) for x in fields[11:15 if waited else 13])
    family, grew = {root}, True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in family and pid not in family:
                family.add(pid)
                grew = True
    return sum(times.get(pid, 0) for pid in family) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_up(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            sys.exit(f"server exited while starting: {process.args}")
        try:
            urllib.request.urlopen(url, timeout=5).close()
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"server did not start: {process.args}")


def answer(port: int, path: str, query: str) -> list:
    """The answer to ``query`` in a form two servers can be compared by: the distinct rows
    of a SELECT, the distinct triples of a DESCRIBE (blank node labels blanked out), sorted.
    Distinct, because a triple stated in two graphs (a practice the corpus and the sample
    both describe) is one triple in practicebank's default graph, the RDF merge of the
    graphs (docs/endpoint.md), and two in the union ``oxigraph serve`` makes."""
    describe = query.lstrip().startswith("DESCRIBE")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}?" + urllib.parse.urlencode({"query": query}),
        headers={"Accept": "application/n-triples" if describe
                 else "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = response.read().decode()
    if describe:
        return sorted({re.sub(r"_:\S+", "_:b", line) for line in body.splitlines() if line})
    return sorted({tuple(sorted((k, v["type"], "" if v["type"] == "bnode" else v["value"])
                                for k, v in row.items()))
                   for row in json.loads(body)["results"]["bindings"]})


def check_answers(running: dict, workloads: dict[str, list[str]], per_workload: int = 25) -> None:
    """Stop unless every server gives the same answers to the first queries of each workload:
    a faster wrong answer would measure nothing."""
    for queries in workloads.values():
        for query in queries[:per_workload]:
            answers = {name: answer(port, path, query) for name, (_, port, path) in running.items()}
            if len({json.dumps(a) for a in answers.values()}) != 1:
                sizes = ", ".join(f"{name}: {len(a)}" for name, a in answers.items())
                sys.exit(f"the servers disagree ({sizes} rows or triples) on:\n{query}")


def start_oxigraph(location: Path) -> tuple[subprocess.Popen, int, str]:
    binary = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--location", str(location), "--bind",
                                f"127.0.0.1:{port}", "--union-default-graph"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    wait_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", process)
    return process, port, "/query"


def start_practicebank(store: Path, *flags: str) -> tuple[subprocess.Popen, int, str]:
    """``practicebank serve`` on ``store`` with ``flags`` (its defaults otherwise), once its
    start-up builds (listing orders, text and facet indexes, charts) are done, so that they
    do not take the CPU from what is measured."""
    binary = shutil.which("practicebank") or str(Path(sys.executable).with_name("practicebank"))
    port = free_port()
    process = subprocess.Popen([binary, "serve", "--store", str(store), "--port", str(port),
                                "--access-log", "false", *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    wait_up(f"http://127.0.0.1:{port}/health", process)
    wait_warm(f"http://127.0.0.1:{port}/health")
    return process, port, "/sparql"


def wait_warm(health: str, timeout: float = 1200) -> None:
    """Wait until ``/health`` no longer says ``"warming": true``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with urllib.request.urlopen(health, timeout=30) as response:
            if not json.loads(response.read()).get("warming"):
                return
        time.sleep(1)
    sys.exit(f"the server was still building its indexes after {timeout:.0f} s")


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def runaway_time(port: int) -> tuple[int, float]:
    """Status and seconds of a three-way cross join with timeout=2 (the deadline's answer)."""
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode(
        {"query": query, "timeout": "2"})
    started = time.monotonic()
    try:
        urllib.request.urlopen(url, timeout=60).close()
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    return status, time.monotonic() - started


def slices(workload: str, queries: list[str], args) -> list[tuple[list[str], float | None]]:
    """The workload cut into ``--slices`` short pieces, each run on every server in turn.

    This machine's speed drifts over minutes (whole-run repeats moved a cell by up to
    ±15%), so servers are compared on pieces measured seconds apart. The lookups run for
    ``--seconds`` in all, a time slice at a time; the mix's queries differ a hundredfold in
    cost, so a time window would give each server a different share of heavy ones: its
    1,000 queries are cut into consecutive parts, and every server runs each part once.
    """
    if workload == "research mix":
        size = -(-len(queries) // args.slices)
        return [(queries[i:i + size], None) for i in range(0, len(queries), size)]
    return [(queries, args.seconds / args.slices)] * args.slices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="seconds of load per server for each lookup workload")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="seconds of each workload's first queries on every server first")
    parser.add_argument("--slices", type=int, default=10,
                        help="pieces each workload is cut into, run on every server in turn")
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    for flag in ("workers", "worker-threads", "threads"):
        parser.add_argument(f"--{flag}", type=int, default=None,
                            help=f"practicebank serve --{flag} (default: the server's default)")
    parser.add_argument("--store", type=Path, help="reuse (or create) the benchmark store here")
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=WORKLOADS,
                        metavar="NAME", help=f"workloads to run (default: all of "
                        f"{', '.join(repr(w) for w in WORKLOADS)})")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times each workload is run (the mix's queries once per round)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    try:
        store = args.store or tmp / "store"
        if not store.exists():
            started = time.monotonic()
            triples = build_store(store, args.practices)
            print(f"built {store}: {triples} triples in {time.monotonic() - started:.0f} s")
        copy = tmp / "oxigraph-store"
        reader = ox.Store.read_only(str(store))
        reader.backup(str(copy))
        triples = len(reader)
        rnd = random.Random(7)
        practices = [r["p"].value for r in reader.query(
            "SELECT ?p WHERE { GRAPH ?g { ?p a <https://w3id.org/practicebank/def/Practice> } }")]
        topics = [r["c"].value for r in reader.query(
            f"SELECT DISTINCT ?c WHERE {{ GRAPH ?g {{ ?p <https://w3id.org/practicebank/def/topic> "
            f"?c }} FILTER(STRSTARTS(STR(?c), \"{TOPIC}\")) }}")]
        del reader
        sample = rnd.sample(practices, min(2000, len(practices)))
        workloads = {
            "cheap lookup": lookup_queries(sample),
            "lookup via worker": two_pattern_lookups(sample),
            "research mix": mix_queries(practices, topics, rnd),
        }
        workloads = {name: workloads[name] for name in args.workloads}
        # Three servers up at once, each on its own copy of the store, measured in turn
        # within each round: on a shared machine whose speed drifts over minutes, cells taken
        # minutes apart are not comparable, cells taken seconds apart are.
        in_process_copy = tmp / "in-process-store"
        ox.Store.read_only(str(store)).backup(str(in_process_copy))
        starters = {
            OXIGRAPH: lambda: start_oxigraph(copy),
            WORKERS: lambda: start_practicebank(store, *practicebank_flags(args)),
            IN_PROCESS: lambda: start_practicebank(in_process_copy, *practicebank_flags(args),
                                                   "--workers", "-1"),
        }
        running = {}
        try:
            for name, start in starters.items():
                running[name] = start()
            check_answers(running, workloads)
            cells: dict[tuple[str, str], list[dict]] = {}
            for workload, queries in workloads.items():
                for _, port, path in running.values():
                    load(port, path, queries[:50], args.warmup, args.clients, args.connections)
                for k, (part, window) in enumerate(slices(workload, queries, args) * args.rounds):
                    for name, (process, port, path) in running.items():
                        cpu = tree_cpu_seconds(process.pid)
                        r = load(port, path, part, window, args.clients, args.connections)
                        # Server processes that ended during the slice (a killed worker)
                        # take their time with them; none do in these workloads.
                        r["cpu"] = tree_cpu_seconds(process.pid) - cpu
                        cells.setdefault((name, workload), []).append(r)
                        print(f"slice {k + 1:2} {name:42} {workload:17} {r['rps']:8.0f} req/s  "
                              f"p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
                              f"errors {r['errors']}", flush=True)
            runaway = runaway_time(running[WORKERS][1])
        finally:
            for process, _, _ in running.values():
                stop(process)
        report(cells, triples, args, runaway)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def practicebank_flags(args) -> list[str]:
    """The server flags given to the benchmark, to pass on to ``practicebank serve``."""
    flags = []
    for name in ("workers", "worker_threads", "threads"):
        value = getattr(args, name)
        if value is not None:
            flags += ["--" + name.replace("_", "-"), str(value)]
    return flags


def report(cells: dict[tuple[str, str], list[dict]], triples: int, args, runaway) -> None:
    """Each cell over all its slices, then the targets' ratios: over the whole run, with
    the range of the per-slice ratios."""
    flags = practicebank_flags(args)
    server_flags = f"; practicebank serve {' '.join(flags)}" if flags else ""
    print(f"\n{triples} triples; {args.clients} client processes x {args.connections} "
          f"connections; {args.rounds} x {args.seconds:.0f} s per lookup cell, the mix's "
          f"{MIX_SIZE} queries {args.rounds} x; every workload in {args.slices} slices "
          f"a round, run on the servers in turn; "
          f"{os.cpu_count()} CPUs{server_flags}\n")
    total = {key: summary([x for c in parts for x in c["latencies"]],
                          sum(c["elapsed"] for c in parts), sum(c["errors"] for c in parts))
             for key, parts in cells.items()}
    for key, parts in cells.items():
        total[key]["cpu_ms"] = sum(c["cpu"] for c in parts) * 1000 / total[key]["n"]
    print("| server | workload | req/s | p50 ms | p99 ms | server CPU ms/query | errors |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (name, workload), r in total.items():
        print(f"| {name} | {workload} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['cpu_ms']:.2f} | {r['errors']} |")
    print()
    # The issue's targets: a share of oxigraph serve's throughput for the cheap lookup and the
    # mix, and at most 10% for the deadline machinery; "lookup via worker" is ours, shown
    # without a target.
    for workload, target in (("cheap lookup", 0.5), ("lookup via worker", None),
                             ("research mix", 0.9)):
        if (WORKERS, workload) not in total:
            continue
        ours, oxigraph, inproc = (total[(n, workload)]["rps"] for n in (WORKERS, OXIGRAPH,
                                                                         IN_PROCESS))
        ratios = sorted(a["rps"] / b["rps"] for a, b in zip(
            cells[(WORKERS, workload)], cells[(OXIGRAPH, workload)], strict=True))
        cpu = total[(OXIGRAPH, workload)]["cpu_ms"] / total[(WORKERS, workload)]["cpu_ms"]
        share, cost = (f"target >= {target:.0%}; ", " (target <= 10%)") if target \
            else ("no target; ", "")
        print(f"- {workload}: {ours / oxigraph:.1%} of oxigraph serve's throughput ({share}"
              f"slices {ratios[0]:.0%}-{ratios[-1]:.0%}); per CPU second of the server, "
              f"{cpu:.0%} of oxigraph serve's queries; deadline machinery costs "
              f"{1 - ours / inproc:.1%}{cost}")
    if runaway:
        print(f"- runaway cross join with timeout=2: HTTP {runaway[0]} after {runaway[1]:.2f} s")


if __name__ == "__main__":
    main()
