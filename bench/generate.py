"""Synthetic practice-bank data at realistic distributions, in every input format.

    python bench/generate.py --sizes 1000 10000 100000 [--out bench/out] [--formats csv json …]

writes ``bench/out/{size}/practices.{csv,json,jsonl,nt,ttl,nq,trig,rdf,jsonld,nt.gz,ttl.gz}``.
The distributions follow the sample of 28 real records (shared/domain/practices.csv): about
half have no rating; ratings are mostly Promising, then Untested – new or innovative, some
Worked, few Didn't work; 1–3 purposes; 0–8 topics (most have a few); the organisation is one
of the 51 forces for most, a named partner body for some, none for a tenth; stage, scale,
region and target groups are often missing; a tenth have a recognition. About 19 triples a
practice, so 100,000 practices are about 1.9 million triples. The data is synthetic: titles
and summaries are made up from word lists. The RDF files are made by practicebank's own
converter (the JSON Lines file through ``convert_records``), so every format holds the same
triples.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox

PAGE = "https://www.college.police.uk/support-forces/practices/"
RATINGS = [("Promising", 30), ("Untested – new or innovative", 12), ("Worked", 5),
           ("Didn't work", 3)]
PURPOSES = ["Prevention", "Diversion", "Reoffending", "Organisational", "Investigation"]
TOPICS = ["Community engagement", "Crime prevention", "Criminal justice",
          "Diversity and inclusion", "Drugs and alcohol", "Ethics and values",
          "Intelligence and investigation", "Leadership, development and learning",
          "Offender management", "Operational policing", "Organisation including workforce",
          "Violence against women and girls", "Violence (other)",
          "Violence including homicide", "Vulnerability and safeguarding",
          "Anti-social behaviour", "Contact management", "Knife crime", "Dangerous driving"]
STAGES = ["The practice is implemented.", "Planned", "Evaluated locally",
          "Independently evaluated"]
SCALES = ["Local", "Regional", "National"]
REGIONS = ["North East", "North West", "Yorkshire and the Humber", "East Midlands",
           "West Midlands", "East of England", "London", "South East", "South West", "Wales"]
GROUPS = ["Adults", "Children and young people", "Communities", "Families", "General public",
          "Offenders", "Victims", "Women", "Workforce"]
RECOGNITION = ["HMICFRS", "Smarter practice", "Tilley award", "Police STAR Fund"]
BODIES = ["Safer Streets Partnership", "Youth Diversion Trust", "Local Health Board",
          "Community Safety Network", "Night Time Economy Forum"]
ADJECTIVES = ["Safer", "Early", "Joint", "Targeted", "Community", "Rapid", "Integrated",
              "Focused", "Local", "Digital", "Night-time", "Youth", "Rural", "Problem-solving"]
NOUNS = ["patrols", "navigators", "intervention", "mentoring", "hub", "panel", "pathway",
         "scheme", "response", "passport", "triage", "outreach", "review", "network"]
CSV_HEADINGS = {"title": "title", "rating": "does_it_work", "purpose": "purpose_focus",
                "organisation": "organisation", "topics": "topics",
                "stage": "stage_of_practice", "recognition": "recognised_practice",
                "region": "region", "scale": "scale_of_initiative",
                "target_group": "target_group", "source_url": "source_url",
                "source_type": "source_type", "summary": "summary_paraphrase",
                "start_date": "start_date"}
RDF_FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE,
               "nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
               "rdf": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}
ALL_FORMATS = ["csv", "json", "jsonl", *RDF_FORMATS, "nt.gz", "ttl.gz"]


def forces() -> list[str]:
    """The names of the 51 reference forces."""
    from rdflib.namespace import SKOS

    from practicebank.resources import FORCES, bundle_graph

    g = bundle_graph(FORCES)
    return sorted(str(o) for s, o in g.subject_objects(SKOS.prefLabel) if "/id/force/" in s)


def records(n: int, seed: int = 4) -> Iterator[dict]:
    """``n`` practice records (our JSON field names), the same for the same seed."""
    rng = random.Random(seed)
    names = forces()
    for i in range(n):
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(NOUNS)} {i + 1}"
        slug = f"synthetic-practice-{i + 1}"
        r: dict = {"title": title, "source_url": [PAGE + slug],
                   "source_type": "primary: synthetic"}
        if rng.random() < 0.9:
            r["summary"] = (f"A synthetic {rng.choice(NOUNS)} practice that a "
                            f"{rng.choice(ADJECTIVES).lower()} team ran to reduce harm.")
        if rng.random() < 0.5:
            r["rating"] = rng.choices([x for x, _ in RATINGS], [w for _, w in RATINGS])[0]
        r["purpose"] = rng.sample(PURPOSES, rng.choices([1, 2, 3], [70, 22, 8])[0])
        k = min(8, max(0, int(rng.expovariate(1 / 2.2))))
        if k:
            r["topics"] = rng.sample(TOPICS, k)
        roll = rng.random()
        if roll < 0.8:
            r["organisation"] = rng.choice(names)
        elif roll < 0.9:
            r["organisation"] = rng.choice(BODIES)
        if rng.random() < 0.6:
            r["stage"] = rng.choices(STAGES, [80, 8, 8, 4])[0]
        if rng.random() < 0.5:
            r["scale"] = rng.choice(SCALES)
        if rng.random() < 0.5:
            r["region"] = rng.choice(REGIONS)
        groups = rng.randint(0, 5) if rng.random() < 0.6 else 0
        if groups:
            r["target_group"] = rng.sample(GROUPS, groups)
        if rng.random() < 0.1:
            r["recognition"] = [rng.choice(RECOGNITION)]
        if rng.random() < 0.3:
            r["start_date"] = f"{rng.randint(2012, 2024)}-{rng.randint(1, 12):02d}"
        yield r


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_HEADINGS.values())
        for r in rows:
            writer.writerow(["; ".join(v) if isinstance(v := r.get(k, ""), list) else v
                             for k in CSV_HEADINGS])


def ntriples(rows: list[dict], graph_name: str = "practices") -> bytes:
    """The records through practicebank's converter, as N-Triples."""
    from practicebank.loaders.practices_csv import PracticeConverter

    converter = PracticeConverter(file="generated")
    return converter.convert_records(enumerate(rows, start=1), graph_name).triples.ntriples()


