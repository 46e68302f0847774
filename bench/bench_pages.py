"""Linked-data page benchmark: practicebank's resource pages and descriptions on 100k practices.

One command (not a test)::

    python bench/bench_pages.py [--practices 100000] [--seconds 5] [--rounds 3] [--store DIR]
                                [--quick] [--profile N]

builds (or reuses, with ``--store``) the store of ``bench/endpoint_data.py`` (100,000
synthetic practices, ~1.96 M triples, plus the bundled demo graphs), gives
``practicebank serve`` (its defaults) and ``oxigraph serve --union-default-graph`` each
their own checkpoint of it, so the two serve the same quads, and measures on loopback, with
``bench_endpoint``'s helpers (servers, CPU accounting, latency summary):

* the HTML page of a practice (``GET /id/practice/x.html``), with one client and with
  ``--clients`` processes of ``--connections`` keep-alive connections each (8 by default);
  the pages of a few police forces and of a few concepts (each linked from thousands of
  practices, so their incoming links are paged: page 0 and ``?incoming=20``);
* the 303 hop (``GET /id/practice/x`` with ``Accept: text/html``);
* the Turtle description (``/id/practice/x.ttl``) under the concurrent load, against
  ``oxigraph serve`` answering ``DESCRIBE <x>`` (the issue's yardstick: the concise bounded
  description, ~16 triples a practice) and a ``CONSTRUCT`` that returns exactly the
  description's triples (~55: the CBD, the practice's assessment, labels and types of what
  it links to, incoming links), both ``Accept: text/turtle``;
* the compact JSON (``.json``) and the listing (``/id/practice/?page=10`` and its last full
  page); the first listing request of a server run, which builds the listing's order, is
  timed apart, once, with practice pages asked meanwhile (what the build does to them).

The practices are a fixed-seed sample (``--sample``, 10,000, used round-robin, each round
starting elsewhere in it: more pages than practicebank serves in a cell, so a cache of
pages would not flatter it). Before timing, the answers are checked: the HTML and JSON
documents must be 200, the DESCRIBE's triples must be exactly the description's triples
about the practice, and the CONSTRUCT's exactly the description's. This machine has 2
cores shared with other work (and the clients), so every cell is measured in ``--rounds``
rounds, the cells of a round one after the other (the Turtle and oxigraph cells back to
back): the table gives the median round and the range over rounds; the ratios are per
round. Prints a Markdown table and the targets' lines, and
writes them to ``bench/out/bench_pages.md``.

``--profile N`` instead profiles N practice pages in process (the Flask test client on the
same app ``practicebank serve`` builds, its worker pool and snapshots too): the CPU time of
each step of an HTML page and of a Turtle description, then cProfile's listings.
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import multiprocessing
import os
import pstats
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_endpoint as endpoint  # noqa: E402  (servers, CPU time, summary)
from endpoint_data import build_store  # noqa: E402

BASE = "https://w3id.org/practicebank/"
PB = BASE + "def/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
#: Record kinds a description shows inside its resource (descriptions.PART_KINDS).
PART_PREFIXES = tuple(f"{BASE}id/{kind}/" for kind in ("assessment", "recognition",
                                                          "participation"))
#: Label properties, best first (descriptions.LABELS).
LABELS = (SKOS + "prefLabel", "http://purl.org/dc/terms/title", RDFS_LABEL,
          "https://schema.org/name", "http://xmlns.com/foaf/0.1/name", SKOS + "notation")
#: Links into concepts that make a concept "linked from thousands of practices".
CONCEPT_LINKS = ("topic", "stage", "purpose", "targetGroup", "scale", "ratingValue")
SAMPLE = 10_000  # practices asked, in a fixed-seed order (--sample)
LIST_PAGE = 200  # resource_pages.LIST_PAGE
PB_SERVER, OX_SERVER = "practicebank", "oxigraph serve"
TARGET_P50_MS, TARGET_PAGES_S, TARGET_TTL_RATIO = 20.0, 300.0, 0.5
OUT = HERE / "out"


# -- what is asked -----------------------------------------------------------------------------


def path_of(iri: str) -> str:
    """``https://w3id.org/practicebank/id/practice/x`` -> ``/id/practice/x``."""
    return "/" + iri[len(BASE):]


def sparql_path(query: str) -> str:
    return "/query?" + urllib.parse.urlencode({"query": query})


def describe_query(iri: str) -> str:
    return f"DESCRIBE <{iri}>"


