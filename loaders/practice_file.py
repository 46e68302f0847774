"""One practice file being converted: what every part of the converter writes to.

The converter is split by concern (ratings, recognitions, participation, links, …). Each part
adds triples, notes the row a node came from and reports problems against the column as the
file names it, and looks values up in the same concept and organisation indexes. This object
holds those shared things, so the parts depend on it and never on one another's state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import URIRef

from practicebank.problems import Problem

from .concepts import ConceptIndex
from .conversion import Conversion, TripleBuffer
from .organisations import OrganisationIndex


@dataclass
class PracticeFile:
    """The output of one file's conversion, and how to name its places in a problem."""

    name: str                           # the file, as problems show it
    concepts: ConceptIndex
    organisations: OrganisationIndex
    out: Conversion = field(default_factory=Conversion)
    #: Our field -> the file's heading, once the headings are read.
    columns: dict[str, str] = field(default_factory=dict)
    triples: TripleBuffer = field(init=False)

    def __post_init__(self) -> None:
        self.triples = self.out.triples

    def column(self, fieldname: str) -> str:
        """The file's heading for one of our fields (the field's name if it has none)."""
        return self.columns.get(fieldname, fieldname)

    def problem(self, severity: str, message: str, row: int, fieldname: str, value: str = "",
                focus: URIRef | None = None) -> None:
        """Report a problem at ``row`` in the column that holds ``fieldname``."""
        self.out.problems.append(Problem(
            severity, message, self.name, row, self.column(fieldname),
            focus=str(focus) if focus is not None else None, value=value or None,
        ))
