"""What a converter hands back: the graph, where each node came from, and its problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from rdflib.term import Node

from .namespaces import GRAPH, ORG, PB, PREFIXES, SCHEMA
from .problems import Problem

OGL = URIRef("http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/")


@dataclass
class Conversion:
    """The RDF a converter produced from one input, with row numbers for its nodes."""

    graph: Graph = field(default_factory=Graph)
    rows: dict[Node, tuple[int, str | None]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        for prefix, iri in PREFIXES.items():
            self.graph.bind(prefix, iri, override=True)

    def describe_dataset(self, graph_name: str, title: str, source: URIRef | None = None) -> None:
        """State the licence and title of the graph this conversion becomes."""
        dataset = GRAPH[graph_name]
        self.graph.add((dataset, RDF.type, DCAT.Dataset))
        self.graph.add((dataset, DCTERMS.title, _en(title)))
        self.graph.add((dataset, DCTERMS.license, OGL))
        if source is not None:
            self.graph.add((dataset, DCTERMS.source, source))


def _en(text: str):
    from rdflib import Literal

    return Literal(text, lang="en")


__all__ = ["Conversion", "OGL", "ORG", "PB", "SCHEMA"]
