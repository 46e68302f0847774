"""Problems found while converting or validating input, and how they are shown.

Every problem says where it is (file, row, column), what it is about (focus node, path,
value) and what is wrong (the shape's or the converter's message), so that a person can fix
the input without reading code. Errors fail a load; warnings are shown and do not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input."""

    severity: str
    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    focus: str | None = None
    path: str | None = None
    value: str | None = None
    shape: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        """``file, row 3, column rating`` — the parts that are known."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


class ValidationFailed(Exception):
    """A load or write was refused; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = sum(p.is_error for p in problems)
        super().__init__(f"{errors} error(s): the input was not loaded")


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def render_text(problems: list[Problem]) -> str:
    """A readable report for the terminal: one block per problem, errors first."""
    if not problems:
        return "No problems found."
    ordered = sorted(problems, key=lambda p: (not p.is_error, p.file or "", p.row or 0))
    lines = []
    for p in ordered:
        head = f"{p.severity.upper()}: {p.message}"
        lines.append(head)
        for label, value in (
            ("where", p.where()),
            ("node", p.focus),
            ("path", p.path),
            ("value", p.value),
            ("shape", p.shape),
        ):
            if value:
                lines.append(f"    {label:<6} {value}")
    n_err = len(errors(problems))
    lines.append(f"{n_err} error(s), {len(problems) - n_err} warning(s).")
    return "\n".join(lines)


def render_json(problems: list[Problem]) -> str:
    """The same report as JSON, one object per problem, for tools."""
    return json.dumps([asdict(p) for p in problems], indent=2, ensure_ascii=False)
