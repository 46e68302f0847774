"""Convert the police-forces reference table (``forces.csv``) to RDF.

Each force becomes ``id/force/{data.police.uk id}``; a force that data.police.uk does not
list (British Transport Police, Police Scotland, the Crown Dependencies, the national special
forces) gets the slug of its name instead, e.g. ``id/force/british-transport-police``.
A force links to its ONS Police Force Area with ``pb:policeForceArea`` (a link, not an
identity) and carries that area's code as ``pb:gssCode`` (the key other datasets join on),
links to its data.police.uk API record with ``rdfs:seeAlso`` and to its region.
Every force links out: a force data.police.uk does not list has its own web site as
``schema:url`` instead, and so does any other force whose site a public page verified
(``WEBSITES``, each with the page it was read on). Its country is
a concept of the country scheme (``pb:country concept/country/wales``); the four Welsh
forces also have their Welsh names as ``skos:prefLabel`` in ``@cy``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS

from practicebank.namespaces import (
    ID,
    ONS_GEOGRAPHY,
    ORG,
    PB,
    POLICE_API,
    SCHEMA,
    concept,
    slugify,
)
from practicebank.problems import WARNING, Problem
from practicebank.resources import data_file

from .concepts import clean
from .conversion import Conversion

COLUMNS = ("name", "data_police_uk_id", "ons_pfa_code", "ons_pfa_name", "country", "notes")
REQUIRED = frozenset({"name", "data_police_uk_id", "ons_pfa_code"})

#: The notations of the country scheme (concept/country/{notation}).
COUNTRIES = ("england", "wales", "scotland", "northern-ireland", "guernsey", "jersey",
             "isle-of-man", "united-kingdom")
#: How forces.csv writes a jurisdiction that is not one country (its bracketed note aside).
COUNTRY_GROUPS = {
    "great-britain": ("england", "wales", "scotland"),
    "england-and-wales": ("england", "wales"),
}
#: The Welsh names of the four Welsh forces (skos:prefLabel @cy), each as the force itself
#: or an encyclopaedia gives it:
#:   https://en.wikipedia.org/wiki/Dyfed-Powys_Police ("Heddlu Dyfed-Powys")
#:   https://en.wikipedia.org/wiki/Gwent_Police ("Heddlu Gwent")
#:   https://en.wikipedia.org/wiki/North_Wales_Police ("Heddlu Gogledd Cymru"; also the force's
#:     own Welsh site, https://www.heddlu-gogledd-cymru.police.uk/)
#:   https://www.south-wales.police.uk/cy/amdanom-ni/swp-50/ ("Heddlu De Cymru", the force's
#:     own Welsh page)
WELSH_NAMES = {
    "dyfed-powys": "Heddlu Dyfed-Powys",
    "gwent": "Heddlu Gwent",
    "north-wales": "Heddlu Gogledd Cymru",
    "south-wales": "Heddlu De Cymru",
}
#: Forces' own web sites (schema:url): every force data.police.uk does not list, so that every
#: force links out, and the others whose site a stored public page verified (all read
#: 2026-12-01; a force missing here had no such page among those searched). Each was read on
#: the public page named above it:
WEBSITES = {
    # infobox "www.avonandsomerset.police.uk",
    # https://en.wikipedia.org/wiki/Avon_and_Somerset_Constabulary
    "avon-and-somerset": "https://www.avonandsomerset.police.uk/",
    # infobox "Website www.gwent.police.uk", https://wikimili.com/en/Gwent_Police
    "gwent": "https://www.gwent.police.uk/",
    # infobox "Website www.kent.police.uk", https://en.wikipedia-on-ipfs.org/wiki/Kent_Police
    "kent": "https://www.kent.police.uk/",
    # the force's own pages, https://www.lancashire.police.uk/news/2023/december/
    "lancashire": "https://www.lancashire.police.uk/",
    # the force's own Welsh pages, https://www.south-wales.police.uk/cy/amdanom-ni/swp-50/
    "south-wales": "https://www.south-wales.police.uk/",
    # the force's own pages,
    # http://www.sussex.police.uk/policing-in-sussex/the-organisation/who-we-are
    "sussex": "https://www.sussex.police.uk/",
    # the force's own pages,
    # https://www.thamesvalley.police.uk/contact/af/contact-us/us/contact-us/tvp/media-office/
    "thames-valley": "https://www.thamesvalley.police.uk/",
    # the force's own pages (annual report), https://guernsey.police.uk/AR22
    "bailiwick-of-guernsey-law-enforcement": "https://guernsey.police.uk/",
    # infobox "Website www.btp.police.uk", https://en.wikipedia.org/wiki/British_Transport_Police
    "british-transport-police": "https://www.btp.police.uk/",
    # the organisation's GOV.UK page,
    # https://www.gov.uk/government/organisations/civil-nuclear-constabulary/about
    "civil-nuclear-constabulary":
        "https://www.gov.uk/government/organisations/civil-nuclear-constabulary",
    # infobox "Website www.iompolice.im",
    # https://en.wikipedia.org/wiki/?oldid=969872399&title=Isle_of_Man_Constabulary
    "isle-of-man-constabulary": "https://www.iompolice.im/",
    # the force's own "About us" page, https://www.mod.police.uk/about-us/
    "ministry-of-defence-police": "https://www.mod.police.uk/",
    # the force's own pages,
    # https://www.scotland.police.uk/about-us/covid-19-police-scotland-response/faqs-general/
    "police-scotland": "https://www.scotland.police.uk/",
    # the force's own pages, https://jersey.police.uk/about-us/departments/integrity-compliance/
    "states-of-jersey-police": "https://jersey.police.uk/",
}


def country_concepts(text: str) -> list:
    """"Wales" -> [concept/country/wales]; "Guernsey (Crown Dependency)" -> guernsey;
    "Great Britain (England, Wales, Scotland railways)" -> england, wales, scotland."""
    slug = slugify(clean(text))
    if slug in COUNTRIES:
        return [concept("country", slug)]
    return [concept("country", c) for c in COUNTRY_GROUPS.get(slug, ())]


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
            countries = country_concepts(country)
            if not countries:
                out.problems.append(Problem(
                    WARNING, f"\"{country}\" is not a country we know ("
                    + ", ".join(COUNTRIES) + "); not recorded.", file, number, "country",
                    value=country))
            for found in countries:
                g.add((force, PB.country, found))
        if welsh := WELSH_NAMES.get(slug):
            g.add((force, SKOS.prefLabel, Literal(welsh, lang="cy")))
        if note := (row.get("notes") or "").strip():
            g.add((force, SKOS.editorialNote, Literal(note, lang="en")))
        if police_id:
            g.add((force, PB.policeUkId, Literal(police_id)))
            g.add((force, RDFS.seeAlso, URIRef(POLICE_API + police_id)))
        if website := WEBSITES.get(slug):
            g.add((force, SCHEMA.url, URIRef(website)))
        if region := regions.get(slug):
            g.add((force, PB.region, concept("region", region)))
        if code := (row.get("ons_pfa_code") or "").strip():
            area = URIRef(ONS_GEOGRAPHY + code)
            g.add((force, PB.policeForceArea, area))
            # The code of the area the force is responsible for, as every organisation's GSS
            # code is written: what other datasets (Wikidata's P836, ONS lookups) join on.
            g.add((force, PB.gssCode, Literal(code)))
            g.add((area, RDF.type, PB.PoliceForceArea))
            g.add((area, DCTERMS.identifier, Literal(code)))
            label = (row.get("ons_pfa_name") or "").strip() or name
            g.add((area, RDFS.label, Literal(label, lang="en")))
            out.add_row(area, number, "ons_pfa_code")
    return out
