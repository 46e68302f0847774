"""Convert the police-forces reference table (``forces.csv``) to RDF.

Each force becomes ``id/force/{data.police.uk id}``; a force that data.police.uk does not
list (British Transport Police, Police Scotland, the Crown Dependencies, the national special
forces) gets the slug of its name instead, e.g. ``id/force/british-transport-police``.
A force links to its ONS Police Force Area with ``pb:policeForceArea`` (a link, not an
identity), to its data.police.uk API record with ``rdfs:seeAlso`` and to its region.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from practicebank.namespaces import ID, ONS_GEOGRAPHY, ORG, PB, POLICE_API, concept, slugify
from practicebank.problems import WARNING, Problem
from practicebank.resources import data_file

from .conversion import Conversion

COLUMNS = ("name", "data_police_uk_id", "ons_pfa_code", "ons_pfa_name", "country", "notes")
REQUIRED = frozenset({"name", "data_police_uk_id", "ons_pfa_code"})


def force_slug(name: str, police_uk_id: str | None) -> str:
    """The documented slug of a force: its data.police.uk id, else the slug of its name."""
    return police_uk_id.strip() if police_uk_id and police_uk_id.strip() else slugify(name)


def force_regions() -> dict[str, str]:
    """force slug -> region notation, from the bundled ``force-regions.csv``."""
    with data_file("force-regions.csv").open(encoding="utf-8") as f:
        return {row["force"]: row["region"] for row in csv.DictReader(f)}


def convert_forces(rows: Iterable[Mapping[str, str]], *, file: str) -> Conversion:
    """Turn rows of ``forces.csv`` into police forces and Police Force Areas."""
    out = Conversion()
    out.describe_dataset(
        "reference", "UK police forces and their areas", URIRef("https://data.police.uk/api/forces")
    )
    g = out.triples
    regions = force_regions()
    for number, row in enumerate(rows, start=2):
        name = (row.get("name") or "").strip()
        if not name:
            out.problems.append(
                Problem(WARNING, "Row has no force name; skipped.", file, number, "name"))
            continue
        police_id = (row.get("data_police_uk_id") or "").strip()
        slug = force_slug(name, police_id)
        force = ID[f"force/{slug}"]
        out.add_row(force, number)
        g.add((force, RDF.type, PB.PoliceForce))
        g.add((force, RDF.type, PB.Organisation))  # stated, so queries need no reasoner
        g.add((force, SKOS.prefLabel, Literal(name, lang="en")))
        g.add((force, DCTERMS.identifier, Literal(slug)))
        g.add((force, ORG.classification, concept("partner-type", "police")))
        if country := (row.get("country") or "").strip():
            g.add((force, PB.country, Literal(country)))
        if note := (row.get("notes") or "").strip():
            g.add((force, SKOS.editorialNote, Literal(note, lang="en")))
        if police_id:
            g.add((force, PB.policeUkId, Literal(police_id)))
            g.add((force, RDFS.seeAlso, URIRef(POLICE_API + police_id)))
        if region := regions.get(slug):
            g.add((force, PB.region, concept("region", region)))
        if code := (row.get("ons_pfa_code") or "").strip():
            area = URIRef(ONS_GEOGRAPHY + code)
            g.add((force, PB.policeForceArea, area))
            g.add((area, RDF.type, PB.PoliceForceArea))
            g.add((area, DCTERMS.identifier, Literal(code)))
            label = (row.get("ons_pfa_name") or "").strip() or name
            g.add((area, RDFS.label, Literal(label, lang="en")))
            out.add_row(area, number, "ons_pfa_code")
    return out
