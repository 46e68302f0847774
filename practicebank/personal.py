"""Personal data never enters the store: what counts as personal, and dropping it on load.

Practice pages name a contact officer and give an e-mail address; the police API gives
telephone numbers and the senior officers of a force. Every reader drops such fields with a
warning that names the field, and the SHACL shapes in ``shapes/personal-data.ttl`` refuse
whatever gets past a reader (for example a SPARQL Update).

For RDF input the properties and classes are read from those shapes, so the loader and the
shapes can never disagree: the paths of the shapes ``NoContactEmail`` and
``NoContactPerson``, and the target classes of ``NoPeople``. The shapes list every namespace
a term is published under (schema.org over http and https, FOAF, vCard's current and older
names), so a variant spelling is refused and dropped like the usual one.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pyoxigraph as ox
from rdflib import URIRef
from rdflib.namespace import SH

from .engines import cached_shapes
from .problems import WARNING, Problem

SHAPES = "https://w3id.org/practicebank/shapes/"
PROPERTY_SHAPES = (SHAPES + "NoContactEmail", SHAPES + "NoContactPerson")
PEOPLE_SHAPE = SHAPES + "NoPeople"

#: Field names (CSV headings, JSON keys, compared after ``field_key``) that hold personal data.
PERSONAL_FIELDS = frozenset({
    "contact", "contact_name", "contact_person", "contact_details", "email", "email_address",
    "e_mail", "phone", "telephone", "telephone_number", "mobile", "people", "officers",
    "fax", "fax_number",
})


@lru_cache(maxsize=4096)
def field_key(name: str) -> str:
    """"E-mail address" -> "e_mail_address": the key headings and JSON fields compare by."""
    return re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")


@lru_cache(maxsize=4096)
def is_personal_field(name: str) -> bool:
    key = field_key(name)
    return key in PERSONAL_FIELDS or key.replace("_", "") in {"email", "emailaddress"}


def dropped_field(field: str, file: str | None, **where) -> Problem:
    """The warning every reader gives for a personal-data field it did not read."""
    where = {"column": field, **where}
    return Problem(WARNING, f"Field \"{field}\" holds personal data (contact names, e-mail "
                   "addresses or telephone numbers); it was dropped and not stored.",
                   file, **where)


@lru_cache(maxsize=1)
def personal_properties() -> tuple[str, ...]:
    shapes = cached_shapes()
    found = set()
    for shape in PROPERTY_SHAPES:
        for prop in shapes.objects(URIRef(shape), SH.property):
            path = shapes.value(prop, SH.path)
            if isinstance(path, URIRef):
                found.add(str(path))
    return tuple(sorted(found))


@lru_cache(maxsize=1)
def personal_classes() -> tuple[str, ...]:
    return tuple(sorted(str(c) for c in cached_shapes().objects(URIRef(PEOPLE_SHAPE),
                                                                 SH.targetClass)))


def drop_personal_data(store: ox.Store, graph: ox.NamedNode, *,
                       file: str | None = None) -> list[Problem]:
    """Remove personal-data triples from ``graph`` of ``store``: the personal properties,
    and every triple about or pointing at a person. One warning per property or class,
    naming it, a node that had it and how many triples went."""
    props = " ".join(f"<{p}>" for p in personal_properties())
    classes = " ".join(f"<{c}>" for c in personal_classes())
    found = list(store.query(
        f"SELECT ?what (SAMPLE(?s) AS ?node) (COUNT(*) AS ?n) WHERE {{ GRAPH {graph} {{ "
        f"{{ VALUES ?what {{ {props} }} ?s ?what ?o }} UNION "
        f"{{ VALUES ?what {{ {classes} }} ?s a ?what }} }} }} GROUP BY ?what"))
    if not found:
        return []
    store.update(
        f"DELETE {{ GRAPH {graph} {{ ?s ?p ?o }} }} WHERE {{ GRAPH {graph} {{ "
        f"{{ VALUES ?p {{ {props} }} ?s ?p ?o }} UNION "
        f"{{ VALUES ?c {{ {classes} }} ?s a ?c . ?s ?p ?o }} UNION "
        f"{{ VALUES ?c {{ {classes} }} ?o a ?c . ?s ?p ?o }} }} }}")
    return [
        Problem(WARNING, f"<{row['what'].value}> holds personal data; {row['n'].value} "
                "triple(s) with it were dropped and not stored.",
                file, focus=_show(row["node"]), path=row["what"].value)
        for row in found
    ]


def _show(term) -> str:
    return term.value if isinstance(term, ox.NamedNode) else str(term)
