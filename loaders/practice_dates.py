"""Dates as precise as a record writes them, and a practice's own dates.

"2023" is a year and "July 2023" a month: each is kept as ``xsd:gYear``, ``xsd:gYearMonth``
or ``xsd:date`` rather than padded to a day nobody wrote. Ratings, recognition facts and the
corpus converters read dates the same way, through :func:`parse_date`.
"""

from __future__ import annotations

from datetime import datetime

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, XSD

from practicebank.problems import WARNING

from .concepts import clean
from .practice_file import PracticeFile

#: (strptime format, datatype, how the datatype writes it), tried in turn.
DATE_FORMS = (
    ("%Y-%m-%d", XSD.date, "%Y-%m-%d"),
    ("%d %b %Y", XSD.date, "%Y-%m-%d"),
    ("%d %B %Y", XSD.date, "%Y-%m-%d"),
    ("%Y-%m", XSD.gYearMonth, "%Y-%m"),
    ("%B %Y", XSD.gYearMonth, "%Y-%m"),
    ("%b %Y", XSD.gYearMonth, "%Y-%m"),
    ("%Y", XSD.gYear, "%Y"),
)


def parse_date(text: str) -> Literal | None:
    """A date as precise as written: 2024-12-17, 17 Dec 2024, 2023-07, July 2023, 2023."""
    text = text.strip()
    for fmt, datatype, shape in DATE_FORMS:
        try:
            return Literal(datetime.strptime(text, fmt).strftime(shape), datatype=datatype)
        except ValueError:
            continue
    return None


def add_practice_date(file: PracticeFile, n: int, practice: URIRef, prop: URIRef,
                      fieldname: str, text: str) -> None:
    """``practice prop date``, or a warning when ``text`` is not a date. A first-published
    date (``dcterms:issued``) is kept only to the day, the one precision the shapes allow."""
    value = parse_date(clean(text))
    if value is None:
        file.problem(WARNING, "Not a date (expected e.g. 2024-12-17, 2023-07, July 2023 or "
                     "2023); not recorded.", n, fieldname, text, practice)
        return
    if prop == DCTERMS.issued and value.datatype != XSD.date:
        return
    file.triples.add((practice, prop, value))
