"""data.police.uk street-level crime (``YYYY-MM-<force>-street.csv``) aggregated into crime
counts: RDF Data Cube observations (``pb:CrimeCountObservation``) per force, month and crime
category, in the dataset ``id/dataset/crime-counts-force`` (structure
``pb:forceCrimeCountStructure``), and with ``--by-lsoa`` also per LSOA, in
``id/dataset/crime-counts-lsoa`` (structure ``pb:lsoaCrimeCountStructure``). Each dataset has
one structure whose dimensions are all required (RDF Data Cube integrity constraint IC-11),
so force-level and LSOA-level counts never share one. Every file's graph describes the
datasets it adds observations to, in the same words.

Row-level records are never stored: crime ids, coordinates, street locations, outcomes and
context are read only to be counted. The force is the one the crime *falls within* (the
"Falls within" column, matched to the reference forces by name), or failing that the force
the file is named after. "Crime type" labels ("Violence and sexual offences") map to the
data.police.uk category concepts (``concept/crime-category/violent-crime``). An LSOA count
links to the ONS geography (``http://statistics.data.gov.uk/id/statistical-geography/E01…``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from practicebank.namespaces import ID, ONS_GEOGRAPHY, PB, QB, slugify
from practicebank.problems import ERROR, WARNING, Problem

from .concepts import bundled_index
from .conversion import Conversion, ReadContext
from .organisations import bundled_organisations

#: The 12 headings of the bulk download (vocabularies.md §12), as ``field_key`` reads them.
KEYS = frozenset({"crime_id", "month", "reported_by", "falls_within", "longitude", "latitude",
                  "location", "lsoa_code", "lsoa_name", "crime_type", "last_outcome_category",
                  "context"})
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
LSOA = re.compile(r"^[EW]01\d{6}$")
FILE_NAME = re.compile(r"^\d{4}-\d{2}-(?P<force>[a-z0-9-]+)-street(\.csv)?$")
DATA_POLICE_UK = URIRef("https://data.police.uk/data/")
#: The two datasets every street-level file adds to: (IRI, structure, title).
FORCE_DATASET = (ID["dataset/crime-counts-force"], PB.forceCrimeCountStructure,
                 "Recorded crime per police force, month and crime category (data.police.uk)")
LSOA_DATASET = (ID["dataset/crime-counts-lsoa"], PB.lsoaCrimeCountStructure,
                "Recorded crime per police force, LSOA, month and crime category "
                "(data.police.uk)")


def matches(keys: set[str]) -> bool:
    return KEYS <= keys


def convert_street_crime(rows: Iterable[Mapping[str, str]], ctx: ReadContext,
                         column: Mapping[str, str]) -> Conversion:
    """Count the rows; ``column`` maps our keys (``falls_within``) to the file's headings."""
    out = Conversion()
    out.describe_dataset(ctx.graph_name, "Crime counts from data.police.uk street-level data",
                         DATA_POLICE_UK)
    forces = bundled_organisations()
    categories = bundled_index()
    file_force = _file_force(ctx.name)
    counts: Counter[tuple[URIRef, str, URIRef, str | None]] = Counter()
    first_row: dict[tuple, int] = {}
    lsoa_names: dict[str, str] = {}
    bad: dict[tuple[str, str], tuple[int, int]] = {}  # (column, value) -> (first row, count)

    def problem(key: str, value: str, n: int) -> None:
        row, count = bad.get((key, value), (n, 0))
        bad[(key, value)] = (row, count + 1)

    for n, row in enumerate(rows, start=2):
        falls_within = (row.get(column["falls_within"]) or "").strip()
        force = _force(forces, falls_within) or file_force
        month = (row.get(column["month"]) or "").strip()
        label = (row.get(column["crime_type"]) or "").strip()
        category = categories.find("crime-category", label) if label else None
        if force is None:
            problem("falls_within", falls_within, n)
        if not MONTH.match(month):
            problem("month", month, n)
        if category is None:
            problem("crime_type", label, n)
        if force is None or category is None or not MONTH.match(month):
            continue
        keys = [(force, month, category, None)]
        code = (row.get(column["lsoa_code"]) or "").strip()
        if ctx.by_lsoa and code:
            if LSOA.match(code):
                keys.append((force, month, category, code))
                lsoa_names.setdefault(code, (row.get(column["lsoa_name"]) or "").strip())
            else:
                problem("lsoa_code", code, n)
        for key in keys:
            counts[key] += 1
            first_row.setdefault(key, n)

    for (key, value), (row, count) in bad.items():
        out.problems.append(_bad_value(ctx.file, column, key, value, row, count))
    g = out.triples
    for dataset, structure, title in (FORCE_DATASET, LSOA_DATASET) if ctx.by_lsoa else (
            FORCE_DATASET,):
        g.add((dataset, RDF.type, QB.DataSet))
        g.add((dataset, DCTERMS.title, Literal(title, lang="en")))
        g.add((dataset, QB.structure, structure))
        g.add((dataset, DCTERMS.source, DATA_POLICE_UK))
    for (force, month, category, code), count in counts.items():
        parts = [str(force).rsplit("/", 1)[-1], str(category).rsplit("/", 1)[-1], month]
        observation = ID[f"observation/{slugify(ctx.graph_name)}/{'-'.join(parts)}"
                         + (f"-{code}" if code else "")]
        out.add_row(observation, first_row[(force, month, category, code)])
        g.add((observation, RDF.type, PB.CrimeCountObservation))
        g.add((observation, RDF.type, QB.Observation))
        g.add((observation, QB.dataSet, (LSOA_DATASET if code else FORCE_DATASET)[0]))
        g.add((observation, PB.force, force))
        g.add((observation, PB.month, Literal(month, datatype=XSD.gYearMonth)))
        g.add((observation, PB.crimeCategory, category))
        g.add((observation, PB.crimeCount, Literal(count)))
        if code:
            g.add((observation, PB.lsoa, URIRef(ONS_GEOGRAPHY + code)))
    for code, name in lsoa_names.items():
        place = URIRef(ONS_GEOGRAPHY + code)
        g.add((place, RDF.type, PB.Place))
        g.add((place, DCTERMS.identifier, Literal(code)))
        if name:
            g.add((place, RDFS.label, Literal(name, lang="en")))
    return out


def _force(forces, name: str) -> URIRef | None:
    found = forces.find(name) if name else None
    return found if found is not None and "/id/force/" in str(found) else None


def _file_force(name: str) -> URIRef | None:
    """``2024-01-avon-and-somerset-street.csv`` -> the Avon and Somerset force."""
    match = FILE_NAME.match(name.lower())
    return _force(bundled_organisations(), match.group("force")) if match else None


MESSAGES = {
    "falls_within": "is not a police force we know (by name or data.police.uk id), and the "
                    "file name does not name one either; these rows were not counted.",
    "month": "is not a month written YYYY-MM; these rows were not counted.",
    "crime_type": "is not a data.police.uk crime type (such as \"Violence and sexual "
                  "offences\" or \"Anti-social behaviour\"); these rows were not counted.",
    "lsoa_code": "is not an LSOA code (E01 or W01 and six digits); these rows were counted "
                 "for the force only.",
}


def _bad_value(file: str, column: Mapping[str, str], key: str, value: str, row: int,
               count: int) -> Problem:
    severity = WARNING if key == "lsoa_code" else ERROR
    rows = f" ({count} rows, the first shown)" if count > 1 else ""
    return Problem(severity, f"\"{value}\" {MESSAGES[key]}{rows}", file, row,
                   column.get(key, key), value=value)
