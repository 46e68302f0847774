"""Read one input file into a :class:`Conversion`, choosing the reader from tables.

The format comes from ``--format`` or the file name (``formats.readable`` /
``formats.by_extension``), after any compression is taken off (``.gz``, or gzip's magic
bytes). Then, by the format's ``reader``:

* ``rdf``: nothing is converted; Oxigraph parses the file's own bytes when it is staged.
* ``csv``: the first row of ``CSV_CONVERTERS`` whose headings match: the police-forces
  reference table, data.police.uk street-level crime, the organisations' external
  identifiers (:mod:`.organisation_identifiers`), a file of the corpus from the public
  record (:mod:`.corpus`: Tilley awards, STAR Fund, Toolkit, HMICFRS, practice bank), or
  practice-bank records.
* ``json``: the first row of ``JSON_CONVERTERS`` whose shape matches the document: the
  data.police.uk forces list or force details, or practice records.
* ``jsonl``: practice records, one a line.

Every file is read through a :class:`~.bounded.BoundedStream` and within the
:class:`~.limits.ReadLimits` of its :class:`ReadContext`, a record at a time (CSV rows by
:mod:`.csv_rows`, JSON by :mod:`.json_stream`), so reading holds at most a record or a
block of the file, however large the file is; an input that breaks a limit is refused with
an :class:`~.limits.InputRefused` naming the file and where.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from practicebank import formats

from .bounded import BoundedStream
from .conversion import BLANK_NODE_MARKS, BlankNodeSniffer, Conversion, ReadContext
from .corpus import SOURCES as CORPUS_SOURCES
from .csv_rows import CsvRows
from .forces_csv import REQUIRED as FORCE_COLUMNS
from .forces_csv import convert_forces
from .json_practices import convert_json, convert_json_records, convert_jsonl, is_practice
from .json_stream import JsonDocument, JsonInputError
from .limits import DEFAULT_LIMITS, ReadLimits
from .organisation_identifiers import REQUIRED as IDENTIFIER_COLUMNS
from .organisation_identifiers import convert_organisation_identifiers
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
    convert: Callable[[list[str], Iterable[Mapping[str, str | None]], ReadContext], Conversion]


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
        "organisation-identifiers-csv",
        lambda headings: IDENTIFIER_COLUMNS <= set(_keys(headings)),
        lambda headings, rows, ctx: convert_organisation_identifiers(
            rows, file=ctx.file, graph_name=ctx.graph_name),
    ),
    # before the practices CSV, whose only required heading (title) they all have
    *(CsvConverter(source.reader, source.matches, source.convert) for source in CORPUS_SOURCES),
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


#: RDF formats read a line at a time, whose lines are held to ``max_line_bytes``.
LINE_FORMATS = frozenset({ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS})


def open_input(path: Path, limits: ReadLimits = DEFAULT_LIMITS, *, lines: bool = False,
               xml: bool = False) -> BoundedStream:
    """The file's bytes, decompressed if it is compressed, read within ``limits`` (the
    line limit with ``lines``; XML declarations refused with ``xml``)."""
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    compression = formats.compression_of(path.name, raw.peek(4)[:4])
    stream = compression.open(raw) if compression else raw
    return BoundedStream(stream, file=str(path), limits=limits, lines=lines, xml=xml,
                         compressed=raw.tell if compression else None)


def context_for(path: Path, graph_name: str, by_lsoa: bool = False,
                limits: ReadLimits = DEFAULT_LIMITS) -> ReadContext:
    return ReadContext(file=str(path), name=formats.strip_compression(path.name),
                       graph_name=graph_name, by_lsoa=by_lsoa, limits=limits)


def read_input(path: Path, *, format: str | None = None, graph_name: str = "data",
               by_lsoa: bool = False, limits: ReadLimits = DEFAULT_LIMITS
               ) -> tuple[str, Conversion]:
    """Read ``path``; returns (the reader's name, the conversion). RDF stays unparsed: its
    conversion carries an open stream for Oxigraph to read, which enforces ``limits`` as
    Oxigraph reads it."""
    fmt = detect_format(path, format)
    ctx = context_for(path, graph_name, by_lsoa, limits)
    if fmt.reader == "rdf":
        stream = open_input(path, limits, lines=fmt.rdf_format in LINE_FORMATS,
                            xml=fmt.rdf_format == ox.RdfFormat.RDF_XML)
        marks = BLANK_NODE_MARKS.get(fmt.rdf_format)
        source = BlankNodeSniffer(stream, marks) if marks else stream
        return f"rdf-{fmt.name}", Conversion(rdf=(source, fmt.rdf_format))
    with open_input(path, limits) as stream:
        try:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            if fmt.reader == "csv":
                return read_csv(text, ctx)
            if fmt.reader == "jsonl":
                return "practices-jsonl", convert_jsonl(text, ctx)
            return read_json(text, ctx)
        except UnicodeDecodeError as exc:
            raise InputError(f"{ctx.file} is not UTF-8 text ({exc}). Save it as UTF-8.") from exc
        except (JsonInputError, OSError, EOFError) as exc:
            raise InputError(str(exc)) from exc


def read_csv(text: IO[str], ctx: ReadContext) -> tuple[str, Conversion]:
    """Convert CSV with the first converter whose headings match."""
    rows = CsvRows(text, file=ctx.file, limits=ctx.limits)
    headings = rows.headings
    for converter in CSV_CONVERTERS:
        if converter.matches(headings):
            conversion = converter.convert(headings, rows, ctx)
            conversion.problems[:0] = rows.problems
            return converter.name, conversion
    raise InputError(
        f"{ctx.file}: the headings ({', '.join(headings) or 'none'}) match no CSV layout we "
        "know. A practice file needs at least a Title column; street-level crime files have "
        "the 12 data.police.uk columns; see docs/loading.md."
    )


def read_json(text: IO[str], ctx: ReadContext) -> tuple[str, Conversion]:
    """Convert JSON with the first converter whose shape matches. An array of practice
    records is converted as it is read, a record at a time; any other document (the
    data.police.uk forces list, a force's details) is small and is read whole."""
    document = JsonDocument(text, file=ctx.file, limits=ctx.limits)
    if document.start_array():
        elements = document.elements()
        first = next(elements, None)
        if first is not None and is_practice(first[1]):
            return "practices-json", convert_json_records(
                itertools.chain([first], elements), ctx, document.problems)
        whole = ([first[1]] if first is not None else []) + document.gather(elements)
    else:
        whole = document.single()
    for converter in JSON_CONVERTERS:
        if converter.matches(whole):
            return converter.name, converter.convert(whole, ctx)
    raise InputError(
        f"{ctx.file}: this JSON is neither practice records (objects with a \"title\"; "
        "docs/practice.schema.json) nor data.police.uk force data (a forces list of "
        "{\"id\", \"name\"}, or one force's details)."
    )


def read_file(path: Path, *, format: str | None = None, graph_name: str = "data",
              by_lsoa: bool = False, limits: ReadLimits = DEFAULT_LIMITS
              ) -> tuple[str, Conversion]:
    """Read ``path`` into RDF held in memory (for ``convert``, tests and small files)."""
    name, conversion = read_input(path, format=format, graph_name=graph_name, by_lsoa=by_lsoa,
                                  limits=limits)
    if conversion.rdf is not None:
        stream, fmt = conversion.rdf
        try:
            conversion.rdf = (stream.read(), fmt)
        finally:
            stream.close()
    return name, conversion


def read_rdf(data: bytes, fmt: formats.Format) -> Conversion:
    """RDF bytes as a conversion (for bundled files)."""
    return Conversion(rdf=(data, fmt.rdf_format))
