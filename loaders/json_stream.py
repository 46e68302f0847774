"""JSON and JSON Lines read a record at a time, within the read limits.

``json.load`` holds the whole text and then every object of it (a 200 MB file took 1.3 GB),
recurses once per level of nesting (100,000 levels end in a RecursionError), and keeps the
last of two equal keys without a word. Here:

* a JSON array is read one element at a time through a window of the text: a regular
  expression skips strings and plain values, so Python only looks at brackets, and finds
  where each element ends; the standard decoder then parses just that element
  (``raw_decode`` on the window, no copy). Memory is bounded by ``max_record_bytes``.
* nesting deeper than ``max_json_depth`` is refused while scanning, before the decoder sees
  it, so the decoder's recursion is bounded too.
* every object goes through :func:`unique_keys`, which refuses a key given twice.

Both readers name the record (JSON: ``record 3``, pointer ``/2``; JSON Lines: ``line 3``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import IO, Any

from practicebank.problems import ERROR, Problem

from .bounded import too_long_line
from .conversion import json_locate, jsonl_locate
from .limits import InputRefused, ReadLimits, how_to_raise, refused


class JsonInputError(ValueError):
    """The text is not JSON (or a line of a JSON Lines file is not)."""


class DuplicateKey(ValueError):
    """An object gives the same key twice."""

    def __init__(self, key: str) -> None:
        super().__init__(f"duplicate key {key!r}")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` that refuses a key given twice (``json`` keeps the last)."""
    record = dict(pairs)
    if len(record) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return record


#: Everything up to the next bracket: runs of other characters and whole strings. It stops
#: at a bracket, at the end, or at the quote of a string that the window cuts short.
_SKIP = re.compile(r'(?:[^"\[\]{}]+|"[^"\\]*(?:\\.[^"\\]*)*")*', re.DOTALL)
_SPACE = re.compile(r"[ \t\n\r]*")
_DELIMITERS = frozenset(",]} \t\n\r")
_DECODER = json.JSONDecoder(object_pairs_hook=unique_keys)
#: Characters read from the text at a time.
CHUNK = 1 << 16


def too_deep(file: str, limits: ReadLimits, **where: Any) -> InputRefused:
    return refused(
        f"JSON nested more than {limits.shown('max_json_depth')} levels deep, the most "
        "allowed. Practice records and data.police.uk documents need 3, and deeper nesting "
        f"is refused before it is parsed: check the file, or {how_to_raise('max_json_depth')}.",
        file, **where)


def duplicate_key_problem(key: str, file: str, where: dict) -> Problem:
    return Problem(
        ERROR, f"The key \"{key}\" appears twice in one object. JSON readers keep only one of "
        "the two values (which one differs between them), so the record is ambiguous: "
        "remove one of them.", file, **{**where, "column": key})


def depth_overrun(text: str, limit: int, start: int = 0) -> bool:
    """Whether ``text`` (complete JSON) nests arrays and objects more than ``limit`` deep.
    Counting brackets first spares the scan for nearly every record."""
    if text.count("[", start) + text.count("{", start) <= limit:
        return False
    level, pos, end = 0, start, len(text)
    while (pos := _SKIP.match(text, pos).end()) < end:
        if text[pos] in "[{":
            level += 1
            if level > limit:
                return True
        elif text[pos] in "]}":
            level -= 1
        pos += 1
    return False


