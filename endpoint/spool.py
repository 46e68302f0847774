"""Answers gathered whole before they are sent (large query answers in formats a cut copy of
which still parses, and Graph Store GETs).

Why not pass chunks on as they come: granian ends a WSGI body that fails half-way with a
well-formed final chunk, so a client would take an answer cut by the deadline for a complete
one (the very fault of ``oxigraph serve --timeout-s``): CSV, TSV, N-Triples, Turtle and the
XML formats (Oxigraph's XML parsers accept unclosed tags at the end) all parse when cut at
the right place. Gathering first means such a 200 carries its exact Content-Length, and an
answer that cannot be finished within its deadline is a 504, never a silently short 200. The
price is that the first byte of a large answer leaves when its last byte is ready. JSON
answers, which no parser accepts cut short, stream instead (:class:`~.workers._Stream`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

from .jobs import CHUNK

#: A large answer is kept in memory up to this many bytes, then in a temporary file.
SPOOL_MEMORY = 8 * 1024 * 1024


class Spool:
    """A large answer kept whole before it is sent: in memory up to :data:`SPOOL_MEMORY`
    bytes, then in a temporary file, and sent in :data:`~.jobs.CHUNK`-byte pieces. It is a
    file-like sink (``write``) for pyoxigraph's serialisers and a WSGI body (iterable, with
    ``close``)."""

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY, prefix="pb-answer-")
        self.length = 0

    def write(self, data: bytes) -> int:
        self.file.write(data)
        self.length += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def ready(self) -> Spool:
        self.file.seek(0)
        return self

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.file.read(CHUNK):
            yield chunk
        self.close()  # sent whole: nothing to wait for (servers also call close())

    def close(self) -> None:
        self.file.close()