def same_triples_query(iri: str) -> str:
    """One query whose answer is exactly a practice's description (descriptions.describe):
    its triples, the triples of the part records it links to or is linked from, every link
    into it, and the best label (as rdfs:label) and the types of every resource it, its
    parts and its incoming links name. Exact for practices (fewer incoming links than a
    page; no blank nodes), which the check before timing verifies."""
    x = f"<{iri}>"

    def is_part(var: str) -> str:
        return "(" + " || ".join(f'STRSTARTS(STR({var}), "{p}")' for p in PART_PREFIXES) + ")"

    optionals, ranked = [], []
    for i, label in enumerate(LABELS):
        optionals.append(f'OPTIONAL {{ ?l <{label}> ?e{i} FILTER(LANG(?e{i}) IN ("en", "")) }} '
                         f"OPTIONAL {{ ?l <{label}> ?a{i} }}")
        ranked += [f"?e{i}", f"?a{i}"]
    return f"""CONSTRUCT {{ ?s ?p ?o . ?l <{RDFS_LABEL}> ?lab . ?l a ?t }} WHERE {{
  {{ {x} ?p ?o BIND({x} AS ?s) }}
  UNION {{ ?s ?p {x} }}
  UNION {{ {{ SELECT DISTINCT ?s WHERE {{ {{ {x} ?q ?s }} UNION {{ ?s ?q {x} }}
            FILTER(isIRI(?s) && ?s != {x} && {is_part('?s')}) }} }} LATERAL {{ ?s ?p ?o }} }}
  UNION {{ {{ SELECT DISTINCT ?l WHERE {{
      {{ {x} ?l ?z }} UNION {{ {x} ?z ?l }} UNION {{ ?l ?z {x} }} UNION {{ ?z ?l {x} }}
      UNION {{ {{ {x} ?y ?pt }} UNION {{ ?pt ?y {x} }} FILTER(isIRI(?pt) && {is_part('?pt')})
              {{ ?pt ?l ?z }} UNION {{ ?pt ?z ?l }} }}
      FILTER(isIRI(?l) && ?l != {x} && !{is_part('?l')}) }} }}
    LATERAL {{ {{ ?l a ?t FILTER(isIRI(?t)) }}
      UNION {{ {' '.join(optionals)} BIND(COALESCE({', '.join(ranked)}) AS ?lab)
              FILTER(BOUND(?lab)) }} }} }}
}}"""


HTML = {"Accept": "text/html"}
TURTLE = {"Accept": "text/turtle"}


def cells(sample: dict[str, list[str]], last_page: int) -> list[dict]:
    """What is measured: name, server, requests (path, headers, expected status), clients
    (``None``: the concurrent load of ``--clients`` x ``--connections``, else one)."""
    practices, forces, concepts = sample["practices"], sample["forces"], sample["concepts"]

    def cell(name, server, paths, headers=None, status=200, concurrent=False, group=None):
        return {"name": name, "server": server, "concurrent": concurrent, "group": group,
                "requests": [(p, headers or {}, status) for p in paths]}

    return [
        cell("HTML practice page", PB_SERVER, [path_of(p) + ".html" for p in practices], HTML),
        cell("HTML practice page", PB_SERVER, [path_of(p) + ".html" for p in practices], HTML,
             concurrent=True),
        cell("HTML force page", PB_SERVER, [path_of(f) + ".html" for f in forces], HTML),
        cell("HTML concept page", PB_SERVER, [path_of(c) + ".html" for c in concepts], HTML),
        cell("HTML concept page ?incoming=20", PB_SERVER,
             [path_of(c) + ".html?incoming=20" for c in concepts], HTML),
        cell("303 hop (Accept: text/html)", PB_SERVER, [path_of(p) for p in practices], HTML,
             status=303),
        cell("Turtle description .ttl", PB_SERVER, [path_of(p) + ".ttl" for p in practices],
             TURTLE, concurrent=True, group="ttl"),
        cell("DESCRIBE <practice>", OX_SERVER,
             [sparql_path(describe_query(p)) for p in practices], TURTLE, concurrent=True,
             group="ttl"),
        cell("CONSTRUCT (the description's triples)", OX_SERVER,
             [sparql_path(same_triples_query(p)) for p in practices], TURTLE, concurrent=True,
             group="ttl"),
        cell("compact JSON .json", PB_SERVER, [path_of(p) + ".json" for p in practices]),
        cell("listing /id/practice/?page=10", PB_SERVER, ["/id/practice/?page=10"], HTML),
        cell(f"listing /id/practice/?page={last_page} (deep)", PB_SERVER,
             [f"/id/practice/?page={last_page}"], HTML),
    ]


