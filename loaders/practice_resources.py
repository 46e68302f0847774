"""Resources a practice took, as quantities with their units (``pb:resource``).

Records state resources as counts of something ("2 officers", "40 hours a week", "1 van").
Each becomes a ``schema:QuantitativeValue`` with the number as an ``xsd:decimal`` and the
rest as its unit in words (``schema:unitText``), so "how many officers did practices on
violence take" is a sum over numbers, not a reading of text. A part that does not start
with a number is reported and left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from rdflib import Literal, URIRef
from rdflib.namespace import RDF

from practicebank.namespaces import PB, SCHEMA
from practicebank.problems import WARNING

from .concepts import as_values
from .practice_file import PracticeFile
from .practice_money import decimal_literal

#: "2 officers", "1,500 leaflets", "0.5 FTE analyst": a number, then its unit.
QUANTITY = re.compile(r"^(?P<value>\d[\d,]*(?:\.\d+)?)\s+(?P<unit>\S.*)$")


def parse_quantity(text: str) -> tuple[Decimal, str] | None:
    """"2 officers" -> (Decimal("2"), "officers"); None when it is not a number and a unit."""
    found = QUANTITY.match(text.strip())
    if found is None:
        return None
    try:
        return Decimal(found["value"].replace(",", "")), found["unit"].strip()
    except InvalidOperation:
        return None


def add_resources(file: PracticeFile, n: int, practice: URIRef,
                  v: Mapping[str, object]) -> None:
    """``resources`` ("2 officers; 40 hours a week") -> one ``pb:resource`` each."""
    for k, part in enumerate(as_values(v.get("resources")), 1):
        quantity = parse_quantity(part)
        if quantity is None:
            file.problem(WARNING, "Not a quantity with its unit (expected e.g. \"2 officers\" "
                         "or \"40 hours a week\"); not recorded.", n, "resources", part,
                         practice)
            continue
        value, unit = quantity
        node = URIRef(f"{practice}/resource/{k}")
        file.out.add_row(node, n, file.column("resources"))
        g = file.triples
        g.add((practice, PB.resource, node))
        g.add((node, RDF.type, SCHEMA.QuantitativeValue))
        g.add((node, SCHEMA.value, decimal_literal(value)))
        g.add((node, SCHEMA.unitText, Literal(unit)))
