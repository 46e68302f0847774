"""Workbench benchmark: faceted browsing, text search and autocompletion on 100k practices.

One command (not a test)::

    python bench/bench_browse.py [--store DIR] [--practices 100000] [--seconds 5]
                                 [--rounds 3] [--quick]

builds (or reuses, with ``--store``) the store of ``bench/endpoint_data.py`` (100,000
synthetic practices plus the bundled demo graphs), gives ``practicebank serve`` (its
defaults) a checkpoint of it, and measures on loopback, one client, keep-alive:

* the facet page ``/practices`` with every count: no filter, one filter, three filters
  (rating, topic and force), and a text search with a filter (``q`` and rating), the last
  both with a few words (whose practices the page keeps per commit after the first ask) and
  with a new pair of words every request; several values of each, round-robin (target:
  p50 <= 300 ms);
* text search ``/search?q=`` with one word, and with a prefix (``burgl*``) (target: p50 <=
  50 ms);
* autocompletion ``/complete?q=promis`` (target: p50 <= 30 ms).

The first request of the server run to /practices builds the facet index (once per
commit), and the first search the text index: each is timed apart, once. A route that
answers anything but 200 (search and completion are another part of the workbench) is an
error cell, not a crash. The machine has 2 cores shared with other work, so each cell is
measured in ``--rounds`` rounds: the table gives the median round's p50 and p95 and the
range of p50 over rounds. Prints a Markdown table and the targets' lines, and writes them
to ``bench/out/bench_browse.md``.
"""

from __future__ import annotations

import argparse
import html
import http.client
import itertools
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_endpoint as endpoint  # noqa: E402  (servers, CPU time)
from bench_pages import revision  # noqa: E402
from endpoint_data import build_store  # noqa: E402

OUT = HERE / "out"
#: Targets: cell group -> p50 milliseconds.
TARGETS = {"facets": 300.0, "search": 50.0, "complete": 30.0}
WORDS = ("burglary", "knife", "violence", "youth")  # words of endpoint_data's titles
#: More such words: pairs of them make text searches the page has not cached.
TITLE_WORDS = ("burglary knife violence youth diversion street lighting policing mentoring "
               "domestic abuse fraud elderly cyber safeguarding drugs county lines mediation "
               "restorative justice partnership school outreach victim support").split()
WARM_PATHS = 12  # paths of each cell asked once before timing
FIRST_TIMEOUT = 900  # seconds the first (index-building) request may take


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    return response.status, len(body), (time.perf_counter() - started) * 1000


def first_request(port: int, path: str) -> tuple[int, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=FIRST_TIMEOUT)
    try:
        status, _, ms = get(conn, path)
    finally:
        conn.close()
    return status, ms


def facet_values(port: int) -> dict[str, list[str]]:
    """The values /practices offers, per facet parameter (read from its checkboxes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=FIRST_TIMEOUT)
    conn.request("GET", "/practices")
    text = conn.getresponse().read().decode()
    conn.close()
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r'type="checkbox" id="[^"]+" name="([^"]+)" value="([^"]+)"',
                                  text):
        found.setdefault(name, []).append(html.unescape(value))
    return found


def practices_path(**params) -> str:
    pairs = [(k, v) for k, values in params.items() for v in
             (values if isinstance(values, list | tuple) else [values])]
    return "/practices?" + urllib.parse.urlencode(pairs) if pairs else "/practices"


def cells(values: dict[str, list[str]]) -> list[dict]:
    ratings = values.get("rating", [])[:4]
    topics = values.get("topic", [])[:6]
    forces = values.get("force", [])[:6]
    three = [practices_path(rating=r, topic=t, force=f)
             for r, t, f in itertools.islice(zip(itertools.cycle(ratings),
                                                 itertools.cycle(topics),
                                                 itertools.cycle(forces), strict=False), 12)]
    return [
        {"name": "facet page, no filter", "group": "facets", "paths": ["/practices"]},
        {"name": "facet page, one filter (rating)", "group": "facets",
         "paths": [practices_path(rating=r) for r in ratings]},
        {"name": "facet page, three filters (rating, topic, force)", "group": "facets",
         "paths": three},
        {"name": "facet page, q + filter (rating)", "group": "facets",
         "paths": [practices_path(q=w, rating=r) for w in WORDS for r in ratings[:2]]},
        {"name": "facet page, q + filter, each q new (not cached)", "group": "facets",
         "paths": [practices_path(q=f"{a} {b}", rating=r) for (a, b), r in
                   zip(itertools.permutations(TITLE_WORDS, 2), itertools.cycle(ratings),
                       strict=False)]},
        {"name": "text search /search?q=word", "group": "search",
         "paths": [f"/search?q={w}" for w in WORDS]},
        {"name": "text search /search?q=prefix*", "group": "search",
         "paths": [f"/search?q={w[:5]}*" for w in WORDS]},
        {"name": "autocompletion /complete?q=promis", "group": "complete",
         "paths": ["/complete?q=promis"]},
    ]


def measure(port: int, paths: list[str], seconds: float) -> dict:
    """Requests round-robin for ``seconds`` on one keep-alive connection; a status other
    than 200 stops the cell and is reported."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    latencies, sizes = [], []
    stop = time.monotonic() + seconds
    try:
        for path in itertools.cycle(paths):
            status, size, ms = get(conn, path)
            if status != 200:
                return {"error": f"{status} on {path}"}
            latencies.append(ms)
            sizes.append(size)
            if time.monotonic() >= stop and len(latencies) >= len(paths):
                break
    finally:
        conn.close()
    latencies.sort()
    return {"p50": latencies[len(latencies) // 2],
            "p95": latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))],
            "n": len(latencies), "kb": statistics.mean(sizes) / 1024}


