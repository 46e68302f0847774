"""CSV rows as dicts (as ``csv.DictReader`` gives them), checked as they are read.

``csv.DictReader`` drops cells beyond the headings into a key nobody reads, ends a cell over
128 KB with a bare ``_csv.Error`` traceback, and reads a line of any length whole. Here a
line longer than ``max_line_bytes``, a row longer than ``max_record_bytes`` (a quoted cell
may run over many lines) or a cell longer than ``max_cell_bytes`` stops the read with an
error naming the file, the line or row and the column; cells beyond the headings are an
error naming the row and the surplus (the usual cause is a comma in an unquoted cell, which
also shifts every later cell into the wrong column).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO

from practicebank.problems import ERROR, Problem

from .bounded import too_long_line
from .limits import ReadLimits, how_to_raise, refused

#: Python's csv module refuses a field over its own process-wide limit (128 KiB by default)
#: with a bare error; it is raised once to the largest row we allow, so that the checks
#: here, which can name the row and column, always come first.
_FIELD_LIMIT_FLOOR = csv.field_size_limit()


class _Lines:
    """The physical lines of the text for the csv reader: each at most ``max_line_bytes``
    and all the lines of one row together at most ``max_record_bytes``."""

    def __init__(self, text: IO[str], file: str, limits: ReadLimits) -> None:
        self._readline = text.readline
        self._file = file
        self._limits = limits
        self.line = 0       # physical lines read
        self.row = 1        # the row being read (the headings are row 1)
        self.row_chars = 0  # characters of the row being read

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        limit = self._limits.max_line_bytes
        line = self._readline(limit + 1)
        if not line:
            raise StopIteration
        self.line += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise too_long_line(self._file, self.line, self._limits)
        self.row_chars += len(line)
        if self.row_chars > self._limits.max_record_bytes:
            raise refused(
                f"Row {self.row:,} is longer than {self._limits.shown('max_record_bytes')} "
                "(the largest row allowed) by the end of line "
                f"{self.line:,}. A quote left open makes the rest of the file one cell: "
                f"check the quotes in this row, or {how_to_raise('max_record_bytes')}.",
                self._file, row=self.row)
        return line


class CsvRows:
    """The rows of a CSV file after its headings, as dicts of heading -> cell, with the
    checks above. Problems that do not stop the read are in :attr:`problems` once the rows
    have been read."""

    def __init__(self, text: IO[str], *, file: str, limits: ReadLimits) -> None:
        needed = max(_FIELD_LIMIT_FLOOR, limits.max_record_bytes + limits.max_line_bytes)
        if csv.field_size_limit() < needed:
            csv.field_size_limit(needed)
        self.file = file
        self.limits = limits
        self.problems: list[Problem] = []
        self._lines = _Lines(text, file, limits)
        self._reader = csv.reader(self._lines)
        self.headings: list[str] = self._next() or []

    def _next(self) -> list[str] | None:
        """The next row (skipping empty ones, as DictReader does), checked; None at the end."""
        lines = self._lines
        while True:
            lines.row_chars = 0
            try:
                row = next(self._reader)
            except StopIteration:
                return None
            except csv.Error as exc:
                raise refused(f"Not valid CSV: {exc}. Check the quotes in this row.",
                              self.file, row=lines.row) from exc
            if row:
                break
        if lines.row_chars > self.limits.max_cell_bytes:
            self._check_cells(row)
        return row

    def _check_cells(self, row: list[str]) -> None:
        limit = self.limits.max_cell_bytes
        for index, cell in enumerate(row):
            if len(cell) > limit:
                column = (self.headings[index] if index < len(self.headings)
                          else f"cell {index + 1}")
                raise refused(
                    f"A cell of {len(cell):,} characters, longer than "
                    f"{self.limits.shown('max_cell_bytes')} (the largest cell allowed). A "
                    "cell this long is nearly always a quote left open: check the quotes "
                    f"in this row, or {how_to_raise('max_cell_bytes')}.",
                    self.file, row=self._lines.row, column=column)

    def __iter__(self) -> Iterator[dict[str, str | None]]:
        headings = self.headings
        width = len(headings)
        surplus: tuple[int, list[str]] | None = None  # the first row with too many cells
        surplus_rows = 0
        try:
            while True:
                self._lines.row += 1
                row = self._next()
                if row is None:
                    return
                if len(row) > width:
                    extra = row[width:]
                    if any(cell.strip() for cell in extra):
                        surplus_rows += 1
                        surplus = surplus or (self._lines.row, extra)
                    row = row[:width]
                record: dict[str, str | None] = dict(zip(headings, row, strict=False))
                for heading in headings[len(row):]:
                    record[heading] = None
                yield record
        finally:
            if surplus is not None:
                self.problems.append(self._surplus_problem(*surplus, surplus_rows))

    def _surplus_problem(self, row: int, extra: list[str], count: int) -> Problem:
        shown = ", ".join(f"\"{cell[:40]}\"" for cell in extra[:3])
        surplus = (f"the extra cell ({shown}) belongs" if len(extra) == 1
                   else f"the {len(extra)} extra cells ({shown}) belong")
        more = f" ({count:,} rows like this, the first shown)" if count > 1 else ""
        return Problem(
            ERROR, f"The row has {len(self.headings) + len(extra)} cells but there are "
            f"{len(self.headings)} headings; {surplus} to no column and would be lost{more}. "
            "Quote any cell that holds a comma (\"a, b\"), or add headings for the extra "
            "cells.", self.file, row=row, value=extra[0][:200])