# -- the load client ---------------------------------------------------------------------------


def _client(port: int, requests: list[tuple[str, dict, int]], seconds: float,
            connections: int, out) -> None:
    """``connections`` keep-alive connections sending ``requests`` round and round for
    ``seconds`` (as bench_endpoint's client, for any path and headers); a response whose
    status is not the expected one is an error."""
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def run(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k
        while time.monotonic() < stop:
            path, headers, status = requests[i % len(requests)]
            i += connections
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies.append(time.perf_counter() - started)
            if response.status != status:
                errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((latencies, errors[0]))


def load(port: int, requests: list, seconds: float, clients: int, connections: int) -> dict:
    """Throughput and latency of ``requests`` from ``clients`` processes for ``seconds``."""
    if clients == 1:
        queue: multiprocessing.Queue | _List = _List()
        _client(port, requests, seconds, connections, queue)
        results = queue.items
    else:
        queue = multiprocessing.Queue()
        procs = [multiprocessing.Process(target=_client, args=(
            port, requests[c::clients], seconds, connections, queue)) for c in range(clients)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
    latencies = [x for r in results for x in r[0]]
    r = endpoint.summary(latencies, seconds, sum(r[1] for r in results))
    r["p95"] = r["latencies"][int(len(latencies) * 0.95)] * 1000
    return r


class _List:
    """A queue for a client run in this process (one connection needs no process)."""

    def __init__(self) -> None:
        self.items: list = []

    def put(self, item) -> None:
        self.items.append(item)


def timed_get(port: int, path: str, headers: dict | None = None) -> tuple[int, bytes, float]:
    """One request on a fresh connection: (status, body, milliseconds)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    conn.close()
    return response.status, body, elapsed


def first_listing_request(port: int, practices: list[str]) -> tuple[float, list[float]]:
    """Milliseconds of the server run's first listing request (it builds the listing's
    order), and those of the practice pages asked meanwhile, one at a time on one
    connection: what the build does to the rest of the server."""
    took: list[float] = []
    thread = threading.Thread(target=lambda: took.append(
        timed_get(port, "/id/practice/?page=10", HTML)[2]))
    thread.start()
    beside: list[float] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    while thread.is_alive():
        started = time.perf_counter()
        conn.request("GET", path_of(practices[len(beside) % len(practices)]) + ".html",
                     headers=HTML)
        conn.getresponse().read()
        beside.append((time.perf_counter() - started) * 1000)
        time.sleep(0.02)
    conn.close()
    thread.join()
    return took[0], beside


# -- data --------------------------------------------------------------------------------------


def pick(store_path: Path, rnd: random.Random, size: int = SAMPLE
         ) -> tuple[dict[str, list[str]], dict]:
    """The fixed-seed sample: practices, a few forces, a few concepts linked from thousands
    of practices (with their incoming counts), and the number of practices."""
    reader = ox.Store.read_only(str(store_path))
    practices = sorted({r["p"].value for r in reader.query(
        f"SELECT ?p WHERE {{ GRAPH ?g {{ ?p a <{PB}Practice> }} }}")})
    forces = sorted({r["f"].value for r in reader.query(
        f"SELECT ?f WHERE {{ GRAPH ?g {{ ?f a <{PB}PoliceForce> }} }}")})
    links = " ".join(f"<{PB}{p}>" for p in CONCEPT_LINKS)
    counts = {r["c"].value: int(r["n"].value) for r in reader.query(
        f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ VALUES ?p {{ {links} }} GRAPH ?g {{ ?s ?p ?c }} }} "
        "GROUP BY ?c")}
    triples = len(reader)
    del reader
    busy = sorted(c for c, n in counts.items() if n >= min(1000, max(counts.values())))
    concepts = rnd.sample(busy, min(4, len(busy)))
    sample = {
        "practices": rnd.sample(practices, min(size, len(practices))),
        "forces": rnd.sample(forces, min(4, len(forces))),
        "concepts": concepts,
    }
    info = {"practices": len(practices), "triples": triples,
            "concept_links": {c: counts[c] for c in concepts}}
    return sample, info


def turtle_triples(body: bytes) -> set[str]:
    return {str(t) for t in ox.parse(body, format=ox.RdfFormat.TURTLE)}


def check(pb_port: int, ox_port: int, sample: dict[str, list[str]], n: int = 10) -> dict:
    """Stop unless the documents are there and the yardsticks answer what they should: the
    DESCRIBE exactly the description's triples about the practice, the CONSTRUCT exactly the
    description. Returns triple counts for the report."""
    sizes: dict[str, list[int]] = {"ttl": [], "describe": [], "construct": []}
    for iri in sample["practices"][:n]:
        for extension in ("html", "json"):
            status, _, _ = timed_get(pb_port, path_of(iri) + "." + extension)
            if status != 200:
                sys.exit(f"GET {path_of(iri)}.{extension}: HTTP {status}")
        status, body, _ = timed_get(pb_port, path_of(iri) + ".ttl", TURTLE)
        if status != 200:
            sys.exit(f"GET {path_of(iri)}.ttl: HTTP {status}")
        ours = turtle_triples(body)
        about = {t for t in ours if t.startswith(f"<{iri}> ")}
        _, body, _ = timed_get(ox_port, sparql_path(describe_query(iri)), TURTLE)
        described = turtle_triples(body)
        if described != about:
            sys.exit(f"DESCRIBE <{iri}> and the description disagree: "
                     f"{len(described ^ about)} triples differ")
        _, body, _ = timed_get(ox_port, sparql_path(same_triples_query(iri)), TURTLE)
        constructed = turtle_triples(body)
        if constructed != ours:
            sys.exit(f"the CONSTRUCT for <{iri}> and the description disagree: "
                     f"{sorted(constructed ^ ours)[:5]}")
        sizes["ttl"].append(len(ours))
        sizes["describe"].append(len(described))
        sizes["construct"].append(len(constructed))
    for path in [path_of(i) + ".html" for i in sample["forces"] + sample["concepts"]]:
        status, _, _ = timed_get(pb_port, path)
        if status != 200:
            sys.exit(f"GET {path}: HTTP {status}")
    return {k: statistics.median(v) for k, v in sizes.items()}


# -- the run -----------------------------------------------------------------------------------


def run(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-pages-"))
    running: dict[str, tuple] = {}
    try:
        store = args.store or tmp / "store"
        built = None
        if not store.exists():
            started = time.monotonic()
            build_store(store, args.practices)
            built = time.monotonic() - started
            print(f"built {store} in {built:.0f} s", flush=True)
        sample, info = pick(store, random.Random(7), args.sample)
        for name in ("pb", "ox"):  # the same quads for both servers, each its own copy
            ox.Store.read_only(str(store)).backup(str(tmp / name))
        last_page = info["practices"] // LIST_PAGE - 1  # the last full page
        todo = cells(sample, last_page)
        running[PB_SERVER] = endpoint.start_practicebank(tmp / "pb")
        running[OX_SERVER] = endpoint.start_oxigraph(tmp / "ox")
        pb_port, ox_port = running[PB_SERVER][1], running[OX_SERVER][1]
        _, _, first_page = timed_get(pb_port, path_of(sample["practices"][-1]) + ".html", HTML)
        first_listing, beside = first_listing_request(pb_port, sample["practices"])
        print(f"first page {first_page:.0f} ms; first listing request {first_listing:.0f} ms, "
              f"{len(beside)} practice pages meanwhile, the slowest {max(beside):.0f} ms",
              flush=True)
        sizes = check(pb_port, ox_port, sample)
        for c in todo:  # warm up: caches, connections, the clients' code paths
            load(running[c["server"]][1], c["requests"][-50:], args.warmup, 1, 1)
        results: dict[int, list[dict]] = {k: [] for k in range(len(todo))}
        loads: list[float] = []  # the 1-minute load average after each cell
        for round_ in range(args.rounds):
            for k, c in enumerate(todo):
                process, port, _ = running[c["server"]]
                clients, connections = ((args.clients, args.connections) if c["concurrent"]
                                        else (1, 1))
                shift = round_ * len(c["requests"]) // args.rounds  # other pages each round
                requests = c["requests"][shift:] + c["requests"][:shift]
                cpu = endpoint.tree_cpu_seconds(process.pid)
                r = load(port, requests, args.seconds, clients, connections)
                r["cpu_ms"] = (endpoint.tree_cpu_seconds(process.pid) - cpu) * 1000 / max(
                    r["n"], 1)
                results[k].append(r)
                loads.append(os.getloadavg()[0])
                print(f"round {round_ + 1} {label(c, args):52} {r['rps']:7.0f}/s  p50 "
                      f"{r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  CPU {r['cpu_ms']:5.2f} ms  "
                      f"errors {r['errors']}  load {loads[-1]:.1f}", flush=True)
    finally:
        for process, _, _ in running.values():
            endpoint.stop(process)
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(args, todo, results, info, sizes, (first_listing, beside), first_page,
                  built, [load_before, *loads])
    print("\n" + text, flush=True)
    (OUT / "bench_pages.md").write_text(text + "\n", encoding="utf-8")


def revision() -> str:
    """The commit measured, and whether the working tree differs from it."""
    def git(*a: str) -> str:
        return subprocess.run(["git", *a], cwd=HERE.parent, capture_output=True,
                              text=True).stdout.strip()

    return f"{git('rev-parse', '--short', 'HEAD')}" + (
        " + uncommitted changes" if git("status", "--porcelain", "--untracked-files=no")
        else "")


def label(c: dict, args) -> str:
    concurrency = args.clients * args.connections if c["concurrent"] else 1
    return f"{c['name']}, c={concurrency}"


def spread(values: list[float], fmt: str) -> str:
    """The median round and, with several rounds, the range over them."""
    middle = statistics.median(values)
    if len(values) == 1:
        return format(middle, fmt)
    return f"{format(middle, fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def report(args, todo, results, info, sizes, listing_build, first_page, built,
           loads) -> str:
    concurrent = args.clients * args.connections
    head = (f"{info['practices']:,} practices, {info['triples']:,} quads "
            f"(bench/endpoint_data.py{f', built in {built:.0f} s' if built else ''}); "
            f"{os.cpu_count()} CPUs; practicebank serve with its defaults, oxigraph serve "
            f"--union-default-graph, each on its own checkpoint of the same store; "
            f"{args.rounds} round(s) of {args.seconds:g} s per cell, one connection or "
            f"{args.clients} client processes x {args.connections} keep-alive connections "
            f"(c={concurrent}) on the same machine; the median round, (min–max over rounds); "
            f"p95 over all rounds; 1-minute load average {loads[0]:.1f} before the run, "
            f"{min(loads[1:]):.1f}–{max(loads[1:]):.1f} after the cells (others' work on "
            f"the machine). Code: {revision()}. Sample: {args.sample:,} practices (seed 7), "
            f"{len(info['concept_links'])} concepts with "
            f"{', '.join(f'{n:,}' for n in info['concept_links'].values())} incoming links. "
            f"Triples per practice: description {sizes['ttl']:.0f}, DESCRIBE "
            f"{sizes['describe']:.0f}, CONSTRUCT {sizes['construct']:.0f} (checked equal to "
            f"the description's, and the DESCRIBE to its triples about the practice).")
    lines = [head, "",
             "| what | server | c | p50 ms | p95 ms | req/s | server CPU ms/req | errors |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k, c in enumerate(todo):
        rs = results[k]
        pooled = sorted(x for r in rs for x in r["latencies"])
        p95 = pooled[int(len(pooled) * 0.95)] * 1000 if pooled else float("nan")
        lines.append(f"| {c['name']} | {c['server']} | "
                     f"{concurrent if c['concurrent'] else 1} | "
                     f"{spread([r['p50'] for r in rs], '.1f')} | {p95:.1f} | "
                     f"{spread([r['rps'] for r in rs], '.0f')} | "
                     f"{spread([r['cpu_ms'] for r in rs], '.2f')} | "
                     f"{sum(r['errors'] for r in rs)} |")
    first_listing, beside = listing_build[0], sorted(listing_build[1])
    lines += ["", f"First listing request of the server run (builds the listing's order): "
              f"{first_listing:.0f} ms; practice pages asked one at a time meanwhile: "
              f"{len(beside)}, p50 {beside[len(beside) // 2]:.0f} ms, slowest "
              f"{beside[-1]:.0f} ms. First practice page of the run: {first_page:.0f} ms.", ""]

    def find(name: str, concurrent: bool = False, server: str = PB_SERVER) -> list[dict]:
        k = next(i for i, c in enumerate(todo) if c["name"] == name
                 and c["concurrent"] == concurrent and c["server"] == server)
        return results[k]

    html1 = find("HTML practice page")
    html8 = find("HTML practice page", True)
    ttl = find("Turtle description .ttl", True)
    describe = find("DESCRIBE <practice>", True, OX_SERVER)
    construct = find("CONSTRUCT (the description's triples)", True, OX_SERVER)
    listing10 = find("listing /id/practice/?page=10")
    listing_last = next(results[i] for i, c in enumerate(todo)
                        if c["name"].endswith("(deep)"))

    def verdict(values: list[float], ok) -> str:
        passes = [ok(v) for v in values]
        if all(passes):
            return "PASS"
        return "FAIL" if not any(passes) else (
            "PASS (median), some rounds fail" if ok(statistics.median(values))
            else "FAIL (median), some rounds pass")

    p50s = [r["p50"] for r in html1]
    rates = [r["rps"] for r in html8]
    ratios = [a["rps"] / b["rps"] for a, b in zip(ttl, describe, strict=True)]
    same = [a["rps"] / b["rps"] for a, b in zip(ttl, construct, strict=True)]
    # Triples served a second: a description holds more than the DESCRIBE (see the head).
    per_triple = [r * sizes["ttl"] / sizes["describe"] for r in ratios]
    flat = [a["p50"] / b["p50"] for a, b in zip(listing_last, listing10, strict=True)]
    lines += [
        "| target | measured: median round (range) | verdict |",
        "| --- | --- | --- |",
        f"| HTML practice page p50 <= {TARGET_P50_MS:g} ms (c=1) | {spread(p50s, '.1f')} ms "
        f"(c={concurrent}: {spread([r['p50'] for r in html8], '.1f')} ms) | "
        f"{verdict(p50s, lambda v: v <= TARGET_P50_MS)} |",
        f"| HTML practice pages >= {TARGET_PAGES_S:g}/s (c={concurrent}) | "
        f"{spread(rates, '.0f')}/s | {verdict(rates, lambda v: v >= TARGET_PAGES_S)} |",
        f"| Turtle description >= {TARGET_TTL_RATIO:.0%} of oxigraph serve's DESCRIBE "
        f"throughput (c={concurrent}, same round) | {spread(ratios, '.0%')} | "
        f"{verdict(ratios, lambda v: v >= TARGET_TTL_RATIO)} |",
        f"| (no target) Turtle description vs a CONSTRUCT of the same triples | "
        f"{spread(same, '.0%')} | - |",
        f"| (no target) triples a second in Turtle descriptions vs in DESCRIBE answers "
        f"({sizes['ttl']:.0f} and {sizes['describe']:.0f} a practice) | "
        f"{spread(per_triple, '.0%')} | - |",
        f"| no listing sorts the whole store per request: deep page p50 / page 10 p50 | "
        f"{spread(flat, '.2f')} (page 10: {spread([r['p50'] for r in listing10], '.1f')} ms) "
        f"| {verdict(flat, lambda v: v <= 2.0)} (flat: <= 2) |",
    ]
    cpu = statistics.median(r["cpu_ms"] for r in html8)
    ttl_cpu = statistics.median(r["cpu_ms"] for r in ttl)
    ox_cpu = statistics.median(r["cpu_ms"] for r in describe)
    lines += ["", f"CPU per HTML practice page under load: {cpu:.2f} ms, of the server process "
              f"(granian's Rust threads included) and the query workers, where pages are "
              f"made (endpoint/page_jobs.py). Turtle: {ttl_cpu:.2f} ms a description against "
              f"oxigraph serve's {ox_cpu:.2f} ms a DESCRIBE (multi-threaded, both cores)."]
    return "\n".join(lines)


# -- the profile -------------------------------------------------------------------------------


#: Steps of a request timed apart in the profile: (module, function, label). A step that
#: another one calls is shown inside it; a name a module no longer has is skipped.
STEPS = (
    ("linked_data", "source", "source(): the snapshot and label cache"),
    ("linked_data", "describe", "describe(): index reads"),
    ("resource_pages", "render", "render(): the page"),
    ("resource_pages", "render_template", "  of which the Jinja template"),
    ("resource_pages", "origin", "  of which origin() (the record's graphs)"),
    ("linked_data", "serialize", "serialize(): Turtle"),
    ("linked_data", "finish", "finish(): headers, ETag, 304 check"),
)


def timed_steps(steps: dict[str, float]) -> list:
    """Wrap the :data:`STEPS` in their modules (nothing in practicebank is changed: the
    module attributes are replaced in this process) to add each call's CPU time, in the
    calling thread, to ``steps``. Returns what to put back."""
    import importlib

    undo = []
    for module_name, name, label in STEPS:
        module = importlib.import_module(f"practicebank.endpoint.{module_name}")
        original = getattr(module, name, None)
        if original is None:
            continue

        def timed(*a, _original=original, _label=label, **k):
            started = time.thread_time()
            try:
                return _original(*a, **k)
            finally:
                steps[_label] = steps.get(_label, 0.0) + time.thread_time() - started

        setattr(module, name, timed)
        undo.append((module, name, original))
    return undo


def profile(args) -> None:
    """Where a page's time goes, in process, on the app ``practicebank serve`` builds (its
    worker pool and snapshots too), through the Flask test client: the CPU time of a
    request and of its steps (:data:`STEPS`), for HTML pages and Turtle descriptions of
    ``args.profile`` practices each; then cProfile around the HTML pages. The server sends
    pages and descriptions to its workers; here pages are made in this process (the
    choice is replaced in this process only), so that their steps can be timed."""
    from practicebank.endpoint import create_app, linked_data
    from practicebank.endpoint.runtime import close_runtime, get_runtime

    linked_data.page_in_worker = lambda stem: False

    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-pages-profile-"))
    app = None
    try:
        store = args.store or tmp / "store"
        if not store.exists():
            build_store(store, args.practices)
        sample, _ = pick(store, random.Random(7))
        ox.Store.read_only(str(store)).backup(str(tmp / "pb"))
        app = create_app({"STORE_PATH": str(tmp / "pb"), "ACCESS_LOG": False})
        with app.app_context():
            get_runtime().executor.wait_ready()
        client = app.test_client()
        n = min(args.profile, len(sample["practices"]) // 3)
        warm, timed, profiled = (sample["practices"][:50], sample["practices"][50:50 + n],
                                 sample["practices"][50 + n:50 + 2 * n])
        for iri in warm:  # templates compiled, the label cache filled
            client.get(path_of(iri) + ".html")
            client.get(path_of(iri) + ".ttl")
        lines = ["| step | HTML page: CPU ms | Turtle: CPU ms |", "| --- | ---: | ---: |"]
        columns = []
        for extension in ("html", "ttl"):
            steps: dict[str, float] = {}
            undo = timed_steps(steps)
            started, wall = time.thread_time(), time.perf_counter()
            try:
                for iri in timed:
                    client.get(path_of(iri) + "." + extension)
            finally:
                for module, name, original in undo:
                    setattr(module, name, original)
            steps["whole request (test client included)"] = time.thread_time() - started
            steps["wall clock"] = time.perf_counter() - wall
            columns.append(steps)
        labels = ["whole request (test client included)", "wall clock",
                  *[label for _, _, label in STEPS]]
        for label_ in labels:
            values = [c.get(label_) for c in columns]
            if any(v is not None for v in values):
                lines.append(f"| {label_} | " + " | ".join(
                    "-" if v is None else f"{v * 1000 / n:.2f}" for v in values) + " |")
        print(f"{n} practices, CPU time of this thread per request (wall clock: the machine "
              "is shared)\n")
        print("\n".join(lines) + "\n")
        profiler = cProfile.Profile()
        profiler.enable()
        for iri in profiled:
            client.get(path_of(iri) + ".html")
        profiler.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())
    finally:
        if app is not None:
            close_runtime(app)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="seconds of load per cell and round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every cell (the spread over them is reported)")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="seconds of each cell's first requests, once, before timing")
    parser.add_argument("--clients", type=int, default=2,
                        help="client processes of the concurrent cells")
    parser.add_argument("--connections", type=int, default=4,
                        help="keep-alive connections per client process")
    parser.add_argument("--sample", type=int, default=SAMPLE,
                        help="practices asked, round-robin, in a fixed-seed order")
    parser.add_argument("--store", type=Path,
                        help="reuse (or create) the benchmark store here")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5,000 practices, 2 rounds of 2 s")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="instead of the benchmark, profile N practice pages (and N "
                        "Turtle descriptions) in process")
    parser.add_argument("--top", type=int, default=30, help="rows of each profile listing")
    args = parser.parse_args()
    if args.quick:
        args.practices, args.seconds, args.rounds = 5000, 2.0, 2
    if args.profile:
        profile(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
