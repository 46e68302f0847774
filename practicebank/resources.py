"""Bundled files (ontology, vocabularies, shapes, reference and sample data), read from the
installed package with importlib.resources so a wheel works as well as a checkout."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from rdflib import Graph


@dataclass(frozen=True)
class Bundle:
    """One bundled RDF file and the named graph it loads into."""

    graph: str
    package: str
    filename: str

    def path(self) -> Traversable:
        return files(self.package).joinpath(self.filename)

    def read_bytes(self) -> bytes:
        return self.path().read_bytes()


ONTOLOGY = Bundle("ontology", "practicebank.ontology", "practicebank.ttl")
VOCABULARIES = Bundle("vocabularies", "practicebank.ontology", "vocabularies.ttl")
FORCES = Bundle("reference", "practicebank.data", "reference.ttl")
ORGANISATIONS = Bundle("organisations", "practicebank.data", "organisations.ttl")
SAMPLE = Bundle("sample", "practicebank.data", "sample-practices.ttl")
EVALUATIONS = Bundle("evaluations", "practicebank.data", "evaluations.ttl")

#: What ``serve --demo`` loads, in order: the model first, then the data that uses it.
DEMO_BUNDLES: tuple[Bundle, ...] = (
    ONTOLOGY, VOCABULARIES, FORCES, ORGANISATIONS, SAMPLE, EVALUATIONS,
)

#: What validation always sees besides the data: the model and the reference data.
CONTEXT_BUNDLES: tuple[Bundle, ...] = (ONTOLOGY, VOCABULARIES, FORCES, ORGANISATIONS)


def bundle_graph(*bundles: Bundle) -> Graph:
    """Parse bundled Turtle files into one rdflib graph."""
    g = Graph()
    for b in bundles:
        if b.path().is_file():
            g.parse(data=b.read_bytes(), format="turtle")
    return g


def shapes_graph() -> Graph:
    """Every SHACL shapes file in ``shapes/`` as one graph."""
    g = Graph()
    for entry in sorted(files("practicebank.shapes").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".ttl"):
            g.parse(data=entry.read_bytes(), format="turtle")
    return g


def data_file(name: str) -> Traversable:
    """A file in the bundled ``data/`` folder."""
    return files("practicebank.data").joinpath(name)
