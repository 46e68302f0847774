"""Links between practices: adapted from, replicates, same intervention as, succeeds.

A record names the other practice by its College page, its slug or its title, and a title may
be that of a row further down the file; so links are collected while the rows are read and
resolved once every row has been (:meth:`PracticeLinks.resolve`). A practice no row of the
file has is linked as ``id/practice/{slug}``, for the store to hold. A link the model
declares symmetric or inverse is written both ways, so a query finds it from either end.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import URIRef

from practicebank.namespaces import ID, PB, slugify
from practicebank.problems import WARNING

from .concepts import as_values, clean, normalise
from .practice_cells import COLLEGE_PAGE, SLUG
from .practice_file import PracticeFile

#: Links between practices: (our field, property, its inverse to write too, or None).
#: pb:sameInterventionAs is symmetric, so it is its own inverse.
PRACTICE_LINKS = (
    ("adapted_from", PB.adaptedFrom, None),
    ("replicates", PB.replicates, None),
    ("same_intervention_as", PB.sameInterventionAs, PB.sameInterventionAs),
    ("succeeded_by", PB.succeededBy, PB.succeeds),
    ("succeeds", PB.succeeds, PB.succeededBy),
)
_PROPERTIES = {fieldname: (prop, inverse) for fieldname, prop, inverse in PRACTICE_LINKS}


class PracticeLinks:
    """The links one file's rows ask for, and the titles they may name practices by."""

    def __init__(self, file: PracticeFile) -> None:
        self.file = file
        #: normalised title -> practice slug, for links between practices of one file.
        self.titles: dict[str, str] = {}
        #: (row, practice, field, value): links resolved once every row has been read.
        self.pending: list[tuple[int, URIRef, str, str]] = []

    def add_title(self, title: str, slug: str) -> None:
        """Let links name the practice ``slug`` by ``title`` (the first row with it wins)."""
        self.titles.setdefault(normalise(title), slug)

    def collect(self, n: int, practice: URIRef, v: Mapping[str, object]) -> None:
        """The links row ``n`` gives from ``practice``, kept until :meth:`resolve`."""
        for fieldname, _, _ in PRACTICE_LINKS:
            if v.get(fieldname):  # (most rows have none: skip the splitting)
                for value in as_values(v[fieldname]):
                    self.pending.append((n, practice, fieldname, value))

    def resolve(self) -> None:
        """Write every collected link, now that every title is known."""
        for n, practice, fieldname, value in self.pending:
            self.link(n, practice, fieldname, value)

    def link(self, n: int, practice: URIRef, fieldname: str, value: str) -> None:
        """A practice named by its College page, slug or title: one of this file's
        practices if it has that title, else ``id/practice/{slug}`` for the store to hold."""
        text = value.strip()
        page = COLLEGE_PAGE.match(clean(text))
        slug = (page.group(1) if page else self.titles.get(normalise(text))
                or self.titles.get(normalise(clean(text)))
                or (text if SLUG.match(text) else slugify(text)))
        if not slug:
            return
        other = ID[f"practice/{slug}"]
        if other == practice:
            self.file.problem(WARNING, "A practice cannot be linked to itself; not recorded.",
                              n, fieldname, value, practice)
            return
        prop, inverse = _PROPERTIES[fieldname]
        self.file.triples.add((practice, prop, other))
        if inverse is not None:
            self.file.triples.add((other, inverse, practice))
