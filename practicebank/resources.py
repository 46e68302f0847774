"""Bundled files (ontology, vocabularies, shapes, reference and sample data), read from the
installed package with importlib.resources so a wheel works as well as a checkout."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from rdflib import Graph


@dataclass(frozen=True)
class Bundle:
    """One bundled file and the named graph it loads into.

    ``format`` names a row of the format table (:mod:`practicebank.formats`): Turtle is
    staged as it is; anything else (the corpus CSVs) is converted on load by the loaders'
    reader table, like any file given to ``practicebank load``, so the CSV stays the one
    source and no converted copy can drift from it."""

    graph: str
    package: str
    filename: str
    format: str = "ttl"

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

#: The corpus gathered from the public record (data/corpus/*.csv; the research notes beside
#: them stay in the repository), one graph per source; converted by practicebank.loaders.corpus.
CORPUS: tuple[Bundle, ...] = (
    Bundle("corpus-tilley", "practicebank.data", "corpus/tilley-awards.csv", "csv"),
    Bundle("corpus-star-fund", "practicebank.data", "corpus/star-fund.csv", "csv"),
    Bundle("corpus-toolkit", "practicebank.data", "corpus/crime-reduction-toolkit.csv", "csv"),
    Bundle("corpus-practice-bank", "practicebank.data", "corpus/practice-bank.csv", "csv"),
    Bundle("corpus-hmicfrs", "practicebank.data", "corpus/hmicfrs-practice.csv", "csv"),
)

#: External identifiers of the organisations practicebank names (GSS codes, charity and
#: company numbers, NHS ODS codes, Wikidata items), each with the public page that states it;
#: converted by practicebank.loaders.organisation_identifiers. After the corpus, which names
#: most of the organisations.
ORGANISATION_IDENTIFIERS = Bundle("organisation-identifiers", "practicebank.data",
                                  "organisation-identifiers.csv", "csv")

#: Corpus titles that name a practice described under another title, with why (read by the
#: corpus converters, not loaded as a graph).
SAME_PRACTICE = Bundle("same-practice", "practicebank.data", "corpus/same-practice.csv", "csv")

#: practicebank's crosswalk from its topics and intervention types to CrimeSolutions topics
#: (pb:ConceptMapping records, example IRIs on the CrimeSolutions side), read by the
#: cross-sector queries 15, 18 and 19: a graph of its own, apart from the vocabularies.
CRIMESOLUTIONS_CROSSWALK = Bundle("crimesolutions-crosswalk", "practicebank.data",
                                  "partners/crimesolutions-crosswalk.ttl")

#: What ``serve --demo`` loads, in order: the model first, then the data that uses it.
DEMO_BUNDLES: tuple[Bundle, ...] = (
    ONTOLOGY, VOCABULARIES, FORCES, ORGANISATIONS, SAMPLE, EVALUATIONS,
    CRIMESOLUTIONS_CROSSWALK, *CORPUS,
    ORGANISATION_IDENTIFIERS,
)

#: What validation always sees besides the data: the model and the reference data.
CONTEXT_BUNDLES: tuple[Bundle, ...] = (ONTOLOGY, VOCABULARIES, FORCES, ORGANISATIONS)


def bundle_graph(*bundles: Bundle) -> Graph:
    """Parse bundled Turtle files into one rdflib graph. Bundles in other formats (the
    corpus CSVs) are skipped: they are RDF only once the loaders convert them."""
    g = Graph()
    for b in bundles:
        if b.format == "ttl" and b.path().is_file():
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
