"""Plain JSON for web developers: one object per resource, keys that read as English.

``GET /id/practice/x.json`` (or the IRI with ``Accept: application/json``) gives::

    {"@context": "https://…/context.jsonld", "id": "https://w3id.org/…/x",
     "type": ["Practice"], "title": "Clear, Hold, Build",
     "organisation": {"id": "https://w3id.org/…/force/west-yorkshire",
                      "label": "West Yorkshire Police"}, …}

A developer reads it as JSON and needs no RDF: keys are the ontology's local names (and a
few well-known ones: ``title``, ``label``, ``description``), one value is a value and several
are a list, numbers and booleans are JSON's, and a link is an object with its ``id`` and
``label``. It is also JSON-LD: the published context (:func:`context_document`, generated
from the ontology file at a stable URL) maps every key to its IRI, so a JSON-LD processor
gets the same triples back (a test checks it).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

import pyoxigraph as ox

from practicebank.namespaces import BASE

from .descriptions import RDF_TYPE, Description

CONTEXT_PATH = "/context.jsonld"
PB = BASE + "def/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
#: Keys for terms of other vocabularies that our data uses.
WELL_KNOWN = {
    "title": DCT + "title",
    "description": DCT + "description",
    "identifier": DCT + "identifier",
    "date": DCT + "date",
    "license": DCT + "license",
    "created": DCT + "created",
    "modified": DCT + "modified",
    "source": DCT + "source",
    "label": RDFS + "label",
    "comment": RDFS + "comment",
    "seeAlso": RDFS + "seeAlso",
    "prefLabel": SKOS + "prefLabel",
    "altLabel": SKOS + "altLabel",
    "definition": SKOS + "definition",
    "notation": SKOS + "notation",
    "inScheme": SKOS + "inScheme",
    "broader": SKOS + "broader",
    "narrower": SKOS + "narrower",
    "scopeNote": SKOS + "scopeNote",
    "wasDerivedFrom": PROV + "wasDerivedFrom",
    "qualifiedAttribution": PROV + "qualifiedAttribution",
    "agent": PROV + "agent",
    "hadRole": PROV + "hadRole",
    "alternateName": "https://schema.org/alternateName",
    "amount": "https://schema.org/amount",
    "value": "https://schema.org/value",
    "currency": "https://schema.org/currency",
}
PREFIXES = {"pb": PB, "skos": SKOS, "dcterms": DCT, "prov": PROV, "rdfs": RDFS,
            "schema": "https://schema.org/", "xsd": XSD, "org": "http://www.w3.org/ns/org#",
            "owl": "http://www.w3.org/2002/07/owl#", "dcat": "http://www.w3.org/ns/dcat#"}
NUMBERS = {XSD + "integer": int, XSD + "int": int, XSD + "nonNegativeInteger": int,
           XSD + "positiveInteger": int, XSD + "decimal": float, XSD + "double": float,
           XSD + "float": float}


@lru_cache(maxsize=1)
def terms() -> dict[str, str]:
    """Key -> IRI: the ontology's local names, then the well-known keys."""
    store = ox.Store()
    store.load(files("practicebank.ontology").joinpath("practicebank.ttl").read_bytes(),
               ox.RdfFormat.TURTLE)
    keys: dict[str, str] = {}
    for q in store.quads_for_pattern(None, RDF_TYPE, None):
        iri = q.subject
        if isinstance(iri, ox.NamedNode) and iri.value.startswith(PB):
            name = iri.value[len(PB):]
            if name and "/" not in name:
                keys.setdefault(name, iri.value)
    keys.update(WELL_KNOWN)
    return keys


@lru_cache(maxsize=1)
def plain_string_keys() -> frozenset[str]:
    """Keys whose values are strings without a language (identifiers, codes): the context
    says so, since its default language is English."""
    store = ox.Store()
    store.load(files("practicebank.ontology").joinpath("practicebank.ttl").read_bytes(),
               ox.RdfFormat.TURTLE)
    string = ox.NamedNode(XSD + "string")
    by_iri = keys_by_iri()
    keys = {by_iri[q.subject.value] for q in store.quads_for_pattern(
        None, ox.NamedNode(RDFS + "range"), string) if q.subject.value in by_iri}
    return frozenset(keys | {"identifier", "notation"})


@lru_cache(maxsize=1)
def keys_by_iri() -> dict[str, str]:
    return {iri: key for key, iri in terms().items()}


def context_document() -> dict:
    """The JSON-LD context: ``id``/``type`` aliases, prefixes and every key's IRI."""
    context: dict = {"id": "@id", "type": "@type", "@language": "en", **PREFIXES}
    plain = plain_string_keys()
    for key, iri in sorted(terms().items()):
        context[key] = {"@id": iri, "@language": None} if key in plain else iri
    # Types are written by local name: they need the vocabulary to expand.
    context["@vocab"] = PB
    return {"@context": context}


@lru_cache(maxsize=1)
def context_text() -> str:
    """The context as served (it only changes with the ontology file)."""
    return json.dumps(context_document(), indent=1)


def key_for(iri: str) -> str:
    """The key of a predicate: its term, a prefixed name, or the IRI itself."""
    key = keys_by_iri().get(iri)
    if key:
        return key
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and "/" not in iri[len(namespace):]:
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def type_name(iri: str) -> str:
    if iri.startswith(PB) and "/" not in iri[len(PB):]:
        return iri[len(PB):]
    return key_for(iri)


def literal(term: ox.Literal) -> object:
    convert = NUMBERS.get(term.datatype.value)
    if convert is not None:
        try:
            return convert(term.value)
        except ValueError:
            return term.value
    if term.datatype.value == XSD + "boolean":
        return term.value in ("true", "1")
    if term.language and term.language != "en":  # English is the context's default
        return {"@value": term.value, "@language": term.language}
    return term.value


def compact(description: Description, context_url: str) -> dict:
    """The compact JSON of a description (see the module docstring)."""
    out = node_object(description, description.subject, 0)
    return {"@context": context_url, **out}


def node_object(description: Description, node, depth: int) -> dict:
    obj: dict = {}
    if isinstance(node, ox.NamedNode):
        obj["id"] = node.value
    types = [type_name(t.value) for t in description.types_of(node)]
    if types:
        obj["type"] = types
    for t in description.about(node):
        if t.predicate == RDF_TYPE:
            continue
        key = key_for(t.predicate.value)
        value = term_value(description, t.object, depth)
        if key in obj:
            if not isinstance(obj[key], list):
                obj[key] = [obj[key]]
            obj[key].append(value)
        else:
            obj[key] = value
    return obj


def term_value(description: Description, term, depth: int) -> object:
    if isinstance(term, ox.Literal):
        return literal(term)
    if isinstance(term, ox.BlankNode) or (isinstance(term, ox.NamedNode)
                                          and term in description.parts):
        if depth < 6:
            return node_object(description, term, depth + 1)
    if isinstance(term, ox.NamedNode):
        link: dict = {"id": term.value}
        label = description.label_of(term)
        if label is not None:
            link["label"] = label.value
        return link
    return str(term)
