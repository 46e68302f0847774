"""Load benchmark: one command, one table per size.

    python bench/bench_load.py --sizes 1000 10000 100000 [--formats nt ttl csv json …]

For each size it generates the data if missing (bench/generate.py), then loads each format
into a fresh on-disk store, each in its own process so that peak memory is that load's
alone, and prints: parse+convert time and rate, validation time, commit time, triples per
second end to end excluding validation, practices per second excluding validation, peak
memory (ru_maxrss). Then three more rows:

* ``bulk_load``: Oxigraph's own bulk loader on the N-Triples file (the yardstick);
* ``untargeted``: as many triples that no shape targets (must load near bulk speed);
* ``replace 1``: the N-Triples file again with one practice changed, into the loaded
  store: what is validated (nodes and time) when a graph of that size changes by one.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

DEFAULT_FORMATS = ["nt", "nt.gz", "ttl", "nq", "trig", "rdf", "jsonld", "csv", "json", "jsonl"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_load(path: Path, graph: str, engine: str | None, after=None) -> dict:
    """Load ``path`` into a fresh on-disk store in a temporary folder and return its row of
    figures; ``after(store, folder)`` runs before the store is closed and goes in "replace"."""
    from practicebank.loaders.load import load_file
    from practicebank.store import PracticeStore

    folder = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    try:
        store = PracticeStore(folder / "store")
        clock = time.perf_counter()
        result = load_file(store, path, graph=graph, engine=engine)
        total = time.perf_counter() - clock
        row = {"triples": result.triples, "focus": result.focus, "engine": result.engine,
               "total": total, **result.timings, "warnings": len(result.problems)}
        if after is not None:
            row["replace"] = after(store, folder)
        store.close()
        row["peak_mb"] = peak_mb()
        return row
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_one(size: int, fmt: str, out: Path, engine: str | None) -> dict:
    """One load in this process (called in a child process)."""
    source = out / str(size) / f"practices.{fmt}"
    after = (lambda store, folder: replace_one(store, source, folder, engine)) \
        if fmt == "nt" else None
    return {"format": fmt, **timed_load(source, "practices", engine, after)}


def replace_one(store, source: Path, folder: Path, engine: str | None) -> dict:
    """Reload the file with one practice's title changed: only that practice is validated."""
    from practicebank.loaders.load import load_file

    changed = folder / "practices.nt"
    text = source.read_text(encoding="utf-8")
    needle = '<http://purl.org/dc/terms/title> "'
    at = text.index(needle) + len(needle)
    changed.write_text(text[:at] + "Renamed " + text[at:], encoding="utf-8")
    clock = time.perf_counter()
    result = load_file(store, changed, graph="practices", engine=engine)
    return {"focus": result.focus, "validate": result.timings["validate"],
            "total": time.perf_counter() - clock, "added": result.added,
            "removed": result.removed}


def run_bulk(size: int, out: Path) -> dict:
    """Oxigraph's bulk loader alone, into an on-disk store (the yardstick)."""
    import pyoxigraph as ox

    folder = Path(tempfile.mkdtemp(prefix="pb-bench-"))
    try:
        store = ox.Store(str(folder / "store"))
        clock = time.perf_counter()
        store.bulk_load(path=str(out / str(size) / "practices.nt"),
                        format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode("https://w3id.org/practicebank/graph/p"))
        store.flush()
        total = time.perf_counter() - clock
        return {"format": "bulk_load", "total": total, "peak_mb": peak_mb()}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_untargeted(size: int, out: Path, engine: str | None) -> dict:
    """Triples no shape targets, as many as the practices file has: near bulk speed."""
    path = out / str(size) / "untargeted.nt"
    triples = sum(1 for _ in (out / str(size) / "practices.nt").open("rb"))
    if not path.exists():
        with path.open("w", encoding="utf-8") as f:
            for i in range(triples):
                f.write(f"<https://example.org/thing/{i // 19}> "
                        f"<https://example.org/p{i % 19}> \"value {i}\" .\n")
    return {"format": "untargeted", **timed_load(path, "untargeted", engine)}


def child(args: list[str]) -> dict:
    """Run one measurement in a fresh process; its last stdout line is the JSON row."""
    done = subprocess.run([sys.executable, __file__, *args], check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(size: int, rows: list[dict]) -> str:
    practices = size
    lines = [f"\n{size:,} practices",
             "| input | triples | parse+convert s | triples/s parse | validate s (nodes) "
             "| commit s | triples/s excl. validation | practices/s excl. validation "
             "| total s | peak MB |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["format"] == "bulk_load":
            t = rows[0].get("triples", 0)
            lines.append(f"| Oxigraph bulk_load (nt) | {t:,} | | | | | {t / r['total']:,.0f} | "
                         f"| {r['total']:.2f} | {r['peak_mb']:.0f} |")
            continue
        read, commit = r.get("read", 0.0), r.get("commit", 0.0)
        excl = read + commit
        per = f"{practices / excl:,.0f}" if r["format"] != "untargeted" else ""
        lines.append(
            f"| {r['format']} | {r['triples']:,} | {read:.2f} | {r['triples'] / read:,.0f} | "
            f"{r.get('validate', 0):.2f} ({r['focus']:,}) | {commit:.2f} | "
            f"{r['triples'] / excl:,.0f} | {per} | {r['total']:.2f} | {r['peak_mb']:.0f} |")
    for r in rows:
        if "replace" in r:
            x = r["replace"]
            lines.append(f"\nreplace one practice in a graph of {size:,} (reload of the nt file "
                         f"with one title changed): +{x['added']} -{x['removed']} triples, "
                         f"{x['focus']} node(s) validated in {x['validate'] * 1000:.0f} ms; "
                         f"whole reload {x['total']:.2f} s")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="practicebank load benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--formats", nargs="+", default=DEFAULT_FORMATS)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument("--engine", default=None, help="SHACL engine (turbo, pyshacl)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, size = args.child[0], int(args.child[1])
        engine = args.engine
        if kind == "bulk":
            row = run_bulk(size, args.out)
        elif kind == "untargeted":
            row = run_untargeted(size, args.out, engine)
        else:
            row = run_one(size, args.child[2], args.out, engine)
        print(json.dumps(row))
        return
    import generate

    engine_args = ["--engine", args.engine] if args.engine else []
    for size in args.sizes:
        folder = args.out / str(size)
        missing = [f for f in args.formats if not (folder / f"practices.{f}").exists()]
        if "nt" not in args.formats or missing:
            generate.write(size, args.out, sorted(set(missing) | {"nt"}))
        rows = [child([*engine_args, "--child", "load", str(size), f]) for f in args.formats]
        rows.append(child(["--child", "bulk", str(size)]))
        rows.append(child([*engine_args, "--child", "untargeted", str(size)]))
        print(table(size, rows), flush=True)


if __name__ == "__main__":
    main()