def run(args) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="pb-bench-browse-"))
    process = None
    try:
        store = args.store or tmp / "store"
        if not store.exists():
            started = time.monotonic()
            build_store(store, args.practices)
            print(f"built {store} in {time.monotonic() - started:.0f} s", flush=True)
        ox.Store.read_only(str(store)).backup(str(tmp / "pb"))
        started = time.monotonic()
        process, port, _ = endpoint.start_practicebank(tmp / "pb")  # returns once warm
        firsts = {"serve until /health says the start-up builds are done (listing order, "
                  "completion, text and facet indexes, charts)":
                  (200, (time.monotonic() - started) * 1000)}
        for name, path in (("first /practices after that", "/practices"),
                           ("first /search after that", f"/search?q={WORDS[0]}"),
                           ("first /complete after that", "/complete?q=promis")):
            status, ms = first_request(port, path)
            firsts[name] = (status, ms)
            print(f"{name}: {status} in {ms / 1000:.1f} s", flush=True)
        values = facet_values(port)
        todo = cells(values)
        for c in todo:  # warm up: the first paths of each cell once
            measure(port, c["paths"][:WARM_PATHS], 0)
        results: dict[str, list[dict]] = {c["name"]: [] for c in todo}
        for round_ in range(args.rounds):
            for c in todo:
                r = measure(port, c["paths"], args.seconds)
                results[c["name"]].append(r)
                shown = (r["error"] if "error" in r else
                         f"p50 {r['p50']:7.1f} ms  p95 {r['p95']:7.1f} ms  n {r['n']}")
                print(f"round {round_ + 1} {c['name']:52} {shown}  load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if process is not None:
            endpoint.stop(process)
        shutil.rmtree(tmp, ignore_errors=True)
    return report(args, todo, results, firsts, values)


def report(args, todo, results, firsts, values) -> str:
    lines = [
        "# bench_browse: faceted browsing, text search, autocompletion",
        "",
        f"Commit {revision()}; {os.cpu_count()} CPUs (shared); store: "
        f"{args.store or f'{args.practices} practices, built'}; practicebank serve with its "
        f"defaults; one client, keep-alive; {args.rounds} rounds of {args.seconds:g} s a cell "
        "(median round shown, p50 range over rounds in brackets).",
        "",
        "| what | p50 ms | p95 ms | p50 range ms | requests | KiB/answer |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    verdicts: dict[str, list[tuple[str, float | None]]] = {g: [] for g in TARGETS}
    for c in todo:
        rounds = results[c["name"]]
        errors = [r["error"] for r in rounds if "error" in r]
        if errors:
            lines.append(f"| {c['name']} | error: {errors[0]} | | | | |")
            verdicts[c["group"]].append((c["name"], None))
            continue
        ordered = sorted(rounds, key=lambda r: r["p50"])
        mid = ordered[len(ordered) // 2]
        lines.append(f"| {c['name']} | {mid['p50']:.1f} | {mid['p95']:.1f} | "
                     f"{ordered[0]['p50']:.1f}–{ordered[-1]['p50']:.1f} | "
                     f"{sum(r['n'] for r in rounds)} | {mid['kb']:.0f} |")
        verdicts[c["group"]].append((c["name"], mid["p50"]))
    lines += ["", "Start-up (the per-commit indexes are built as the server starts) and the "
              "first requests after it:", ""]
    lines += [f"- {name}: {status}, {ms / 1000:.1f} s" for name, (status, ms) in firsts.items()]
    lines += ["", "Facet values offered: " + ", ".join(
        f"{k} {len(v)}" for k, v in values.items()) + ".", "", "Targets:", ""]
    for group, target in TARGETS.items():
        for name, p50 in verdicts[group]:
            verdict = "ERROR" if p50 is None else ("PASS" if p50 <= target else "FAIL")
            got = "no answer" if p50 is None else f"{p50:.1f} ms"
            lines.append(f"- {verdict}: {name}: p50 {got} (target <= {target:g} ms)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--practices", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="seconds of requests per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", type=Path, help="reuse (or create) the benchmark store here")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5,000 practices, 2 rounds of 2 s")
    args = parser.parse_args()
    if args.quick:
        args.practices, args.seconds, args.rounds = 5000, 2.0, 2
    text = run(args)
    print("\n" + text, flush=True)
    (OUT / "bench_browse.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
