"""Problems found while converting or validating input, and how they are shown.

Every problem says where it is (file, row, column), what it is about (focus node, path,
value) and what is wrong (the shape's or the converter's message), so that a person can fix
the input without reading code. Errors fail a load; warnings are shown and do not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"

#: Turns a converter's (row, column) into the fields of a Problem that say where it is.
Locate = Callable[[int | None, str | None], dict]


def default_locate(row: int | None, column: str | None) -> dict:
    return {"row": row, "column": column}


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
    #: JSON input: where the value is, as a JSON Pointer (RFC 6901) into the file or line.
    pointer: str | None = None
    #: What ``row`` counts: "row" (CSV, header is row 1), "line" (JSON Lines), "record" (JSON).
    row_label: str = "row"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def where(self) -> str:
        """``file, row 3, column rating`` — the parts that are known."""
        parts = [self.file] if self.file else []
        if self.row is not None:
            parts.append(f"{self.row_label} {self.row}")
        if self.column:
            parts.append(f"{'field' if self.pointer is not None else 'column'} {self.column}")
        if self.pointer is not None:
            parts.append(f"pointer {self.pointer or '/'}")
        return ", ".join(parts)


class ValidationFailed(Exception):
    """A load or write was refused; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = sum(p.is_error for p in problems)
        super().__init__(f"{errors} error(s): the input was not loaded")


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def render_text(problems: list[Problem], *, limit: int | None = None) -> str:
    """A readable report for the terminal: one block per problem, errors first.

    With ``limit``, at most that many blocks are shown, followed by a count of each
    message, so a file with 50,000 practices missing a topic gives a readable summary.
    """
    if not problems:
        return "No problems found."
    ordered = sorted(problems, key=lambda p: (not p.is_error, p.file or "", p.row or 0))
    lines = []
    shown = ordered if limit is None else ordered[:limit]
    for p in shown:
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
    if len(shown) < len(ordered):
        lines.append(f"… and {len(ordered) - len(shown)} more (--report json lists them all). "
                     "All problems by message:")
        counts = Counter((p.severity, p.message) for p in ordered)
        for (severity, message), count in counts.most_common():
            lines.append(f"  {count:>7} {severity:<7} {message}")
    n_err = len(errors(problems))
    lines.append(f"{n_err} error(s), {len(problems) - n_err} warning(s).")
    return "\n".join(lines)


def render_json(problems: list[Problem]) -> str:
    """The same report as JSON, one object per problem, for tools."""
    return json.dumps([asdict(p) for p in problems], indent=2, ensure_ascii=False)
