"""Read one input file into a :class:`Conversion`, choosing the reader from tables.

The format comes from ``--format`` or the file name (``formats.readable`` /
``formats.by_extension``), after any compression is taken off (``.gz``, or gzip's magic
bytes). Then, by the format's ``reader``:

* ``rdf``: nothing is converted; Oxigraph parses the file's own bytes when it is staged.
* ``csv``: the first row of ``CSV_CONVERTERS`` whose headings match: the police-forces
  reference table, data.police.uk street-level crime, or practice-bank records.
* ``json``: the first row of ``JSON_CONVERTERS`` whose shape matches the document: the
  data.police.uk forces list or force details, or practice records.
* ``jsonl``: practice records, one a line.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import formats
from .conversion import BLANK_NODE_MARKS, BlankNodeSniffer, Conversion, ReadContext
from .forces_csv import REQUIRED as FORCE_COLUMNS
from .forces_csv import convert_forces
from .json_practices import JsonInputError, convert_json, convert_jsonl, is_practice
from .police_api import (
    convert_force_detail,
    convert_forces_list,
    is_force_detail,
    is_forces_list,
    is_people_list,
)
from .practices_csv import convert_practices, heading_key, map_headings
from .street_crime import convert_street_crime
from .street_crime import matches as is_street_crime


class InputError(ValueError):
    """The file cannot be read at all (unknown format, bad syntax, unknown layout)."""


@dataclass(frozen=True)
class CsvConverter:
    """A kind of CSV file we can convert, recognised by the headings it must have."""

    name: str
    matches: Callable[[list[str]], bool]
    convert: Callable[[list[str], csv.DictReader, ReadContext], Conversion]


def _keys(headings: list[str]) -> dict[str, str]:
    return {heading_key(h): h for h in headings}


CSV_CONVERTERS: tuple[CsvConverter, ...] = (
    CsvConverter(
        "forces-csv",
        lambda headings: FORCE_COLUMNS <= set(_keys(headings)),
        lambda headings, rows, ctx: convert_forces(rows, file=ctx.file),
    ),
    CsvConverter(
        "street-crime-csv",
        lambda headings: is_street_crime(set(_keys(headings))),
        lambda headings, rows, ctx: convert_street_crime(rows, ctx, _keys(headings)),
    ),
    CsvConverter(
        "practices-csv",
        lambda headings: "title" in map_headings(headings),
        lambda headings, rows, ctx: convert_practices(
            headings, rows, file=ctx.file, graph_name=ctx.graph_name),
    ),
)


@dataclass(frozen=True)
class JsonConverter:
    """A kind of JSON document we can convert, recognised by its shape."""

    name: str
    matches: Callable[[object], bool]
    convert: Callable[[object, ReadContext], Conversion]


def _refuse_people(document: object, ctx: ReadContext) -> Conversion:
    raise InputError(
        f"{ctx.file} lists people (names, ranks, biographies: the data.police.uk /people "
        "record of senior officers). That is personal data, which practicebank never "
        "stores; load the force's details (/api/forces/{id}) instead.")


JSON_CONVERTERS: tuple[JsonConverter, ...] = (
    JsonConverter("police-forces-json", is_forces_list, convert_forces_list),
    JsonConverter("police-force-json", is_force_detail, convert_force_detail),
    JsonConverter("police-people-json", is_people_list, _refuse_people),
    JsonConverter("practices-json", is_practice, convert_json),
)


def detect_format(path: Path, name: str | None = None) -> formats.Format:
    """The format named by ``--format``, else the one the extension implies (after .gz)."""
    fmt = formats.readable(name) if name else formats.by_extension(
        formats.strip_compression(path.name))
    if fmt is None or fmt.reader is None:
        readable = ", ".join(formats.readable_names())
        what = f"--format {name}" if name else f"the extension of {path.name}"
        raise InputError(f"Cannot tell how to read {what}. Use --format with one of: {readable}"
                         " (any of them may be gzip-compressed, e.g. .ttl.gz).")
    return fmt


def open_input(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed if it is compressed."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    compression = formats.compression_of(path.name, raw.peek(4)[:4])
    return compression.open(raw) if compression else raw


def context_for(path: Path, graph_name: str, by_lsoa: bool = False) -> ReadContext:
    return ReadContext(file=str(path), name=formats.strip_compression(path.name),
                       graph_name=graph_name, by_lsoa=by_lsoa)


def read_input(path: Path, *, format: str | None = None, graph_name: str = "data",
               by_lsoa: bool = False) -> tuple[str, Conversion]:
    """Read ``path``; returns (the reader's name, the conversion). RDF stays unparsed: its
    conversion carries an open stream for Oxigraph to read."""
    fmt = detect_format(path, format)
    ctx = context_for(path, graph_name, by_lsoa)
    stream = open_input(path)
    if fmt.reader == "rdf":
        marks = BLANK_NODE_MARKS.get(fmt.rdf_format)
        source = BlankNodeSniffer(stream, marks) if marks else stream
        return f"rdf-{fmt.name}", Conversion(rdf=(source, fmt.rdf_format))
    with stream:
        try:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            if fmt.reader == "csv":
                return read_csv(text, ctx)
            if fmt.reader == "jsonl":
                return "practices-jsonl", convert_jsonl(text, ctx)
            return read_json(text.read(), ctx)
        except UnicodeDecodeError as exc:
            raise InputError(f"{ctx.file} is not UTF-8 text ({exc}). Save it as UTF-8.") from exc
        except (JsonInputError, OSError, EOFError) as exc:
            raise InputError(str(exc)) from exc


def read_csv(text: IO[str], ctx: ReadContext) -> tuple[str, Conversion]:
    """Convert CSV with the first converter whose headings match."""
    reader = csv.DictReader(text)
    headings = list(reader.fieldnames or [])
    for converter in CSV_CONVERTERS:
        if converter.matches(headings):
            return converter.name, converter.convert(headings, reader, ctx)
    raise InputError(
        f"{ctx.file}: the headings ({', '.join(headings) or 'none'}) match no CSV layout we "
        "know. A practice file needs at least a Title column; street-level crime files have "
        "the 12 data.police.uk columns; see docs/loading.md."
    )


def read_json(text: str, ctx: ReadContext) -> tuple[str, Conversion]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{ctx.file} is not JSON: {exc.msg} at line {exc.lineno}, column "
                         f"{exc.colno}.") from exc
    for converter in JSON_CONVERTERS:
        if converter.matches(document):
            return converter.name, converter.convert(document, ctx)
    raise InputError(
        f"{ctx.file}: this JSON is neither practice records (objects with a \"title\"; "
        "docs/practice.schema.json) nor data.police.uk force data (a forces list of "
        "{\"id\", \"name\"}, or one force's details)."
    )


def read_file(path: Path, *, format: str | None = None, graph_name: str = "data",
              by_lsoa: bool = False) -> tuple[str, Conversion]:
    """Read ``path`` into RDF held in memory (for ``convert``, tests and small files)."""
    name, conversion = read_input(path, format=format, graph_name=graph_name, by_lsoa=by_lsoa)
    if conversion.rdf is not None:
        stream, fmt = conversion.rdf
        try:
            conversion.rdf = (stream.read(), fmt)
        finally:
            stream.close()
    return name, conversion


def read_rdf(data: bytes, fmt: formats.Format, *, file: str) -> Conversion:
    """RDF bytes as a conversion (for bundled files)."""
    return Conversion(rdf=(data, fmt.rdf_format))
