"""Progress bars for long loads: shown on a terminal after one second, silent otherwise.

A load reports progress in two units: bytes read from the file (while it is parsed and
bulk-loaded) and focus nodes validated. ``Progress`` wraps tqdm so that library code only
calls ``progress.reader(stream, total)`` and ``progress.step(n)``; with no terminal (tests,
pipes, CI) nothing is drawn and the calls cost nothing.
"""

from __future__ import annotations

import sys
from typing import IO

from tqdm import tqdm

#: Loads shorter than this never show a bar.
DELAY_SECONDS = 1.0


class Progress:
    """One bar at a time on stderr, if stderr is a terminal (or ``enabled`` says so)."""

    def __init__(self, label: str = "", *, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: tqdm | None = None

    def stage(self, what: str, total: int | None, unit: str = "it") -> None:
        """Start a new bar for one stage of the load (closing the previous one)."""
        self.close()
        if self.enabled:
            self._bar = tqdm(total=total, desc=f"{self.label} {what}".strip(), unit=unit,
                             unit_scale=True, delay=DELAY_SECONDS, leave=False,
                             file=sys.stderr)

    def step(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def reader(self, stream: IO[bytes], total: int | None, what: str = "reading") -> IO[bytes]:
        """``stream``, counting the bytes read from it on a bar."""
        if not self.enabled:
            return stream
        self.stage(what, total, unit="B")
        return _Counting(stream, self)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Counting:
    """A binary stream that reports how much has been read from it."""

    def __init__(self, stream: IO[bytes], progress: Progress) -> None:
        self._stream = stream
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._progress.step(len(data))
        return data

    def readinto(self, buffer) -> int:
        n = self._stream.readinto(buffer)
        self._progress.step(n or 0)
        return n

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


QUIET = Progress(enabled=False)
