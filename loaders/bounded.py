"""A binary input stream that stops, with a clear error, once a file breaks a read limit.

Every file a loader reads (RDF for Oxigraph, CSV and JSON for the converters) comes through
a :class:`BoundedStream` wrapped around the file or its decompressor. Counting as the bytes
go by is what makes the limits hold *while* reading: a gzip bomb stops after the limit,
not after inflating everything, and a line with no end stops at ``max_line_bytes`` rather
than when the parser has buffered it whole. The checks are C-speed scans of each chunk
(``rfind``, ``count``, one regular expression), so a stream costs little more than the
decompressor under it.

Files that Oxigraph reads itself by path (the fast way to load an uncompressed file, see
:mod:`.load`) never pass through a stream; :func:`check_file` runs the same checks on them
first, through ``mmap``.
"""

from __future__ import annotations

import gzip
import io
import mmap
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO

from .limits import (
    XML_DECLARATION,
    InputRefused,
    ReadLimits,
    format_size,
    how_to_raise,
    refused,
    xml_declaration_message,
    xml_encoding_message,
    xml_encoding_problem,
)

#: The compression ratio is checked only past this many decompressed bytes: the first
#: blocks of a small file can compress far better than the whole.
RATIO_CHECKED_FROM = 16 * 1024 * 1024
#: Bytes kept from the end of one chunk to find a declaration cut in two ("<!DOCTYPE").
_TAIL = 8
_LINE_ENDS = (b"\n", b"\r")


def overlong_line(data, run: int, limit: int, start: int = 0, end: int | None = None
                  ) -> tuple[int, int | None]:
    """Whether ``data[start:end]``, after a line already ``run`` bytes long, holds a line
    longer than ``limit``. Returns (the length of the line still open at the end, the offset
    where the first overlong line passes the limit or None).

    It jumps to the last line end within reach of the limit instead of splitting lines, so
    it looks at each stretch once and needs a Python step only per ``limit`` bytes; it works
    on ``bytes`` and on ``mmap`` alike."""
    end = len(data) if end is None else end
    pos = start
    while True:
        reach = pos + (limit - run) + 1  # the line open at ``pos`` must end before here
        if reach > end:
            last = max(data.rfind(b"\n", pos, end), data.rfind(b"\r", pos, end))
            return (run + end - pos if last == -1 else end - last - 1), None
        last = max(data.rfind(b"\n", pos, reach), data.rfind(b"\r", pos, reach))
        if last == -1:
            return run + reach - pos, reach - 1
        pos, run = last + 1, 0


