"""A practice's recognitions: the sources that recognised it, and the facts of each.

``recognition`` names sources (HMICFRS, smarter practice, a Tilley award, the Police STAR
Fund). The version 2 fact columns give one recognition per fact: a Tilley award's year,
category and outcome, a STAR Fund round and amount, an HMICFRS report, a smarter-practice
review. The fact columns are parallel lists, one value per recognition or one for all
(docs/loading.md). Each kind of fact is read by its own function into (key, column, the
triples to state); the key names the recognition (``id/recognition/{practice}/{source}/{key}``)
so that one year, round, report or date gives one recognition. A source given facts is not
also written without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, XSD
from rdflib.term import Node

from practicebank.namespaces import ID, PB, SCHEMA, concept, slugify
from practicebank.problems import WARNING

from .concepts import as_values, clean, is_absent, is_hedged
from .participation import organisation_named
from .practice_cells import WEB_ADDRESS
from .practice_concepts import fact_concept
from .practice_dates import parse_date
from .practice_file import PracticeFile
from .practice_money import add_money, read_amount

#: Which organisation gives each kind of recognition (the default for smarter practice,
#: whose reviewers a record may name in ``reviewed_by``).
RECOGNISED_BY = {
    "hmicfrs": "hmicfrs",
    "smarter-practice": "college-of-policing",
    "tilley-award": "home-office",
    "police-star-fund": "opcsa",
}
_YEAR = re.compile(r"^(\d{4})$")
_ROUND = re.compile(r"^(\d{4})\s*(?:/|-|to)\s*(\d{2}|\d{4})$")

#: What a recognition states, given its node: (property, object) pairs.
Triples = Callable[[URIRef], Iterable[tuple[URIRef, Node]]]
#: One recognition a fact reader found: (its key or None, the column it came from, triples).
Fact = tuple[str | None, str, Triples]
FactReader = Callable[[PracticeFile, int, Mapping[str, object], URIRef], Iterator[Fact]]


def recognition_classes(vocabularies: Graph) -> dict[URIRef, URIRef]:
    """Recognition source -> the class of its recognitions (``pb:recognitionClass``)."""
    return dict(vocabularies.subject_objects(PB.recognitionClass))


def add_recognitions(file: PracticeFile, n: int, practice: URIRef, slug: str,
                     v: Mapping[str, object], urls: list[str],
                     classes: Mapping[URIRef, URIRef]) -> None:
    """The sources named in ``recognition``, and one recognition per fact given in the
    version 2 columns (several per source: the columns take lists of equal length).
    A source with facts is not also written without them; ``classes`` gives each
    source's recognitions their class (:func:`recognition_classes`)."""
    with_facts = set()
    for notation, read_facts in FACT_READERS:
        used: set[str | None] = set()
        for key, column, triples in read_facts(file, n, v, practice):
            if key in used:
                file.problem(WARNING, f"A second {notation} recognition "
                             + (f"with the key \"{key}\" " if key else "without a key ")
                             + "was left out; one per year, round, report or date.", n,
                             column, key or "", practice)
                continue
            used.add(key)
            with_facts.add(notation)
            node = _add_recognition(file, classes, n, practice, slug,
                                    concept("recognised-practice", notation), urls, key,
                                    column, default_by=notation != "smarter-practice")
            for prop, obj in triples(node):
                file.triples.add((node, prop, obj))
    for value in as_values(v.get("recognition")):
        if is_hedged(value):
            file.problem(WARNING, f"\"{value}\" is uncertain in the source; not recorded.",
                         n, "recognition", value, practice)
            continue
        source = file.concepts.find("recognised-practice", value)
        if source is None:
            expected = "; ".join(file.concepts.labels("recognised-practice"))
            file.problem(WARNING, f"\"{value}\" is not a recognised-practice source; not "
                         f"recorded. Known values: {expected}.", n, "recognition", value,
                         practice)
            continue
        if str(source).rsplit("/", 1)[-1] not in with_facts:
            _add_recognition(file, classes, n, practice, slug, source, urls, None,
                             "recognition")


