"""How much of a file the loaders will read, declared once as data, and what they refuse.

An input file is untrusted: a 1 KB RDF/XML file can declare entities that expand to
gigabytes ("billion laughs"), a 1 MB gzip can hold a gigabyte of zeros, and a file with no
line breaks makes a line-by-line reader hold all of it. So every reader works through a
:class:`ReadLimits`, which bounds the decompressed size of a file, the length of a line, a
row or record, a CSV cell and JSON nesting; breaking one stops the read with an
:class:`InputRefused` that names the file (and the line, row or record) and the setting that
raises the limit. The defaults are far above any real input (see each field's help), so
only absurd or hostile files meet them.

Each limit is a ``load``/``validate``/``convert`` flag (``--max-file-bytes 8G``) and an
environment variable (``PRACTICEBANK_MAX_FILE_BYTES``); :func:`click_options` makes both from
the fields below and docs/loading.md ("Limits") lists them (a test keeps them in step).

RDF/XML is refused outright when it declares a DTD (:func:`refuse_xml_declarations`):
Oxigraph's RDF/XML parser expands internal entities, even from a ``<!DOCTYPE>`` that appears
after the root element, so the check looks at the whole document, not only the prolog.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import click

from practicebank.problems import ERROR, Problem, ValidationFailed

ENV_PREFIX = "PRACTICEBANK_"
KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def _limit(default: int, help: str, why: str, *, size: bool = True) -> Any:
    """A field of :class:`ReadLimits`: its default, the help its flag shows and why the
    default is what it is (for docs/loading.md)."""
    return field(default=default, metadata={"help": help, "why": why, "size": size})


@dataclass(frozen=True)
class ReadLimits:
    """The most the loaders read of one input; every reader is handed one of these.

    Sizes are bytes of the decompressed file; for CSV and JSON, which are read as text,
    lines, rows, records and cells are counted in characters (the same as bytes for ASCII,
    and never more than the bytes in UTF-8).
    """

    max_file_bytes: int = _limit(
        4 * GiB, "Largest input file, once decompressed.",
        "Real inputs are far smaller: 100,000 practices as N-Triples are about 320 MB, and a "
        "street-level crime row is about 250 bytes, so even a month of the largest force "
        "(roughly 100,000 rows) is some 25 MB. Oxigraph parses about 30 MB a second, so a "
        "file at the limit still loads in under three minutes; past it, a file is far more "
        "likely a mistake or an attack than data.")
    max_compression_ratio: int = _limit(
        100, "Most a .gz file may expand (decompressed bytes per compressed byte).",
        "Checked once 16 MiB have been decompressed. Real data compresses 4 to 25 times "
        "(measured with gzip -6: street-level crime 4, practices as CSV 10, as JSON Lines 13, "
        "as N-Triples 22); a gzip of zeros expands about 1,000 times, and one of a single "
        "line repeated some 300 times, so such a bomb stops after 16 MiB instead of at the "
        "file limit.",
        size=False)
    max_line_bytes: int = _limit(
        1 * MiB, "Longest line of N-Triples, N-Quads, JSON Lines or CSV.",
        "A street-level crime row is about 250 bytes and a practice record a few KB. A "
        "longer line is a file with no line breaks (or not in the format its name says), "
        "which a line reader would otherwise hold whole.")
    max_record_bytes: int = _limit(
        1 * MiB, "Largest CSV row, JSON array element or other JSON document.",
        "A CSV row can run over many lines inside quotes, and JSON may have no line breaks "
        "at all, so records need their own bound. Practice records are a few KB, and so are "
        "the JSON documents read whole (the data.police.uk forces list: some 45 forces of "
        "about 60 bytes; one force's details).")
    max_cell_bytes: int = _limit(
        128 * KiB, "Largest CSV cell.",
        "Python's own csv limit, kept, but now reported with its row and column. The "
        "longest real cell, a practice summary, is under 2 KB; a huge cell is nearly always "
        "a quote left open, which makes the rest of the file one cell.")
    max_json_depth: int = _limit(
        64, "Deepest nesting of JSON arrays and objects.",
        "The array of records counts as one level. Practice records and data.police.uk "
        "documents need 3. Nesting is counted before the JSON is parsed, so 100,000 levels "
        "cannot exhaust the parser's stack (they ended in a RecursionError).",
        size=False)

    def __post_init__(self) -> None:
        for limit in dataclasses.fields(self):
            value = getattr(self, limit.name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{flag(limit.name)} must be a whole number of at least 1, "
                                 f"not {value!r}.")

    def shown(self, name: str) -> str:
        """A limit's value as messages show it: ``4 GiB``, ``64``."""
        value = getattr(self, name)
        return format_size(value) if _is_size(name) else f"{value:,}"


def how_to_raise(name: str) -> str:
    """The end of a message that refuses an input: the two ways to change the limit."""
    return f"raise the limit with {flag(name)} (or {env(name)})"


def _is_size(name: str) -> bool:
    return ReadLimits.__dataclass_fields__[name].metadata["size"]


def flag(name: str) -> str:
    """The command-line flag of a limit: ``max_file_bytes`` -> ``--max-file-bytes``."""
    return "--" + name.replace("_", "-")


def env(name: str) -> str:
    """The environment variable of a limit: ``PRACTICEBANK_MAX_FILE_BYTES``."""
    return ENV_PREFIX + name.upper()


_SIZE = re.compile(r"^\s*(\d+)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": KiB, "m": MiB, "g": GiB, "t": 1024 * GiB}


