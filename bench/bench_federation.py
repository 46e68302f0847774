"""Federation benchmark: a selective join with a large remote, naive SERVICE against bind join.

One command (not a test)::

    python bench/bench_federation.py [--triples 1000000] [--runs 5] [--quick]

builds a statistics-like remote: an RDF Data Cube of ``--triples`` triples (observations of a
count per small area and year, five triples each, areas named by ONS-shaped codes
``E01…`` under statistics.data.gov.uk's statistical-geography IRIs), loads it with
``oxigraph load`` and serves it with ``oxigraph serve-read-only`` behind a counting forwarder
(:mod:`practicebank.counting_proxy`, which sees every request and byte on the wire). The
local side is a practicebank store of synthetic practices, each in one of those areas, one
topic of which has ``--selective`` practices (≤ 100 local bindings). ``practicebank serve``
runs twice on that store, with ``--bind-join-batch 0`` (every SERVICE sent as written: the
engine's naive evaluation, which fetches every observation) and with the default batch of
100, and the same federated query (the counts of the selective topic's areas, by year) is
timed ``--runs`` times on each after one warm-up, over HTTP. Both paths must give the same
answer (as multisets of solutions) before any figure is reported. Prints a Markdown table
(requests sent, bytes sent and fetched, p50 time) and the speed-up, and writes them to
``bench/out/bench_federation.md``. ``--quick``: 100,000 triples and 3 runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_endpoint import start_practicebank, stop  # noqa: E402

from practicebank.counting_proxy import CountingProxy  # noqa: E402
from practicebank.oxigraph_server import load_files, start_oxigraph  # noqa: E402

OUT = HERE / "out"
GEO = "http://statistics.data.gov.uk/id/statistical-geography/"
SDMX = "http://purl.org/linked-data/sdmx/2009/dimension#"
QB = "http://purl.org/linked-data/cube#"
COUNT = "http://statistics.data.gov.uk/def/measure-properties/count"
YEAR = "http://reference.data.gov.uk/id/year/"
OBS = "http://example.org/bench-statistics/observation/"
DATASET = "http://example.org/bench-statistics/dataset/crime-counts"
PB = "https://w3id.org/practicebank/def/"
PRACTICE = "https://w3id.org/practicebank/id/practice/bench-"
TOPIC = "https://w3id.org/practicebank/concept/topic/bench-"
YEARS = range(2013, 2023)  # ten years per area
TRIPLES_PER_OBSERVATION = 5
LOCAL_PRACTICES = 5000
TOPICS = 60
NAIVE, BIND = "naive SERVICE (bind_join_batch 0)", "bind join (bind_join_batch 100)"

QUERY = f"""PREFIX pb: <{PB}>
PREFIX sdmx-dimension: <{SDMX}>
PREFIX measure: <http://statistics.data.gov.uk/def/measure-properties/>
SELECT ?area ?year (COUNT(DISTINCT ?practice) AS ?practices) (SUM(?count) AS ?crimes) WHERE {{
  ?practice pb:topic <{TOPIC}selective> ; pb:area ?area .
  SERVICE <REMOTE> {{
    ?obs sdmx-dimension:refArea ?area ; sdmx-dimension:refPeriod ?year ; measure:count ?count
  }}
}} GROUP BY ?area ?year ORDER BY ?area ?year"""


def area(k: int) -> str:
    return f"{GEO}E01{k:06d}"


def write_remote(path: Path, triples: int) -> int:
    """The Data Cube as N-Triples; returns the number of areas."""
    areas = max(1, triples // (TRIPLES_PER_OBSERVATION * len(YEARS)))
    rnd = random.Random(11)
    with open(path, "w", encoding="utf-8") as out:
        for k in range(areas):
            where = area(k)
            for year in YEARS:
                obs = f"<{OBS}{k}-{year}>"
                out.write(f"{obs} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                          f"<{QB}Observation> .\n"
                          f"{obs} <{QB}dataSet> <{DATASET}> .\n"
                          f"{obs} <{SDMX}refArea> <{where}> .\n"
                          f"{obs} <{SDMX}refPeriod> <{YEAR}{year}> .\n"
                          f'{obs} <{COUNT}> "{rnd.randint(0, 500)}"'
                          "^^<http://www.w3.org/2001/XMLSchema#integer> .\n")
    return areas


def build_local(path: Path, areas: int, selective: int) -> None:
    """Practices, each in one area and on one topic; ``selective`` of them (in distinct
    areas) on the topic the query asks about."""
    rnd = random.Random(5)
    chosen = rnd.sample(range(areas), min(selective, areas))
    lines = []
    for i in range(LOCAL_PRACTICES):
        practice = f"<{PRACTICE}{i}>"
        if i < len(chosen):
            topic, where = "selective", chosen[i]
        else:
            topic, where = str(rnd.randrange(TOPICS)), rnd.randrange(areas)
        lines += [f"{practice} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{PB}Practice> .",
                  f"{practice} <{PB}topic> <{TOPIC}{topic}> .",
                  f"{practice} <{PB}area> <{area(where)}> ."]
    store = ox.Store(str(path))
    store.load("\n".join(lines).encode(), format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    del store


def ask(port: int, query: str) -> tuple[float, dict]:
    url = f"http://127.0.0.1:{port}/sparql"
    request = urllib.request.Request(
        url, data=urllib.parse.urlencode({"query": query}).encode(),
        headers={"Accept": "application/sparql-results+json",
                 "Content-Type": "application/x-www-form-urlencoded"})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=900) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        sys.exit(f"HTTP {error.code}: {error.read()[:500]!r}")
    return time.monotonic() - started, answer


def solutions(answer: dict) -> Counter:
    return Counter(frozenset((k, json.dumps(v, sort_keys=True)) for k, v in row.items())
                   for row in answer["results"]["bindings"])


def measure(store: Path, remote: CountingProxy, batch: int, runs: int) -> dict:
    query = QUERY.replace("REMOTE", f"{remote.base}/query")
    process, port, _ = start_practicebank(
        store, "--workers", "1", "--service-allowlist", f"{remote.base}/query",
        "--bind-join-batch", str(batch), "--query-timeout", "900",
        "--service-timeout", "900", "--max-remote-answer", str(2 * 1024 ** 3))
    try:
        ask(port, query)  # warm-up: workers, snapshot, the remote's caches
        remote.reset()
        times, answer = [], None
        for _ in range(runs):
            seconds, answer = ask(port, query)
            times.append(seconds)
        counts = remote.reset()
    finally:
        stop(process)
    return {"p50": statistics.median(times), "min": min(times), "max": max(times),
            "requests": counts.requests / runs, "sent": counts.sent_bytes / runs,
            "fetched": counts.answer_bytes / runs, "answer": answer}


def megabytes(n: float) -> str:
    return f"{n / 1e3:,.1f} kB" if n < 1e6 else f"{n / 1e6:,.1f} MB"


def report(args, results: dict[str, dict], triples: int, bindings: int) -> str:
    naive, bind = results[NAIVE], results[BIND]
    speedup = naive["p50"] / bind["p50"]
    lines = [
        "## Federation: naive SERVICE against bind join",
        "",
        f"Remote: `oxigraph serve-read-only` with {triples:,} triples (a Data Cube of counts "
        f"per area and year), behind a counting forwarder. Local: {LOCAL_PRACTICES:,} "
        f"practices; the query's topic has {bindings} of them (so {bindings} local bindings "
        f"of `?area`). `practicebank serve --workers 1` on loopback, {args.runs} runs after "
        f"a warm-up; {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"pyoxigraph {ox.__version__}.",
        "",
        "| path | requests to the remote | bytes sent | bytes fetched | p50 time | min–max |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['requests']:.0f} | {megabytes(r['sent'])} | "
                     f"{megabytes(r['fetched'])} | {r['p50'] * 1000:,.0f} ms | "
                     f"{r['min'] * 1000:,.0f}–{r['max'] * 1000:,.0f} ms |")
    lines += ["", f"Bind join: {speedup:,.1f}× faster than naive (target ≥ 10×: "
              f"{'met' if speedup >= 10 else 'NOT met'}); "
              f"{naive['fetched'] / max(bind['fetched'], 1):,.0f}× fewer bytes fetched. "
              f"Both paths gave the same {len(naive['answer']['results']['bindings'])} "
              "solutions.", ""]
    return "\n".join(lines)


def run(args) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-federation-"))
    remote_server = proxy = None
    try:
        started = time.monotonic()
        data = tmp / "remote.nt"
        areas = write_remote(data, args.triples)
        load_files(tmp / "remote", [data], log=tmp / "load.log")
        data.unlink()
        triples = areas * len(YEARS) * TRIPLES_PER_OBSERVATION
        build_local(tmp / "local", areas, args.selective)
        print(f"built the remote ({triples:,} triples, {areas:,} areas) and the local store "
              f"in {time.monotonic() - started:.0f} s", flush=True)
        remote_server = start_oxigraph(tmp / "remote", log=tmp / "remote.log", read_only=True)
        proxy = CountingProxy(remote_server.base)
        results = {}
        for name, batch in ((BIND, 100), (NAIVE, 0)):
            results[name] = measure(tmp / "local", proxy, batch, args.runs)
            r = results[name]
            print(f"{name}: p50 {r['p50'] * 1000:,.0f} ms, {r['requests']:.0f} requests, "
                  f"{megabytes(r['fetched'])} fetched", flush=True)
        if solutions(results[NAIVE]["answer"]) != solutions(results[BIND]["answer"]):
            sys.exit("the bind join's answer differs from the naive evaluation's")
        bindings = len({row["area"]["value"]
                        for row in results[BIND]["answer"]["results"]["bindings"]})
    finally:
        if proxy is not None:
            proxy.close()
        if remote_server is not None:
            remote_server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    text = report(args, results, triples, bindings)
    print("\n" + text, flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_federation.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000,
                        help="size of the remote (five triples per observation)")
    parser.add_argument("--selective", type=int, default=100,
                        help="practices (in distinct areas) on the topic the query asks about")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per path")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 100,000 triples, 3 runs")
    args = parser.parse_args()
    if args.quick:
        args.triples, args.runs = 100_000, 3
    run(args)


if __name__ == "__main__":
    main()