def _add_recognition(file: PracticeFile, classes: Mapping[URIRef, URIRef], n: int,
                     practice: URIRef, slug: str, source: URIRef, urls: list[str],
                     key: str | None, column: str, default_by: bool = True) -> URIRef:
    """``id/recognition/{practice}/{source}[/{key}]``; ``default_by``: state who gives
    this kind of recognition (``RECOGNISED_BY``)."""
    g = file.triples
    notation = str(source).rsplit("/", 1)[-1]
    node = ID[f"recognition/{slug}/{notation}" + (f"/{key}" if key else "")]
    file.out.add_row(node, n, file.column(column))
    g.add((practice, PB.recognition, node))
    g.add((node, RDF.type, PB.Recognition))
    if cls := classes.get(source):
        g.add((node, RDF.type, cls))
    g.add((node, PB.recognises, practice))
    g.add((node, PB.recognitionSource, source))
    if default_by and (by := RECOGNISED_BY.get(notation)):
        g.add((node, PB.recognisedBy, ID[f"organisation/{by}"]))
    for url in urls:
        g.add((node, PROV.wasDerivedFrom, URIRef(url)))
    return node


def _fact_rows(file: PracticeFile, n: int, v: Mapping[str, object], fields: tuple[str, ...],
               practice: URIRef) -> list[tuple[str | None, ...]]:
    """Parallel list columns (``tilley_year``, ``tilley_outcome``, …) as rows: each
    column holds one value per recognition, or one value for all of them."""
    if not any(v.get(f) for f in fields):
        return []
    lists = {f: as_values(v.get(f)) for f in fields}
    count = max((len(values) for values in lists.values()), default=0)
    for f, values in lists.items():
        if len(values) not in (0, 1, count):
            file.problem(WARNING, f"Give one value, or one per recognition ({count}); the "
                         "values after the first were ignored.", n, f,
                         "; ".join(values), practice)
            lists[f] = values[:1]
    return [tuple((values[i] if len(values) > 1 else (values[0] if values else None))
                  for values in lists.values()) for i in range(count)]


def _fact_date(file: PracticeFile, n: int, fieldname: str, text: str | None,
               practice: URIRef) -> Literal | None:
    """The date of a fact; None when absent, None (reported) when not a date."""
    if text is None or is_absent(text):
        return None
    date = parse_date(clean(text))
    if date is None:
        file.problem(WARNING, "Not a date (expected e.g. 2024-12-17, 2023-07 or 2023); "
                     "not recorded.", n, fieldname, text, practice)
    return date


def _tilley(file: PracticeFile, n: int, v: Mapping[str, object],
            practice: URIRef) -> Iterator[Fact]:
    """Tilley awards, keyed by year: ``tilley_year``, ``tilley_category``,
    ``tilley_outcome``."""
    for year, category, outcome in _fact_rows(
            file, n, v, ("tilley_year", "tilley_category", "tilley_outcome"), practice):
        if year is not None and not _YEAR.match(year):
            file.problem(WARNING, "A Tilley award year is four digits, e.g. 2009; not "
                         "recorded.", n, "tilley_year", year, practice)
            year = None
        category_iri = fact_concept(file, n, "tilley-category", "tilley_category", category,
                                    practice)
        outcome_iri = fact_concept(file, n, "award-outcome", "tilley_outcome", outcome,
                                   practice)

        def triples(node, year=year, category_iri=category_iri, outcome_iri=outcome_iri):
            if year:
                yield PB.awardYear, Literal(year, datatype=XSD.gYear)
                yield DCTERMS.date, Literal(year, datatype=XSD.gYear)
            if category_iri is not None:
                yield PB.awardCategory, category_iri
            if outcome_iri is not None:
                yield PB.awardOutcome, outcome_iri
        if year or category_iri is not None or outcome_iri is not None:
            yield year, "tilley_year", triples