def write(size: int, out: Path, wanted: list[str], seed: int = 4) -> dict[str, Path]:
    folder = out / str(size)
    folder.mkdir(parents=True, exist_ok=True)
    rows = list(records(size, seed))
    written = {}
    if "csv" in wanted:
        write_csv(written.setdefault("csv", folder / "practices.csv"), rows)
    if "json" in wanted:
        written["json"] = folder / "practices.json"
        written["json"].write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    if "jsonl" in wanted:
        written["jsonl"] = folder / "practices.jsonl"
        with written["jsonl"].open("w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    rdf = [f for f in wanted if f.split(".")[0] in RDF_FORMATS]
    if rdf:
        store = ox.Store()
        store.bulk_load(ntriples(rows), format=ox.RdfFormat.N_TRIPLES,
                        to_graph=ox.NamedNode("https://w3id.org/practicebank/graph/practices"))
        for name in rdf:
            base = name.split(".")[0]
            path = folder / f"practices.{name}"
            fmt = RDF_FORMATS[base]
            graph = None if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG) else \
                ox.NamedNode("https://w3id.org/practicebank/graph/practices")
            data = store.dump(format=fmt, from_graph=graph) if graph else store.dump(format=fmt)
            if name.endswith(".gz"):
                with gzip.open(path, "wb", compresslevel=3) as f:
                    f.write(data)
            else:
                path.write_bytes(data)
            written[name] = path
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--formats", nargs="+", default=ALL_FORMATS, choices=ALL_FORMATS)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    for size in args.sizes:
        for name, path in write(size, args.out, args.formats, args.seed).items():
            print(f"{size:>7} {name:<7} {path.stat().st_size / 1e6:8.1f} MB  {path}",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
