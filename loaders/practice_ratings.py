"""A practice's "Does it work?" ratings: dated assessments, each newer one superseding.

A record gives a rating (``rating`` with ``rating_date`` and ``rated_by``) and may give its
history (``ratings``: "Promising@2021-05-01; Worked@2023-02-10@College of Policing", or JSON
objects). Each becomes a ``pb:RatingAssessment`` by its assessor, ordered by date, an undated
one (at most one) first; each newer one ``pb:supersedes`` the one before, so the current
rating is the one nothing supersedes. Ratings that would make no single history (two on
one date, two undated, an unreadable date or value) are an error naming the row, and then
none of the practice's ratings is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF

from practicebank.namespaces import ID, PB, scheme
from practicebank.problems import ERROR

from .concepts import as_values, clean, is_absent
from .participation import organisation_named
from .practice_cells import json_text
from .practice_dates import parse_date
from .practice_file import PracticeFile

#: The rating scheme, and the notation its assessments are named by.
DOES_IT_WORK = "does-it-work"
#: Who gives a "Does it work?" rating when the record does not say (``rated_by``).
RATED_BY = ID["organisation/college-of-policing"]


@dataclass
class Rating:
    """One "Does it work?" assessment of a practice, as written in the record."""

    value: str
    date: Literal | None = None
    by: str | None = None
    where: str = "rating"


def add_ratings(file: PracticeFile, n: int, practice: URIRef, slug: str,
                v: Mapping[str, object], urls: list[str]) -> None:
    """Every "Does it work?" assessment the record gives: ``rating`` (with
    ``rating_date`` and ``rated_by``) and the entries of ``ratings``, the same value on
    the same date counted once, chained by ``pb:supersedes`` from newest to oldest."""
    wanted: list[Rating] = []
    default_by = None if is_absent(v.get("rated_by")) else clean(v["rated_by"])
    if not is_absent(v.get("rating")):
        date = _rating_date(file, n, "rating_date", v.get("rating_date"), practice)
        if date is False:
            return
        wanted.append(Rating(v["rating"].strip(), date, default_by))
    for entry in (_rating_entries(file, n, v["ratings"], default_by, practice)
                  if v.get("ratings") else ()):
        if entry is None:
            return
        wanted.append(entry)
    kept: dict[tuple[str, str | None], tuple[Rating, URIRef]] = {}
    for rating in wanted:
        value = file.concepts.find(DOES_IT_WORK, rating.value)
        if value is None:
            expected = "; ".join(file.concepts.labels(DOES_IT_WORK))
            file.problem(ERROR, f"\"{rating.value}\" is not a \"Does it work?\" rating. "
                         f"Use one of: {expected} (or leave the cell empty).", n,
                         rating.where, rating.value, practice)
            return
        key = (str(value), None if rating.date is None else str(rating.date))
        kept.setdefault(key, (rating, value))
    undated = [r for (_, date), (r, _) in kept.items() if date is None]
    if len(undated) > 1:
        file.problem(ERROR, "Only one rating may be undated (it is taken as the first); "
                     "give the others a date, e.g. Promising@2021-05-01.", n, "ratings",
                     "; ".join(r.value for r in undated), practice)
        return
    dates: dict[str, str] = {}
    for (value_iri, date), (rating, _) in kept.items():
        if date is not None and dates.setdefault(date, value_iri) != value_iri:
            file.problem(ERROR, f"Two different ratings are dated {date}; a practice has "
                         "one rating per scale on a date.", n, "ratings", rating.value,
                         practice)
            return
    ordered = sorted(kept.values(), key=lambda item: (item[0].date is not None,
                                                      str(item[0].date or "")))
    previous: URIRef | None = None
    for rating, value in ordered:
        node = _add_assessment(file, n, practice, slug, rating, value, urls)
        if previous is not None:
            file.triples.add((node, PB.supersedes, previous))
        previous = node


def _rating_date(file: PracticeFile, n: int, fieldname: str, text: object,
                 focus: URIRef) -> Literal | None | bool:
    """The date of a rating, None when absent, False (reported) when unreadable."""
    if is_absent(text):
        return None
    date = parse_date(clean(str(text)))
    if date is None:
        file.problem(ERROR, "Not a date (expected e.g. 2024-12-17, 2023-07 or 2023); a "
                     "rating's date places it in the practice's history.", n, fieldname,
                     str(text), focus)
        return False
    return date


def _rating_entries(file: PracticeFile, n: int, cell: object, default_by: str | None,
                    practice: URIRef) -> Iterable[Rating | None]:
    """The ``ratings`` field: "Promising@2021-05-01; Worked@2023-02-10@College of
    Policing" in CSV, or a JSON array of such strings or of objects with ``rating``,
    ``date`` and ``rated_by``. None (after reporting) for an entry that cannot be read."""
    items = cell if isinstance(cell, list) else as_values(cell)
    for item in items:
        if isinstance(item, dict):
            value, date_text, by = (json_text(item.get("rating")), json_text(item.get("date")),
                                    json_text(item.get("rated_by")))
        else:
            value, date_text, by, *rest = [*str(item).split("@"), None, None][:4]
            if rest and rest[0] is not None:
                file.problem(ERROR, "A rating is written RATING@DATE or "
                             "RATING@DATE@ASSESSOR.", n, "ratings", str(item), practice)
                yield None
                return
        if is_absent(value):
            continue
        date = _rating_date(file, n, "ratings", date_text, practice)
        if date is False:
            yield None
            return
        yield Rating(value.strip(), date, clean(by) if not is_absent(by) else default_by,
                     "ratings")


def _add_assessment(file: PracticeFile, n: int, practice: URIRef, slug: str, rating: Rating,
                    value: URIRef, urls: list[str]) -> URIRef:
    """``id/assessment/{practice}/does-it-work[/{date}]``, derived from the College's page
    when the record cites it (else from every source the record cites)."""
    g = file.triples
    if rating.date is None:
        node = ID[f"assessment/{slug}/{DOES_IT_WORK}"]
    else:
        node = ID[f"assessment/{slug}/{DOES_IT_WORK}/{rating.date}"]
    file.out.add_row(node, n, file.column(rating.where))
    g.add((practice, PB.rating, node))
    g.add((node, RDF.type, PB.RatingAssessment))
    g.add((node, PB.assessedPractice, practice))
    g.add((node, PB.ratingValue, value))
    g.add((node, PB.ratingScale, scheme(DOES_IT_WORK)))
    assessor = RATED_BY if rating.by is None else organisation_named(
        file, n, rating.by, "rated_by")
    g.add((node, PB.assessedBy, assessor))
    if rating.date is not None:
        g.add((node, DCTERMS.date, rating.date))
    college = [u for u in urls if "college.police.uk" in u] or urls
    for url in college:
        g.add((node, PROV.wasDerivedFrom, URIRef(url)))
    return node
