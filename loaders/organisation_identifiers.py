"""Convert the table of organisations' external identifiers (``organisation-identifiers.csv``)
to RDF.

Each row gives one identifier of one organisation that practicebank already names, as a
property of it (never ``owl:sameAs``): a GSS code, a charity or company number, an NHS ODS
code (plain string literals, leading zeros kept) or a Wikidata item (``pb:wikidata``, the
entity IRI ``http://www.wikidata.org/entity/Q…`` made from the row's Q-number). The row's
``iri`` is the organisation's practicebank IRI (``id/organisation/{slug}`` or
``id/force/{id}``); the organisation is typed ``pb:Organisation`` with its name
(``skos:prefLabel`` in English, as the other graphs name it) so that the shapes check its
identifiers in this graph too.

A literal cannot carry ``prov:wasDerivedFrom``, so the page that states an identifier is
recorded on the organisation: ``<org> prov:wasDerivedFrom <page>``, and the page is described
once as ``<page> a foaf:Document ; pb:dateRead "…"^^xsd:date``, as the corpus converters do.
The identifiers' patterns are the shapes' to check (shapes/organisation.ttl); the converter
refuses only what it cannot write: an unknown property, a row without its organisation's
IRI, its value or its page, and a Wikidata value that is not a Q-number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from rdflib import Literal, URIRef
from rdflib.namespace import FOAF, PROV, RDF, SKOS, XSD
from rdflib.term import Node

from practicebank.namespaces import ID, PB
from practicebank.problems import ERROR, WARNING, Problem

from .conversion import Conversion
from .practices_csv import heading_key

COLUMNS = ("organisation", "iri", "property", "value", "source_url", "date_read")
#: The headings that say a CSV file is this table (as heading_key gives them).
REQUIRED = frozenset({"organisation", "iri", "property", "value", "source_url"})

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
_QID = re.compile(r"^Q[1-9][0-9]*$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
#: The practicebank IRIs an organisation may have: a force or another organisation.
_ORGANISATION_IRI = re.compile(
    "^" + re.escape(str(ID)) + r"(organisation|force)/[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Identifier:
    """How one kind of identifier is written: its property and the term made from a cell."""

    prop: URIRef
    term: Callable[[str], Node]
    #: The cell's form when it is checked here (only where a bad cell cannot be written).
    form: re.Pattern[str] | None = None
    example: str = ""


def _wikidata(value: str) -> URIRef:
    return URIRef(WIKIDATA_ENTITY + value)


#: The ``property`` column -> how its value is written. A new kind is one more line.
IDENTIFIERS: dict[str, Identifier] = {
    "gssCode": Identifier(PB.gssCode, Literal),
    "charityNumber": Identifier(PB.charityNumber, Literal),
    "companyNumber": Identifier(PB.companyNumber, Literal),
    "odsCode": Identifier(PB.odsCode, Literal),
    "wikidata": Identifier(PB.wikidata, _wikidata, _QID, "Q42"),
}


def convert_organisation_identifiers(rows: Iterable[Mapping[str, str | None]], *, file: str,
                                     graph_name: str) -> Conversion:
    """Turn rows of ``organisation-identifiers.csv`` into identifiers of organisations."""
    out = Conversion()
    out.describe_dataset(graph_name, "External identifiers of organisations, from the "
                         "public record")
    g = out.triples
    named: dict[URIRef, str] = {}        # organisation -> the name written for it
    read_on: dict[URIRef, str] = {}      # page -> the date written for it

    def problem(severity: str, message: str, row: int, column: str, value: str = "",
                focus: URIRef | None = None) -> None:
        out.problems.append(Problem(severity, message, file, row, column,
                                    focus=str(focus) if focus is not None else None,
                                    value=value or None))

    for number, raw in enumerate(rows, start=2):
        row = {heading_key(k): (v or "").strip() for k, v in raw.items() if k is not None}
        name, iri, kind = row.get("organisation", ""), row.get("iri", ""), row.get("property", "")
        value, page_url = row.get("value", ""), row.get("source_url", "")
        identifier = IDENTIFIERS.get(kind)
        if identifier is None:
            problem(ERROR, f"\"{kind}\" is not an identifier we record. Use one of: "
                    + ", ".join(IDENTIFIERS) + ".", number, "property", kind)
            continue
        if not _ORGANISATION_IRI.match(iri):
            problem(ERROR, "Not the IRI of a practicebank organisation (" + str(ID)
                    + "organisation/{slug} or " + str(ID) + "force/{id}); row not converted.",
                    number, "iri", iri)
            continue
        org = URIRef(iri)
        if not value:
            problem(ERROR, "The row gives no identifier (value); not converted.",
                    number, "value", focus=org)
            continue
        if identifier.form is not None and not identifier.form.match(value):
            problem(ERROR, f"\"{value}\" is not a {kind} value such as {identifier.example}; "
                    "not converted.", number, "value", value, org)
            continue
        if not _URL.match(page_url):
            problem(ERROR, "Every identifier must name the public page that states it "
                    "(source_url, one web address); row not converted.",
                    number, "source_url", page_url, org)
            continue
        if org not in named:
            out.add_row(org, number, "iri")
            g.add((org, RDF.type, PB.Organisation))
            if name:
                g.add((org, SKOS.prefLabel, Literal(name, lang="en")))
                named[org] = name
            else:
                problem(WARNING, "The row does not name its organisation (organisation); "
                        "its name is left to the other graphs.", number, "organisation",
                        focus=org)
                named[org] = ""
        elif name and named[org] and name != named[org]:
            problem(WARNING, f"This organisation was named \"{named[org]}\" by an earlier "
                    "row; the first name is kept.", number, "organisation", name, org)
        g.add((org, identifier.prop, identifier.term(value)))
        page = URIRef(page_url)
        g.add((org, PROV.wasDerivedFrom, page))
        read = row.get("date_read", "")
        if page not in read_on:
            read_on[page] = read
            out.add_row(page, number, "source_url")
            g.add((page, RDF.type, FOAF.Document))
            try:
                g.add((page, PB.dateRead,
                       Literal(date.fromisoformat(read).isoformat(), datatype=XSD.date)))
            except ValueError:
                problem(WARNING, "Not a date (expected e.g. 2026-12-01); the page has no "
                        "date read.", number, "date_read", read, page)
        elif read != read_on[page]:
            problem(WARNING, f"This page was read on {read_on[page] or 'an unstated day'} "
                    "by an earlier row; that date is kept.", number, "date_read", read, page)
    return out


__all__ = ["COLUMNS", "IDENTIFIERS", "REQUIRED", "convert_organisation_identifiers"]