class BoundedStream(io.BufferedIOBase):
    """``stream``, read through checks: the decompressed size, the compression ratio (when
    ``compressed`` gives the compressed bytes read so far), the length of lines (``lines``,
    for N-Triples and N-Quads) and XML declarations (``xml``, for RDF/XML). A failed check
    raises :class:`InputRefused` naming ``file`` and, where it helps, the line."""

    def __init__(self, stream: IO[bytes], *, file: str, limits: ReadLimits,
                 compressed: Callable[[], int] | None = None, lines: bool = False,
                 xml: bool = False) -> None:
        super().__init__()
        self._stream = stream
        self._file = file
        self._limits = limits
        self._compressed = compressed
        self._lines = lines
        self._xml = xml
        self._read = 0
        self._newlines = 0   # "\n" seen before the current chunk, for line numbers
        self._run = 0        # length of the line still open
        self._tail = b""
        self._head = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:  # everything, in pieces, so the checks still hold
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        try:
            data = self._stream.read(size)
        except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
            raise refused(f"Not a valid gzip file ({exc}). Download it again, or remove the "
                          ".gz from its name if it is not compressed.", self._file) from exc
        if data:
            self._check(data)
        return data

    def read1(self, size: int = -1) -> bytes:
        return self.read(size if size is not None and size >= 0 else io.DEFAULT_BUFFER_SIZE)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            super().close()

    def _check(self, data: bytes) -> None:
        limits = self._limits
        self._read += len(data)
        if self._read > limits.max_file_bytes:
            raise refused(
                f"Larger than {limits.shown('max_file_bytes')} once decompressed, the most "
                "one input file may be. Split it into smaller files, or, if it is genuine, "
                f"{how_to_raise('max_file_bytes')}.", self._file)
        if self._compressed is not None and self._read > RATIO_CHECKED_FROM:
            ratio = self._read // max(1, self._compressed())
            if ratio > limits.max_compression_ratio:
                raise refused(
                    f"Expands {ratio:,} times when decompressed ({format_size(self._read)} "
                    f"so far), more than the limit of {limits.shown('max_compression_ratio')}: "
                    "real data compresses far less, so this looks like a decompression bomb. "
                    f"Only if you trust the file, {how_to_raise('max_compression_ratio')}.",
                    self._file)
        if self._xml:
            self._check_xml(data)
        if self._lines:
            self._run, over = overlong_line(data, self._run, limits.max_line_bytes)
            if over is not None:
                line = self._newlines + data.count(b"\n", 0, over) + 1
                raise too_long_line(self._file, line, limits)
        if self._lines or self._xml:
            self._newlines += data.count(b"\n")

    def _check_xml(self, data: bytes) -> None:
        if len(self._head) < 64:  # the encoding shows in the first bytes
            self._head += data[:64 - len(self._head)]
            problem = xml_encoding_problem(self._head)
            if problem is not None:
                raise refused(xml_encoding_message("This RDF/XML file", problem), self._file)
        window = self._tail + data
        match = XML_DECLARATION.search(window)
        if match is not None:
            line = self._newlines - self._tail.count(b"\n") + window.count(
                b"\n", 0, match.start()) + 1
            message = xml_declaration_message("This RDF/XML file", match.group(1).decode(), line)
            raise refused(message, self._file, row=line, row_label="line")
        self._tail = window[-_TAIL:]


def too_long_line(file: str, line: int, limits: ReadLimits) -> InputRefused:
    return refused(
        f"Line {line:,} is longer than {limits.shown('max_line_bytes')}, the longest line "
        "allowed. A line this long is usually a file without line breaks, or one not in the "
        f"format its name says: check the file, or {how_to_raise('max_line_bytes')}.",
        file, row=line, row_label="line")


def check_file(path: Path, *, file: str, limits: ReadLimits, lines: bool = False,
               xml: bool = False) -> None:
    """The checks of :class:`BoundedStream`, on an uncompressed file that Oxigraph will
    read itself: its size, then (through mmap, at memory speed, holding nothing) its lines
    or its XML declarations."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise refused(f"Larger than {limits.shown('max_file_bytes')}, the most one input file "
                      "may be. Split it into smaller files, or, if it is genuine, "
                      f"{how_to_raise('max_file_bytes')}.", file)
    if size == 0 or not (lines or xml):
        return
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
        if xml:
            problem = xml_encoding_problem(view[:64])
            if problem is not None:
                raise refused(xml_encoding_message("This RDF/XML file", problem), file)
            match = XML_DECLARATION.search(view)
            if match is not None:
                line = _count_newlines(view, match.start()) + 1
                message = xml_declaration_message("This RDF/XML file",
                                                  match.group(1).decode(), line)
                raise refused(message, file, row=line, row_label="line")
        if lines:
            _, over = overlong_line(view, 0, limits.max_line_bytes)
            if over is not None:
                raise too_long_line(file, _count_newlines(view, over) + 1, limits)


def _count_newlines(view: mmap.mmap, end: int, block: int = 8 << 20) -> int:
    """Line breaks before ``end``, counted a block at a time (a slice of an mmap copies)."""
    return sum(view[i:min(i + block, end)].count(b"\n") for i in range(0, end, block))
