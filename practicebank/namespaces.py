"""IRIs and namespaces used throughout practicebank.

One configurable base (default ``https://w3id.org/practicebank/``) with fixed paths under it:
``def/`` for ontology terms (slash namespace, so every term dereferences on its own),
``concept/{scheme}/{notation}`` for SKOS concepts, ``id/{kind}/{slug}`` for things and
``graph/{name}`` for named graphs. The bundled Turtle files are written against the default base.
"""

from __future__ import annotations

import re
import unicodedata

import pyoxigraph as ox
from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

BASE = "https://w3id.org/practicebank/"

PB = Namespace(BASE + "def/")
CONCEPT = Namespace(BASE + "concept/")
ID = Namespace(BASE + "id/")
GRAPH = Namespace(BASE + "graph/")
SCHEMA = Namespace("https://schema.org/")
ORG = Namespace("http://www.w3.org/ns/org#")
QB = Namespace("http://purl.org/linked-data/cube#")
#: Our SPARQL extension functions (``pbf:matches``, the full-text match: text_analysis).
FUNCTION = Namespace(BASE + "def/function#")
ONS_GEOGRAPHY = "http://statistics.data.gov.uk/id/statistical-geography/"
POLICE_API = "https://data.police.uk/api/forces/"

PREFIXES: dict[str, str] = {
    "pb": str(PB),
    "concept": str(CONCEPT),
    "id": str(ID),
    "graph": str(GRAPH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "dcat": str(DCAT),
    "schema": str(SCHEMA),
    "org": str(ORG),
    "qb": str(QB),
    "pbf": str(FUNCTION),
}


def sparql_prefixes() -> str:
    """The PREFIX block for every namespace above, for queries written in code."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())


def slugify(text: str) -> str:
    """Lower-case ASCII slug: the rule for every ``id/…/{slug}`` we mint.

    "Hampshire & Isle of Wight Constabulary" -> "hampshire-isle-of-wight-constabulary".
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def concept(scheme: str, notation: str):
    """The IRI of concept ``notation`` in concept scheme ``scheme``."""
    return CONCEPT[f"{scheme}/{notation}"]


def scheme(name: str):
    """The IRI of concept scheme ``name``."""
    return CONCEPT[name]


def graph_node(name: str) -> ox.NamedNode:
    """The NamedNode of data graph ``graph/{name}``."""
    return ox.NamedNode(str(GRAPH[name]))