def parse_size(text: str | int) -> int:
    """``"512M"``, ``"4GiB"``, ``"128k"`` or ``"1048576"`` as bytes (units are powers of
    1024, as the defaults are)."""
    if isinstance(text, int):
        return text
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size: write a number of bytes, or one with K, M "
                         "or G after it (512M, 4G).")
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


def format_size(n: int) -> str:
    """Bytes as the largest whole unit: ``4 GiB``, ``128 KiB``, ``1000 bytes``."""
    for unit, size in (("TiB", 1024 * GiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n % size == 0:
            return f"{n // size:,} {unit}"
    return f"{n:,} bytes"


class _SizeType(click.ParamType):
    name = "SIZE"

    def convert(self, value, param, ctx):
        try:
            return parse_size(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def click_options(f: Callable) -> Callable:
    """One option per limit, each also read from its environment variable (the flag wins).
    The command receives them as keyword arguments; :func:`from_flags` makes the limits."""
    for limit in reversed(dataclasses.fields(ReadLimits)):
        default = limit.default
        shown = format_size(default) if limit.metadata["size"] else str(default)
        f = click.option(
            flag(limit.name), limit.name, envvar=env(limit.name), default=None,
            type=_SizeType() if limit.metadata["size"] else click.IntRange(min=1),
            help=f"{limit.metadata['help']} [default: {shown}; env {env(limit.name)}]",
        )(f)
    return f


def from_flags(flags: Mapping[str, Any]) -> ReadLimits:
    """The limits a command was given (flags or environment), the defaults for the rest."""
    names = {limit.name for limit in dataclasses.fields(ReadLimits)}
    return ReadLimits(**{k: v for k, v in flags.items() if k in names and v is not None})


DEFAULT_LIMITS = ReadLimits()


def markdown_table() -> str:
    """The limits as the table in docs/loading.md ("Limits"); a test keeps the two equal."""
    lines = ["| limit | flag | environment variable | default | why this default |",
             "| --- | --- | --- | --- | --- |"]
    for limit in dataclasses.fields(ReadLimits):
        lines.append(f"| {limit.metadata['help']} | `{flag(limit.name)}` | "
                     f"`{env(limit.name)}` | {DEFAULT_LIMITS.shown(limit.name)} | "
                     f"{limit.metadata['why']} |")
    return "\n".join(lines) + "\n"


class InputRefused(ValidationFailed):
    """An input broke a limit, or holds something we never parse: reading stops at once and
    the load changes nothing. ``problem`` says where (file, line, row or record, field)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.problem.where()}: {self.problem.message}"


def refused(message: str, file: str, **where: Any) -> InputRefused:
    """An :class:`InputRefused` with one error at ``where`` (row, column, row_label…)."""
    return InputRefused(Problem(ERROR, message, file, **where))


# -- RDF/XML: no DTDs ----------------------------------------------------------------------------

#: What starts a DTD or an entity declaration, in any case. Quick-xml (Oxigraph's XML parser)
#: expands the internal entities of a DOCTYPE wherever it appears, not only in the prolog.
XML_DECLARATION = re.compile(rb"<!(doctype|entity)", re.IGNORECASE)

_WIDE_ENCODINGS = (
    (b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16"),
)


def xml_encoding_problem(head: bytes) -> str | None:
    """Why the start of an XML document cannot be read as UTF-8 (a UTF-16 or UTF-32 byte
    order mark, or NUL bytes where markup should be), or None. Oxigraph reads RDF/XML as
    UTF-8 only, and a scan for declarations in bytes would miss them in a wide encoding."""
    for bom, name in _WIDE_ENCODINGS:
        if head.startswith(bom):
            return f"is {name}-encoded"
    if b"\x00" in head[:64]:
        return "is not UTF-8 (it has NUL bytes, as UTF-16 or UTF-32 text has)"
    return None


def xml_declaration_message(where: str, found: str, line: int | None = None) -> str:
    """The sentence that refuses an RDF/XML document with a DTD, and says what to do."""
    at = f" at line {line}" if line is not None else ""
    return (f"{where} has an XML <!{found.upper()}> declaration{at}. RDF/XML with a DOCTYPE or "
            "entity declarations is refused: entities can expand a small file into gigabytes "
            "(\"billion laughs\") or point at other files. RDF/XML needs no DTD: remove it and "
            "write entity references out in full, or send the data as Turtle or N-Triples.")


def xml_encoding_message(where: str, problem: str) -> str:
    return (f"{where} {problem}; RDF/XML is read as UTF-8 only. Save it as UTF-8 (and drop "
            "any encoding=\"UTF-16\" from its XML declaration).")


def refuse_xml_declarations(data: bytes, *, where: str) -> None:
    """Raise ValueError if the RDF/XML document ``data`` declares a DTD or an entity
    (``<!DOCTYPE``, ``<!ENTITY``, any case, anywhere in the document), or is not in an
    encoding whose markup is ASCII (UTF-16 and UTF-32 are refused).

    ``where`` names the document in the message ("the request body", a file name). Call
    it on the whole document before Oxigraph parses it: Oxigraph expands internal entities,
    so an 818-byte document can otherwise store a 300 MB literal.

    >>> refuse_xml_declarations(b'<rdf:RDF xmlns:rdf="..."/>', where="the body")
    >>> refuse_xml_declarations(b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', where="the body")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the body has an XML <!DOCTYPE> declaration at line 1. ...
    """
    problem = xml_encoding_problem(data[:64])
    if problem is not None:
        raise ValueError(xml_encoding_message(where, problem))
    match = XML_DECLARATION.search(data)
    if match is not None:
        line = data.count(b"\n", 0, match.start()) + 1
        raise ValueError(xml_declaration_message(where, match.group(1).decode(), line))
