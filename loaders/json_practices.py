"""Practice records as JSON (an array of objects, or one object) and JSON Lines (one object a
line), checked against the published JSON Schema ``docs/practice.schema.json`` first.

Each schema error is reported with its record (or line) and a JSON Pointer to the value, so
``/3/rating`` is the rating of the fourth record. A record that breaks the schema is not
converted; the others are, so one run reports every problem. Fields that hold personal data
are dropped with a warning before the schema sees them. Records then go through the same
converter as CSV rows (:class:`~practicebank.loaders.practices_csv.PracticeConverter`).

The schema is version 2, a superset of version 1: a version 1 record is valid as it is.
Where JSON is more natural than a CSV cell, a version 2 field also takes objects: ``ratings``
items ``{"rating", "date", "rated_by"}``, participants ``{"name", "roles",
"partner_types"}``; numbers (``tilley_year``, ``star_amount_gbp``, ``cost_gbp``) may be
JSON numbers. Either way the converter sees what a CSV cell would hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import IO

import fastjsonschema
from jsonschema import Draft202012Validator

from practicebank.personal import dropped_field, is_personal_field
from practicebank.problems import ERROR, Problem
from practicebank.resources import data_file

from .conversion import Conversion, Locate, ReadContext, json_locate, jsonl_locate
from .json_stream import json_lines
from .practices_csv import PracticeConverter

SCHEMA_FILE = "practice.schema.json"


@lru_cache(maxsize=1)
def schema() -> dict:
    """The practice JSON Schema, bundled in the package (docs/ has the published copy)."""
    return json.loads(data_file(SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def validator() -> Draft202012Validator:
    """The reference validator: slow, but lists every error with its path."""
    return Draft202012Validator(schema())


@lru_cache(maxsize=1)
def quick_check():
    """The schema compiled to Python by fastjsonschema (about ten times faster): it only
    says whether a record is valid, so the reference validator explains the invalid ones."""
    return fastjsonschema.compile(schema())


def schema_errors(record: object) -> list:
    """The schema errors of one record, sorted by path (none for a valid record)."""
    try:
        quick_check()(record)
        return []
    except fastjsonschema.JsonSchemaException:
        return sorted(validator().iter_errors(record), key=lambda e: list(e.path))


def is_practice(document: object) -> bool:
    """An object with a title, or an array of objects whose first one has a title."""
    first = document[0] if isinstance(document, list) and document else document
    return isinstance(first, dict) and "title" in first


def convert_json(document: object, ctx: ReadContext) -> Conversion:
    """One practice record, or a list of them, already parsed."""
    records = document if isinstance(document, list) else [document]
    return convert_records(enumerate(records, start=1), ctx, json_locate)


def convert_json_records(records: Iterable[tuple[int, object]], ctx: ReadContext,
                         problems: list[Problem]) -> Conversion:
    """(record number, record) pairs as a JSON array is read (:mod:`.json_stream`);
    ``problems`` are the reader's, complete once the records are."""
    return convert_records(records, ctx, json_locate, problems)


def convert_jsonl(text: IO[str], ctx: ReadContext) -> Conversion:
    """A JSON Lines file, a line at a time."""
    problems: list[Problem] = []
    lines = json_lines(text, file=ctx.file, limits=ctx.limits, problems=problems)
    return convert_records(lines, ctx, jsonl_locate, problems)


def convert_records(records: Iterable[tuple[int, object]], ctx: ReadContext,
                    locate: Locate, read_problems: list[Problem] | None = None) -> Conversion:
    """Check each record against the schema, then convert the good ones. ``read_problems``
    are the reader's (records it left out), read once the records have been."""
    problems: list[Problem] = []

    def checked() -> Iterator[tuple[int, Mapping[str, object]]]:
        for number, record in records:
            if isinstance(record, dict):
                record = dict(record)
                for key in [k for k in record if is_personal_field(k)]:
                    del record[key]
                    problems.append(dropped_field(key, ctx.file, **locate(number, key)))
            errors = schema_errors(record)
            for error in errors:
                problems.append(schema_problem(error, number, ctx.file, locate))
            if not errors:
                yield number, record

    converter = PracticeConverter(file=ctx.file)
    out = converter.convert_records(checked(), ctx.graph_name)
    out.locate = locate
    out.problems = list(read_problems or []) + problems + [
        replace(p, **locate(p.row, p.column)) if p.row is not None else p
        for p in out.problems
    ]
    return out


def schema_problem(error, number: int, file: str, locate: Locate) -> Problem:
    path = [str(part) for part in error.absolute_path]
    field = path[0] if path else None
    where = locate(number, field)
    if where.get("pointer") is not None and len(path) > 1:
        where["pointer"] += "".join(f"/{part}" for part in path[1:])
    value = error.instance if isinstance(error.instance, str | int | float | bool) else None
    return Problem(ERROR, f"Not a valid practice record: {error.message}.", file,
                   value=None if value is None else str(value), **where)
