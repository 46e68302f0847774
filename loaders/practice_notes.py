"""Facts that a record's free-text notes state in a fixed form.

The sample's notes say "Partners: Education; Health.", "Partner charity: X", "also known as
Y", "start July 2023" or "first published 17 Dec 2024". Those facts are taken; the rest of a
note is not stored. A partner organisation a note names takes part like any other
(:mod:`.participation` asks :func:`partner_organisations_in`).
"""

from __future__ import annotations

import re

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS

from practicebank.namespaces import PB, SCHEMA

from .concepts import as_values
from .practice_concepts import link_concept
from .practice_dates import add_practice_date
from .practice_file import PracticeFile

_NOTE_PARTNERS = re.compile(r"\bpartners?(?: shown| listed)?:\s*([^.]+)\.", re.IGNORECASE)
_NOTE_PARTNER_ORG = re.compile(r"\bpartner (?:charity|organisation):\s*([^.;]+)", re.IGNORECASE)
_NOTE_AKA = re.compile(r"\balso known as ([^.;,]+)", re.IGNORECASE)
#: Dates a note states: (pattern, the practice's property for it).
_NOTE_DATES = (
    (re.compile(r"\bstart(?:ed)?\s+([A-Z][a-z]+ \d{4})"), PB.startDate),
    (re.compile(r"\bfirst published\s+(\d{1,2} [A-Z][a-z]+ \d{4})"), DCTERMS.issued),
)


def add_note_facts(file: PracticeFile, n: int, practice: URIRef, text: str) -> None:
    """The partner types, other names and dates that ``text`` states in a fixed form."""
    for match in _NOTE_PARTNERS.finditer(text):
        for value in as_values(match.group(1)):
            link_concept(file, n, practice, PB.partnerType, "partner-type", "notes", value)
    for match in _NOTE_AKA.finditer(text):
        file.triples.add((practice, SCHEMA.alternateName,
                          Literal(match.group(1).strip(), lang="en")))
    for regex, prop in _NOTE_DATES:
        if match := regex.search(text):
            add_practice_date(file, n, practice, prop, "notes", match.group(1))


def partner_organisations_in(text: str) -> list[str]:
    """The organisations a note names as partners ("Partner charity: X")."""
    return [match.group(1).strip() for match in _NOTE_PARTNER_ORG.finditer(text)]
