"""Cells of the CSV files the workbench writes, made safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets read a cell that starts with ``=``, ``+``, ``-`` or
``@`` as a formula, and a tab or carriage return before one of those is skipped, so a
practice titled ``=HYPERLINK("http://evil","x")`` in /practices.csv would become a live link
(or, with DDE, a command) in the researcher's spreadsheet: CSV or formula injection. As
OWASP recommends, such a cell is written with a single quote in front, which spreadsheets
read as "this is text" and show without the quote. A plain number (``-5``, ``-0.25``,
``+3``, ``1e-3``) is left as it is: it is no formula, and quoting it would turn it into text.

Only our own CSV downloads go through here (/practices.csv, /charts/<name>.csv). The
answers of /sparql in ``text/csv`` do not: they are the SPARQL 1.1 Query Results CSV format,
whose values must come back exactly as the store holds them (docs/security.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: A number as spreadsheets read one: a sign, digits with at most one point, an exponent.
PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """``value`` as a spreadsheet will read it as text: a string starting with a formula
    character gets a leading ``'``, unless it is a plain number; anything else (ints,
    None, ordinary text) is returned unchanged."""
    if (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and not PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def safe_row(values: Iterable[object]) -> list[object]:
    """Every cell of a row through :func:`safe_cell` (for ``csv.writer``)."""
    return [safe_cell(v) for v in values]


def safe_record(record: dict[str, object]) -> dict[str, object]:
    """Every value of a record through :func:`safe_cell` (for ``csv.DictWriter``)."""
    return {k: safe_cell(v) for k, v in record.items()}
