"""Money in pounds, as ``schema:MonetaryAmount``: a practice's cost and a STAR Fund award.

Records write amounts as "£12,500", "12500.00" or "12 500". Each is stored as an
``xsd:decimal`` in plain form (never "1E+3"), so one amount always gives one literal, with
the currency stated rather than implied by the column's name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from practicebank.namespaces import PB, SCHEMA
from practicebank.problems import WARNING

from .concepts import is_absent
from .practice_file import PracticeFile

#: An ISO 8601 duration ("P1Y", "P6M"): a cost period written so is typed ``xsd:duration``;
#: any other period ("per year") is kept as the text it is.
DURATION = re.compile(r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?$")


def parse_amount(text: str) -> Decimal | None:
    """"£12,500", "12500.00" or "12 500" -> Decimal; None unless a number of at least 0."""
    cleaned = re.sub(r"[£,\s]|GBP", "", text.strip(), flags=re.IGNORECASE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def decimal_literal(value: Decimal) -> Literal:
    """An xsd:decimal in its plain lexical form (never "1E+3")."""
    return Literal(format(value, "f"), datatype=XSD.decimal)


def read_amount(file: PracticeFile, n: int, fieldname: str, text: str | None,
                focus: URIRef) -> Decimal | None:
    """The amount in a cell; None when absent, None (reported) when not an amount."""
    if text is None or is_absent(text):
        return None
    value = parse_amount(text)
    if value is None:
        file.problem(WARNING, "Not an amount of pounds (expected e.g. 12500 or £12,500); "
                     "not recorded.", n, fieldname, text, focus)
    return value


def add_money(file: PracticeFile, node: URIRef, value: Decimal, covers: str | None = None,
              period: str | None = None) -> None:
    """``node`` as a ``schema:MonetaryAmount`` in pounds, with what it covers and the period
    it is for when the record says."""
    g = file.triples
    g.add((node, RDF.type, SCHEMA.MonetaryAmount))
    g.add((node, SCHEMA.value, decimal_literal(value)))
    g.add((node, SCHEMA.currency, Literal("GBP")))
    if covers:
        g.add((node, DCTERMS.description, Literal(covers, lang="en")))
    if period:
        g.add((node, PB.period, Literal(period, datatype=XSD.duration)
               if DURATION.match(period) else Literal(period)))


def add_cost(file: PracticeFile, n: int, practice: URIRef, v: Mapping[str, object]) -> None:
    """``cost_gbp`` (with ``cost_covers`` and ``cost_period``) -> ``pb:cost``. What a cost
    covers, without its amount, is reported and not recorded."""
    if not (v.get("cost_gbp") or v.get("cost_covers") or v.get("cost_period")):
        return
    value = read_amount(file, n, "cost_gbp", v.get("cost_gbp"), practice)
    if value is None:
        if not is_absent(v.get("cost_covers")) or not is_absent(v.get("cost_period")):
            file.problem(WARNING, "A cost needs its amount (cost_gbp); what it covers was "
                         "not recorded.", n, "cost_gbp", "", practice)
        return
    node = URIRef(f"{practice}/cost")
    file.out.add_row(node, n, file.column("cost_gbp"))
    file.triples.add((practice, PB.cost, node))
    covers = None if is_absent(v.get("cost_covers")) else v["cost_covers"].strip()
    period = None if is_absent(v.get("cost_period")) else v["cost_period"].strip()
    add_money(file, node, value, covers, period)
