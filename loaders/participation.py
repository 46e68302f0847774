"""Who took part in a practice: organisations, with their roles and partner types.

Every organisation a record names takes part through a ``prov:Attribution`` (also a
``pb:Participation``) holding its roles, beside the ``pb:organisation`` (a lead) or
``pb:partner`` shortcut that version 1 queries read. A role or partner type may follow the
name in brackets: "Home Office (funder)", "Autism Guernsey (Voluntary/not for profit
organisation; delivery)". A name is matched to the known organisations first; an unknown one
becomes ``id/organisation/{slug}`` once per file. Ratings and recognitions name their
assessors and reviewers through :func:`organisation_named` too, so one name is one node.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import PROV, RDF, SKOS

from practicebank.namespaces import ID, ORG, PB, concept
from practicebank.problems import WARNING

from .concepts import as_values, clean, is_absent, is_hedged
from .organisations import OrganisationIndex
from .practice_cells import json_text
from .practice_concepts import fact_concept, find_concept
from .practice_file import PracticeFile
from .practice_notes import partner_organisations_in

#: The fields that name participants, and the role each gives when none is written.
PARTICIPANT_FIELDS = (
    ("organisation", "lead"),
    ("lead_organisations", "lead"),
    ("partner_organisations", "partner"),
)
#: Roles that make an organisation the practice's own (``pb:organisation``), not a partner.
LEAD_ROLES = frozenset({"lead", "co-lead"})
#: "Name (funder; evaluator)": the bracket at the end of a participant's name.
_LAST_BRACKET = re.compile(r"^(?P<name>.*?)\s*\((?P<inner>[^()]*)\)\s*$")


@dataclass
class Participant:
    """One organisation named by a record, with the roles and partner types given to it."""

    org: URIRef
    roles: list[URIRef] = field(default_factory=list)
    types: list[URIRef] = field(default_factory=list)


def organisation_named(file: PracticeFile, n: int, name: str, fieldname: str) -> URIRef:
    """The known organisation called ``name``, or a new ``id/organisation/{slug}``."""
    return file.organisations.find(name) or _new_organisation(file, n, name, fieldname)


def _new_organisation(file: PracticeFile, n: int, name: str, fieldname: str) -> URIRef:
    """An organisation no index knows, described at the first row that names it."""
    org = OrganisationIndex.mint(name)
    if str(org) not in file.out.rows:
        file.out.add_row(org, n, file.column(fieldname))
        file.triples.add((org, RDF.type, PB.Organisation))
        file.triples.add((org, SKOS.prefLabel, Literal(name, lang="en")))
    return org


def add_participation(file: PracticeFile, n: int, practice: URIRef, slug: str,
                      v: Mapping[str, object]) -> None:
    """Organisations and their roles: ``organisation`` and ``lead_organisations`` lead,
    ``partner_organisations`` (and partners named in the notes) are partners, unless a
    bracket after the name gives roles or partner types. An organisation named twice takes
    part once, with the roles and types of both."""
    found: dict[URIRef, Participant] = {}
    sources = [(fieldname, role, _items(v.get(fieldname)))
               for fieldname, role in PARTICIPANT_FIELDS]
    if not is_absent(v.get("notes")):
        sources.append(("notes", "partner", partner_organisations_in(v["notes"])))
    for fieldname, default_role, items in sources:
        for item in items:
            if isinstance(item, dict):
                person = _participant_object(file, n, fieldname, item, practice)
            else:
                person = _participant_text(file, n, fieldname, item, practice)
            if person is None:
                continue
            if not person.roles:
                person.roles.append(concept("participation-role", default_role))
            known = found.setdefault(person.org, Participant(person.org))
            known.roles += [r for r in person.roles if r not in known.roles]
            known.types += [t for t in person.types if t not in known.types]
    g = file.triples
    for person in found.values():
        node = ID[f"participation/{slug}/{str(person.org).rsplit('/', 1)[-1]}"]
        file.out.add_row(node, n)
        g.add((practice, PROV.qualifiedAttribution, node))
        g.add((node, RDF.type, PROV.Attribution))
        g.add((node, RDF.type, PB.Participation))
        g.add((node, PROV.agent, person.org))
        for role in person.roles:
            g.add((node, PROV.hadRole, role))
        lead = any(str(r).rsplit("/", 1)[-1] in LEAD_ROLES for r in person.roles)
        g.add((practice, PB.organisation if lead else PB.partner, person.org))
        for kind in person.types:
            g.add((person.org, PB.partnerType, kind))
            g.add((person.org, ORG.classification, kind))


def _items(value: object) -> list:
    """A JSON array as it is (its items may be objects), a CSV cell split on ";"."""
    return value if isinstance(value, list) else as_values(value)


def _participant_text(file: PracticeFile, n: int, fieldname: str, text: object,
                      practice: URIRef) -> Participant | None:
    """"Name (role; partner type)": a bracket is read as roles and types only if it holds
    some; otherwise it is an annotation of the name and stays part of it."""
    if is_absent(text) or is_hedged(str(text)):
        return None
    name, roles, types = str(text).strip(), [], []
    if match := _LAST_BRACKET.match(name):
        tokens = [t.strip() for t in re.split(r"[;,]", match.group("inner")) if t.strip()]
        for token in tokens:
            if (role := find_concept(file, "participation-role", token)) is not None:
                roles.append(role)
            elif (kind := file.concepts.find("partner-type", token)) is not None:
                types.append(kind)
        if roles or types:
            name = match.group("name")
            unknown = len(tokens) - len(roles) - len(types)
            if unknown:
                file.problem(WARNING, f"Some of \"{match.group('inner')}\" are neither "
                             "participation roles (lead, co-lead, partner, funder, "
                             "evaluator, commissioner, delivery) nor partner types; they "
                             "were ignored.", n, fieldname, str(text), practice)
    name = clean(name)
    if not name:
        return None
    return Participant(organisation_named(file, n, name, fieldname), roles, types)


def _participant_object(file: PracticeFile, n: int, fieldname: str,
                        item: Mapping[str, object], practice: URIRef) -> Participant | None:
    """A JSON participant: ``{"name": …, "roles": […], "partner_types": […]}``."""
    name = json_text(item.get("name"))
    if is_absent(name) or is_hedged(name):
        return None
    person = Participant(organisation_named(file, n, clean(name), fieldname))
    for role in _items(item.get("roles")):
        if (found := fact_concept(file, n, "participation-role", fieldname, role,
                                  practice)) is not None:
            person.roles.append(found)
    for kind in _items(item.get("partner_types")):
        if (found := fact_concept(file, n, "partner-type", fieldname, kind,
                                  practice)) is not None:
            person.types.append(found)
    return person
