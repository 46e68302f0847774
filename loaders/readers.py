"""Read one input file into a :class:`Conversion`, choosing the reader from the format table.

CSV files are told apart by their headings (the table ``CSV_CONVERTERS``): the police-forces
reference table or practice-bank records. RDF files in any serialisation of the format table
are parsed as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Dataset

from . import formats
from .conversion import Conversion
from .forces_csv import REQUIRED as FORCE_COLUMNS
from .forces_csv import convert_forces
from .practices_csv import convert_practices, heading_key, map_headings
from .problems import ERROR, Problem


class InputError(ValueError):
    """The file cannot be read at all (unknown format, bad syntax, unknown CSV layout)."""


@dataclass(frozen=True)
class CsvConverter:
    """A kind of CSV file we can convert, recognised by the headings it must have."""

    name: str
    matches: Callable[[list[str]], bool]
    convert: Callable[[list[str], list[dict[str, str]], str, str], Conversion]


CSV_CONVERTERS: tuple[CsvConverter, ...] = (
    CsvConverter(
        "forces",
        lambda headings: FORCE_COLUMNS <= {heading_key(h) for h in headings},
        lambda headings, rows, file, graph: convert_forces(rows, file=file),
    ),
    CsvConverter(
        "practices",
        lambda headings: "title" in map_headings(headings),
        lambda headings, rows, file, graph: convert_practices(
            headings, rows, file=file, graph_name=graph),
    ),
)


def detect_format(path: Path, name: str | None = None) -> formats.Format:
    """The format named by ``--format``, else the one the extension implies."""
    fmt = formats.by_name(name) if name else formats.by_extension(path.name)
    if fmt is None or (fmt.rdf_format is None and fmt.name != "csv"):
        readable = ", ".join(["csv", *formats.names("rdf")])
        what = f"--format {name}" if name else f"the extension of {path.name}"
        raise InputError(f"Cannot tell how to read {what}. Use --format with one of: {readable}.")
    return fmt


def read_csv(data: bytes, *, file: str, graph_name: str) -> tuple[str, Conversion]:
    """Convert CSV bytes with the first converter whose headings match."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file} is not UTF-8 text ({exc}). Save it as UTF-8 CSV.") from exc
    reader = csv.DictReader(io.StringIO(text))
    headings = list(reader.fieldnames or [])
    for converter in CSV_CONVERTERS:
        if converter.matches(headings):
            return converter.name, converter.convert(headings, list(reader), file, graph_name)
    raise InputError(
        f"{file}: the headings ({', '.join(headings) or 'none'}) match no CSV layout we know. "
        "A practice file needs at least a Title column; see docs/loading.md."
    )


def read_rdf(data: bytes, fmt: formats.Format, *, file: str) -> Conversion:
    """Parse an RDF file; quads from any graph of a TriG/N-Quads file are merged."""
    out = Conversion()
    dataset = Dataset()
    try:
        dataset.parse(data=data, format=fmt.rdflib_name)
    except Exception as exc:  # rdflib raises many parser-specific exception types
        out.problems.append(Problem(ERROR, f"Not valid {fmt.name}: {exc}".strip(), file))
        return out
    for s, p, o, _ in dataset.quads((None, None, None, None)):
        out.graph.add((s, p, o))
    return out


def read_file(path: Path, *, format: str | None = None,
              graph_name: str = "data") -> tuple[str, Conversion]:
    """Read ``path`` into RDF; returns (the reader's name, the conversion)."""
    fmt = detect_format(path, format)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if fmt.name == "csv":
        return read_csv(data, file=str(path), graph_name=graph_name)
    return fmt.name, read_rdf(data, fmt, file=str(path))