def _star_fund(file: PracticeFile, n: int, v: Mapping[str, object],
               practice: URIRef) -> Iterator[Fact]:
    """Police STAR Fund grants, keyed by round (a financial year, "2023-24"):
    ``star_round``, ``star_amount_gbp``."""
    for round_text, amount_text in _fact_rows(
            file, n, v, ("star_round", "star_amount_gbp"), practice):
        round_iri = None
        if round_text is not None:
            round_iri = file.concepts.find("star-fund-round", round_text)
            if round_iri is None and (m := _ROUND.match(clean(round_text))):
                round_iri = concept("star-fund-round", f"{m.group(1)}-{m.group(2)[-2:]}")
            if round_iri is None:
                file.problem(WARNING, "A STAR Fund round is a financial year such as "
                             "2023/24; not recorded.", n, "star_round", round_text, practice)
        amount = read_amount(file, n, "star_amount_gbp", amount_text, practice)
        if round_iri is None and amount is None:
            continue
        key = str(round_iri).rsplit("/", 1)[-1] if round_iri is not None else None

        def triples(node, round_iri=round_iri, amount=amount):
            if round_iri is not None:
                yield PB.fundingRound, round_iri
            if amount is not None:
                money = URIRef(f"{node}/amount")
                yield SCHEMA.amount, money
                add_money(file, money, amount)
        yield key, "star_round", triples


def _hmicfrs(file: PracticeFile, n: int, v: Mapping[str, object],
             practice: URIRef) -> Iterator[Fact]:
    """HMICFRS mentions, keyed by their report, which is described too: ``id/report/{slug}``
    from its title, or failing that from the last part of its address."""
    for title, url, date_text, programme in _fact_rows(
            file, n, v, ("hmicfrs_report_title", "hmicfrs_report_url", "hmicfrs_report_date",
                         "hmicfrs_programme"), practice):
        if url is not None and not WEB_ADDRESS.match(url):
            file.problem(WARNING, "Not a web address; ignored.", n, "hmicfrs_report_url",
                         url, practice)
            url = None
        slug = slugify(title) if title else (
            slugify(url.rstrip("/").rsplit("/", 1)[-1]) if url else None)
        if not slug:
            continue
        report = ID[f"report/{slug}"]
        date = _fact_date(file, n, "hmicfrs_report_date", date_text, practice)
        programme_iri = fact_concept(file, n, "inspection-programme", "hmicfrs_programme",
                                     programme, practice)
        file.out.add_row(report, n, file.column("hmicfrs_report_title"))
        g = file.triples
        g.add((report, RDF.type, PB.InspectionReport))
        g.add((report, RDF.type, SCHEMA.Report))
        if title:
            g.add((report, DCTERMS.title, Literal(title, lang="en")))
        if url:
            g.add((report, SCHEMA.url, URIRef(url)))
        if date is not None:
            g.add((report, DCTERMS.date, date))
        if programme_iri is not None:
            g.add((report, PB.inspectionProgramme, programme_iri))

        def triples(node, report=report, date=date):
            yield PB.inspectionReport, report
            if date is not None:
                yield DCTERMS.date, date
        yield slug, "hmicfrs_report_title", triples


def _smarter_practice(file: PracticeFile, n: int, v: Mapping[str, object],
                      practice: URIRef) -> Iterator[Fact]:
    """Smarter-practice reviews, keyed by date, by the reviewers ``reviewed_by`` names
    (the College of Policing when it names none)."""
    if not v.get("reviewed_by") and not v.get("review_date"):
        return
    reviewers = [organisation_named(file, n, clean(name), "reviewed_by")
                 for name in as_values(v.get("reviewed_by")) if not is_hedged(name)]
    dates = [d for d in (_fact_date(file, n, "review_date", text, practice)
                         for text in as_values(v.get("review_date"))) if d is not None]
    if not dates and reviewers:
        dates = [None]
    for date in dates:
        def triples(node, date=date):
            if date is not None:
                yield DCTERMS.date, date
            for org in reviewers or [ID[f"organisation/{RECOGNISED_BY['smarter-practice']}"]]:
                yield PB.recognisedBy, org
        yield (str(date) if date is not None else None), "review_date", triples


#: The facts of each kind of recognition, read in this order: (source notation, reader).
FACT_READERS: tuple[tuple[str, FactReader], ...] = (
    ("tilley-award", _tilley),
    ("police-star-fund", _star_fund),
    ("hmicfrs", _hmicfrs),
    ("smarter-practice", _smarter_practice),
)