class JsonDocument:
    """One JSON document on a text stream, read a value at a time through a window."""

    def __init__(self, text: IO[str], *, file: str, limits: ReadLimits) -> None:
        self._text = text
        self.file = file
        self.limits = limits
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._lines_before = 0   # line breaks in the text dropped from the window
        self._column_base = 0    # the column of the window's first character
        self._chars = 0          # characters read so far
        #: Records left out of :meth:`elements` (a key given twice), as errors.
        self.problems: list[Problem] = []

    # -- the window ------------------------------------------------------------------------

    def _more(self) -> bool:
        """Read another chunk into the window; False at the end of the text. Only what is
        before the current position is ever dropped from the window."""
        if self._eof:
            return False
        chunk = self._text.read(CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._chars += len(chunk)
        if self._pos > CHUNK:  # drop what has been read, keeping track of positions
            newline = self._buf.rfind("\n", 0, self._pos)
            self._column_base = (self._column_base + self._pos if newline == -1
                                 else self._pos - newline - 1)
            self._lines_before += self._buf.count("\n", 0, self._pos)
            self._buf, self._pos = self._buf[self._pos:] + chunk, 0
        else:
            self._buf += chunk
        return True

    def _peek(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self._pos = _SPACE.match(self._buf, self._pos).end()
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._more():
                return ""

    def _not_json(self, message: str, at: int | None = None) -> JsonInputError:
        at = self._pos if at is None else at
        line = self._lines_before + self._buf.count("\n", 0, at) + 1
        newline = self._buf.rfind("\n", 0, at)
        column = (self._column_base + at if newline == -1 else at - newline - 1) + 1
        return JsonInputError(f"{self.file} is not JSON: {message} at line {line}, column "
                              f"{column}.")

    # -- values ----------------------------------------------------------------------------

    def _value(self, depth: int, where: dict) -> Any:
        """Parse the value at the current position, nested in ``depth`` containers. Raises
        :class:`DuplicateKey` after moving past the value, so the caller may go on."""
        start = self._pos
        if self._buf[start] not in "[{":
            return self._scalar(where)
        allowed = self.limits.max_json_depth - depth
        level, pos = 0, start
        while True:
            while (pos := _SKIP.match(self._buf, pos).end()) < len(self._buf):
                char = self._buf[pos]
                if char == '"':
                    break  # a string the window cuts short: read on, then scan it again
                level += 1 if char in "[{" else -1
                pos += 1
                if level > allowed:
                    raise too_deep(self.file, self.limits, **where)
                if level == 0:
                    return self._decode(start, pos)
            if len(self._buf) - start > self.limits.max_record_bytes:
                raise self._too_large(where)
            if not self._more():
                raise self._not_json("the text ends inside a value", len(self._buf))
            pos -= start - self._pos  # the window may have dropped what was before ``start``
            start = self._pos

    def _decode(self, start: int, end: int) -> Any:
        """Decode the value that the scan found at ``start:end`` (in place, no copy)."""
        try:
            value, stop = _DECODER.raw_decode(self._buf, start)
        except DuplicateKey:
            self._pos = end
            raise
        except json.JSONDecodeError as exc:
            raise self._not_json(exc.msg, exc.pos) from exc
        self._pos = stop
        return value

    def _scalar(self, where: dict) -> Any:
        """A string, number, true, false or null, read whole even where the window cuts it."""
        while True:
            try:
                value, stop = _DECODER.raw_decode(self._buf, self._pos)
                # "12" of "12.5" also decodes: done only where a delimiter follows
                ended = stop < len(self._buf) and self._buf[stop] in _DELIMITERS
                if ended or not self._more_for_scalar(where):
                    self._pos = stop
                    return value
            except json.JSONDecodeError as exc:
                cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(self._buf) - 8
                if not cut or not self._more_for_scalar(where):
                    raise self._not_json(exc.msg, exc.pos) from exc

    def _more_for_scalar(self, where: dict) -> bool:
        if len(self._buf) - self._pos > self.limits.max_record_bytes:
            raise self._too_large(where)
        return self._more()

    def _too_large(self, where: dict) -> InputRefused:
        return refused(
            f"A JSON value larger than {self.limits.shown('max_record_bytes')}, the largest "
            "record allowed. Each element of a JSON array, and any JSON document that is not "
            "a list of practice records, must fit: split the file (or write it as JSON "
            f"Lines), or {how_to_raise('max_record_bytes')}.",
            self.file, **where)

    def _end(self) -> None:
        if self._peek() != "":
            raise self._not_json("Extra data after the document")

    # -- the document ----------------------------------------------------------------------

    def start_array(self) -> bool:
        """Whether the document is an array; if it is, move into it (see :meth:`elements`)."""
        char = self._peek()
        if char == "":
            raise self._not_json("Expecting value (the file is empty)")
        if char == "[":
            self._pos += 1
            return True
        return False

    def elements(self) -> Iterator[tuple[int, Any]]:
        """(record number from 1, value) for each element of the array. An element with a
        key given twice is left out, with an error in :attr:`problems`."""
        number = 0
        char = self._peek()
        while char != "]":
            number += 1
            where = json_locate(number, None)
            if char == "":
                raise self._not_json("the text ends inside the array", len(self._buf))
            try:
                yield number, self._value(1, where)
            except DuplicateKey as exc:
                self.problems.append(duplicate_key_problem(exc.key, self.file, where))
            char = self._peek()
            if char == ",":
                self._pos += 1
                char = self._peek()
                if char == "]":
                    raise self._not_json("Expecting value (a comma before the ']')")
            elif char != "]":
                raise self._not_json("Expecting ',' delimiter")
        self._pos += 1
        self._end()

    def single(self) -> Any:
        """The document as one value, when it is not an array: held to ``max_record_bytes``."""
        try:
            value = self._value(0, {})
        except DuplicateKey as exc:
            raise InputRefused(duplicate_key_problem(exc.key, self.file, {})) from exc
        self._end()
        return value

    def gather(self, elements: Iterator[tuple[int, Any]]) -> list[Any]:
        """The rest of an array as a list, for arrays that are not streams of practice
        records (a data.police.uk forces list): held to ``max_record_bytes`` in all, and
        refused at a key given twice."""
        values = []
        for _, value in elements:
            values.append(value)
            if self._chars > self.limits.max_record_bytes:
                raise self._too_large({})
        if self.problems:
            raise InputRefused(self.problems[0])
        return values


def json_lines(text: IO[str], *, file: str, limits: ReadLimits,
               problems: list[Problem]) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each line of a JSON Lines file that is not blank. A line
    with a key given twice is left out, with an error added to ``problems``."""
    limit = limits.max_line_bytes
    number = 0
    while line := text.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith(("\n", "\r")):
            raise too_long_line(file, number, limits)
        if not line.strip():
            continue
        where = jsonl_locate(number, None)
        if depth_overrun(line, limits.max_json_depth):
            raise too_deep(file, limits, **where)
        try:
            yield number, _DECODER.decode(line)
        except DuplicateKey as exc:
            problems.append(duplicate_key_problem(exc.key, file, where))
        except json.JSONDecodeError as exc:
            raise JsonInputError(f"{file}, line {number}: not JSON ({exc.msg} at column "
                                 f"{exc.colno}). Each line of a JSON Lines file is one "
                                 "JSON object.") from exc
