"""Benchmark data for the endpoint: about 100,000 practices (~1.9 M triples) in the model's shape.

The endpoint benchmark needs a store big enough that a research query costs real work and a
runaway query really runs away. The practices are synthetic but shaped like the sample data
(``data/sample-practices.ttl``): a title and abstract, an identifier, sources, a force as the
organisation, a stage, topics, purposes and target groups from the bundled vocabularies,
a start date, and for half of them a "Does it work?" ``pb:RatingAssessment``. The concepts
and forces are read from the bundled data, so every IRI the practices point at exists.

Usage: ``python bench/endpoint_data.py STORE_DIR [--practices N]`` builds the store (the
bundled demo graphs plus ``graph/bench``); the benchmark calls :func:`build_store`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from practicebank.loaders.load import ensure_demo
from practicebank.namespaces import BASE, GRAPH
from practicebank.store import PracticeStore

PB = BASE + "def/"
ID = BASE + "id/"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
COLLEGE = "https://www.college.police.uk/support-forces/practices/"
BENCH_GRAPH = "bench"

WORDS = (
    "burglary knife violence youth diversion night-time economy street lighting hot spot "
    "policing mentoring domestic abuse fraud elderly cyber safeguarding drugs county lines "
    "mediation restorative justice problem solving partnership school outreach victim "
    "support neighbourhood watch alcohol retail theft vehicle crime anti-social behaviour "
    "cctv patrol deterrence offender management early intervention community trigger "
    "exploitation missing persons stalking harassment hate crime road safety"
).split()


def concepts(store: PracticeStore, scheme: str) -> list[str]:
    """The IRIs of the concepts in one bundled concept scheme, sorted."""
    rows = store.query(
        "SELECT ?c WHERE { ?c <http://www.w3.org/2004/02/skos/core#inScheme> "
        f"<{BASE}concept/{scheme}> }} ORDER BY ?c"
    )
    return [row["c"].value for row in rows]


def forces(store: PracticeStore) -> list[str]:
    rows = store.query(f"SELECT ?f WHERE {{ ?f a <{PB}PoliceForce> }} ORDER BY ?f")
    return [row["f"].value for row in rows]


def _lit(text: str, lang: str | None = "en") -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}' if lang else f'"{escaped}"'


def _typed(value: str, datatype: str) -> str:
    return f'"{value}"^^<{XSD}{datatype}>'


def practice_lines(i: int, rnd: random.Random, vocab: dict[str, list[str]]) -> list[str]:
    """The N-Triples lines of practice number ``i`` (and of its rating, for half of them)."""
    words = rnd.sample(WORDS, 4)
    slug = f"p{i:06d}-" + "-".join(words[:3])
    practice = f"<{ID}practice/{slug}>"
    title = " ".join(words).capitalize() + f" scheme {i}"
    triples = [
        (practice, f"<{RDF_TYPE}>", f"<{PB}Practice>"),
        (practice, f"<{DCT}title>", _lit(title)),
        (practice, f"<{DCT}abstract>", _lit(f"A {words[0]} and {words[1]} initiative "
                                             f"working with {words[2]} partners.")),
        (practice, f"<{DCT}identifier>", _lit(slug, None)),
        (practice, f"<{PROV}wasDerivedFrom>", f"<{COLLEGE}{slug}>"),
        (practice, f"<{SCHEMA}url>", f"<{COLLEGE}{slug}>"),
        (practice, f"<{PB}organisation>", f"<{rnd.choice(vocab['force'])}>"),
        (practice, f"<{PB}sourceKind>", _lit(rnd.choice(("primary", "secondary")), None)),
        (practice, f"<{PB}stage>", f"<{rnd.choice(vocab['stage'])}>"),
        (practice, f"<{PB}startDate>",
         _typed(f"{rnd.randint(2010, 2024)}-{rnd.randint(1, 12):02d}", "gYearMonth")),
    ]
    for topic in rnd.sample(vocab["topic"], 2):
        triples.append((practice, f"<{PB}topic>", f"<{topic}>"))
    triples.append((practice, f"<{PB}purpose>", f"<{rnd.choice(vocab['purpose'])}>"))
    triples.append((practice, f"<{PB}targetGroup>", f"<{rnd.choice(vocab['target-group'])}>"))
    triples.append((practice, f"<{PB}scale>", f"<{rnd.choice(vocab['scale'])}>"))
    triples.append((practice, f"<{DCT}issued>",
                    _typed(f"{rnd.randint(2015, 2025)}-{rnd.randint(1, 12):02d}-01", "date")))
    if i % 2 == 0:
        rating = f"<{ID}assessment/{slug}/does-it-work>"
        triples += [
            (practice, f"<{PB}rating>", rating),
            (rating, f"<{RDF_TYPE}>", f"<{PB}RatingAssessment>"),
            (rating, f"<{PB}assessedPractice>", practice),
            (rating, f"<{PB}assessedBy>", f"<{ID}organisation/college-of-policing>"),
            (rating, f"<{PB}ratingScale>", f"<{BASE}concept/does-it-work>"),
            (rating, f"<{PB}ratingValue>", f"<{rnd.choice(vocab['does-it-work'])}>"),
            (rating, f"<{PROV}wasDerivedFrom>", f"<{COLLEGE}{slug}>"),
        ]
    return [f"{s} {p} {o} .\n" for s, p, o in triples]


def write_practices(path: Path, n: int, vocab: dict[str, list[str]], seed: int = 5) -> int:
    """Write ``n`` practices as N-Triples to ``path``; returns the number of triples."""
    rnd = random.Random(seed)
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n):
            lines = practice_lines(i, rnd, vocab)
            out.writelines(lines)
            count += len(lines)
    return count


def build_store(path: Path, practices: int = 100_000) -> int:
    """Create the benchmark store at ``path`` (which must not exist); returns its triple count."""
    store = PracticeStore(path)
    try:
        ensure_demo(store)
        schemes = ("topic", "purpose", "stage", "target-group", "scale", "does-it-work")
        vocab = {scheme: concepts(store, scheme) for scheme in schemes}
        vocab["force"] = forces(store)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "practices.nt"
            write_practices(data, practices, vocab)
            store.ox.bulk_load(path=str(data), format=ox.RdfFormat.N_TRIPLES,
                               to_graph=ox.NamedNode(str(GRAPH[BENCH_GRAPH])))
        store.ox.optimize()
        return len(store.ox)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("store", type=Path, help="folder for the new store (must not exist)")
    parser.add_argument("--practices", type=int, default=100_000)
    args = parser.parse_args()
    if args.store.exists():
        sys.exit(f"{args.store} exists; give a new folder")
    started = time.monotonic()
    triples = build_store(args.store, args.practices)
    print(f"{triples} triples in {args.store} ({time.monotonic() - started:.1f} s)")


if __name__ == "__main__":
    main()
